#!/bin/bash
# Forwarding through a router namespace: h1 -- r -- h2 with net.ipv4.ip_forward 0 then 1 (TTL 63
# in the replies), TTL exceeded, no route on the router, `ip route get` with iif; IPv6 with
# net.ipv6.conf.all.forwarding 0 then 1 (hop limit 63, the router flag in h1's neighbour table).
S=router
NSS="h1 r h2"
# --- common preamble: the same in every scenario (differential.test.ts checks) ---
set -u
export LC_ALL=C
P="${DIFF_PREFIX:-d}-$S-" # namespace names are $P<name>: the prefix keeps parallel runs apart
W=$(mktemp -d) && cd "$W" || exit 1
cleanup() {
  local j n
  for j in $(jobs -p); do kill -KILL "$j" 2>/dev/null; done
  for n in $NSS; do ip netns del "$P$n" 2>/dev/null; done
  cd / && rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
# mkns NAME...: namespaces with lo up, for the devices created in them later: IPv6 DAD off
# (link-local addresses usable at once) and no router solicitations (sent at random times; a
# router namespace would learn neighbour entries from them)
mkns() {
  local n c
  for n; do
    ip netns add "$P$n" && ip -n "$P$n" link set lo up || return
    for c in all default; do
      ip netns exec "$P$n" sysctl -q -w "net.ipv6.conf.$c.accept_dad=0" "net.ipv6.conf.$c.router_solicitations=0"
    done
  done
}
# veth NS1 DEV1 MAC1 NS2 DEV2 MAC2: a veth pair between two namespaces, both ends up, one queue
# each (the default number is the host's CPU count)
veth() {
  ip -n "$P$1" link add "$2" address "$3" numtxqueues 1 numrxqueues 1 type veth peer name "$5" \
    address "$6" numtxqueues 1 numrxqueues 1 netns "$P$4" &&
    slow_neigh "$1" "$2" && slow_neigh "$4" "$5" &&
    ip -n "$P$1" link set "$2" up && ip -n "$P$4" link set "$5" up &&
    settle "$1" "$2" UP && settle "$4" "$5" UP
}
# slow_neigh NS DEV: neighbour entries of DEV stay REACHABLE for at least 5 minutes (default: a
# random 15..45 s) and in DELAY for 60 s (default: 5 s, then a probe), so that the states a
# scenario prints follow from the order of events alone, not from how fast the machine runs it
slow_neigh() {
  local f
  for f in ipv4 ipv6; do
    ip netns exec "$P$1" sysctl -q -w "net.$f.neigh.$2.base_reachable_time_ms=600000" \
      "net.$f.neigh.$2.delay_first_probe_time=60"
  done
}
# settle NS DEV STATE: waits until DEV's operational state is STATE; carrier changes reach it
# through linkwatch, which may defer them up to 1 s
settle() {
  local i
  for i in $(seq 40); do
    ip -n "$P$1" -br link show "$2" | grep -q "^[^ ]* *$3 " && return 0
    sleep 0.1
  done
  echo "($1: $2 is not $3 after 4 s)"
}
# on NS CMD...: prints "NS# CMD" and runs CMD in NS: stdout as is, stderr lines as "[stderr] ...",
# a nonzero exit status as "[exit N]"; namespace names are printed without the prefix $P.
on() { run_in cat "$@"; }
# ons NS CMD...: `on` with stdout sorted (from field ${SORTKEY:-1} on): dumps of hash tables
# (neighbours, conntrack) come in an order set by a random per-boot hash seed
ons() { run_in "sort -k${SORTKEY:-1}" "$@"; }
run_in() {
  local filter=$1 n=$2 rc
  shift 2
  echo "$n# $*"
  ip netns exec "$P$n" "$@" >out.txt 2>err.txt
  rc=$?
  sed "s/$P//g" out.txt | $filter
  sed "s/$P//g; s/^/[stderr] /" err.txt
  if [ "$rc" -ne 0 ]; then echo "[exit $rc]"; fi
}
# --- end of the common preamble ---

mkns h1 r h2
veth h1 v0 02:00:00:00:08:01 r r0 02:00:00:00:08:02
veth h2 v0 02:00:00:00:08:04 r r1 02:00:00:00:08:03
ip -n "${P}h1" addr add 10.8.1.2/24 dev v0
ip -n "${P}h1" addr add 2001:db8:81::2/64 dev v0 nodad
ip -n "${P}r" addr add 10.8.1.1/24 dev r0
ip -n "${P}r" addr add 2001:db8:81::1/64 dev r0 nodad
ip -n "${P}r" addr add 10.8.2.1/24 dev r1
ip -n "${P}r" addr add 2001:db8:82::1/64 dev r1 nodad
ip -n "${P}h2" addr add 10.8.2.2/24 dev v0
ip -n "${P}h2" addr add 2001:db8:82::2/64 dev v0 nodad
on h1 ip route add default via 10.8.1.1
on h1 ip -6 route add default via 2001:db8:81::1
on h2 ip route add default via 10.8.2.1
on h2 ip -6 route add default via 2001:db8:82::1
on h1 ip route
on r ip route

echo "== forwarding off"
on r sysctl -w net.ipv4.ip_forward=0
on h1 ping -c1 -W1 10.8.2.2
on h1 ping -c1 -W1 10.8.2.1
on r ip route get 10.8.2.2 from 10.8.1.2 iif r0
echo "== forwarding on"
on r sysctl -w net.ipv4.ip_forward=1
on r sysctl net.ipv4.conf.r0.forwarding net.ipv4.conf.all.forwarding
on h1 ping -c2 -i0.2 -W1 10.8.2.2
on h2 ping -c1 -W1 10.8.1.2
on r ip route get 10.8.2.2 from 10.8.1.2 iif r0
on h1 ip route get 10.8.2.2
echo "== TTL 1: the router answers Time to live exceeded"
on h1 ping -c1 -W1 -t 1 10.8.2.2
echo "== no route on the router"
on h1 ping -c1 -W1 10.8.9.9
on r ip route get 10.8.9.9 from 10.8.1.2 iif r0

echo "== IPv6 forwarding off"
on r sysctl -w net.ipv6.conf.all.forwarding=0
on h1 ping -c1 -W1 2001:db8:82::2
echo "== IPv6 forwarding on"
on r sysctl -w net.ipv6.conf.all.forwarding=1
on h1 ping -c2 -i0.2 -W1 2001:db8:82::2
on h1 ping -c1 -W1 -t 1 2001:db8:82::2
on r ip -6 route get 2001:db8:82::2 from 2001:db8:81::2 iif r0
ons h1 ip neigh show
ons r ip neigh show
ons h2 ip neigh show
