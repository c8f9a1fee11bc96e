#!/bin/bash
# Routes: static routes via a gateway, metrics, default, blackhole/unreachable/prohibit, IPv6
# routes; `ip route get` (also for unroutable destinations); replace/del; routes on a link
# without carrier.
S=routes
NSS="h1 h2"
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

mkns h1 h2
veth h1 v0 02:00:00:00:03:01 h2 v1 02:00:00:00:03:02
ip -n "${P}h1" addr add 10.0.3.1/24 dev v0
ip -n "${P}h1" addr add 2001:db8:3::1/64 dev v0 nodad
ip -n "${P}h2" addr add 10.0.3.2/24 dev v1

echo "== add"
on h1 ip route add 10.10.0.0/16 via 10.0.3.2
on h1 ip route add 10.20.0.0/16 via 10.0.3.2 dev v0 metric 50
on h1 ip route add 10.20.0.0/16 via 10.0.3.3 metric 100
on h1 ip route add default via 10.0.3.254
on h1 ip route add blackhole 10.30.0.0/16
on h1 ip route add unreachable 10.31.0.0/16
on h1 ip route add prohibit 10.32.0.0/16
on h1 ip route add 10.40.0.1 dev v0 src 10.0.3.1
on h1 ip route add 10.50.0.0/24 dev v0 scope link
on h1 ip -6 route add 2001:db8:99::/48 via 2001:db8:3::2
on h1 ip -6 route add default via fe80::ff:fe00:302 dev v0
on h1 ip -6 route add blackhole 2001:db8:98::/48

echo "== show"
on h1 ip route
on h1 ip route show 10.20.0.0/16
on h1 ip route show proto kernel
on h1 ip route show via 10.0.3.2
on h1 ip route show type blackhole
on h1 ip -j route show 10.10.0.0/16
on h1 ip -6 route
on h1 ip -6 route show 2001:db8:99::/48

echo "== get"
for d in 10.0.3.2 10.10.1.1 10.20.1.1 8.8.8.8 10.30.1.1 10.31.1.1 10.32.1.1 10.0.3.1 127.0.0.1 10.40.0.1 10.50.0.9; do
  on h1 ip route get "$d"
done
on h1 ip route get 10.10.1.1 from 10.0.3.1
on h1 ip -j route get 10.10.1.1
on h1 ip -6 route get 2001:db8:99::1
on h1 ip -6 route get 2001:db8:3::2
on h1 ip -6 route get 2001:db8:77::1
on h1 ip -6 route get 2001:db8:98::1

echo "== replace, del"
on h1 ip route replace 10.10.0.0/16 via 10.0.3.3
on h1 ip route replace 10.60.0.0/16 via 10.0.3.2
on h1 ip route del 10.20.0.0/16 metric 100
on h1 ip route del default
on h1 ip route del blackhole 10.30.0.0/16
on h1 ip -6 route del default
on h1 ip route
on h1 ip -6 route

echo "== h2 takes v1 down: routes through v0 are linkdown"
on h2 ip link set v1 down
settle h1 v0 DOWN
on h1 ip route
on h1 ip route get 10.10.1.1
on h1 ip -6 route
