#!/bin/bash
# Bad input: malformed or failing `ip`, `ping`, `nft` and `sysctl` invocations (messages and exit
# codes), and the state before and after them, which must be unchanged.
S=errors
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
veth h1 v0 02:00:00:00:0c:01 h2 v1 02:00:00:00:0c:02
ip -n "${P}h1" addr add 10.0.12.1/24 dev v0
ip -n "${P}h1" addr add 2001:db8:c::1/64 dev v0 nodad
ip -n "${P}h2" addr add 10.0.12.2/24 dev v1
ip -n "${P}h1" route add 10.12.0.0/16 via 10.0.12.2
ip netns exec "${P}h1" nft add table ip t
ip netns exec "${P}h1" nft add chain ip t c "{ type filter hook input priority 0; policy accept; }"

state() {
  on h1 ip -d link show
  on h1 ip addr
  on h1 ip route
  on h1 ip -6 route
  on h1 nft list ruleset
}
echo "== state before"
state

echo "== ip link"
on h1 ip link show nosuch
on h1 ip link set nosuch up
on h1 ip link add v0 type dummy
on h1 ip link add x0 type nosuchkind
on h1 ip link add name
on h1 ip link set v0 mtu 70000
on h1 ip link set v0 mtu 10
on h1 ip link set v0 mtu lots
on h1 ip link set v0 address zz:00
on h1 ip link set v0 bogus
on h1 ip link del lo
on h1 ip link del nosuch
on h1 ip link frobnicate
echo "== ip addr"
on h1 ip addr add 10.0.12.1/24 dev v0
on h1 ip addr add 10.0.12.5/24 dev nosuch
on h1 ip addr add 10.0.12.300/24 dev v0
on h1 ip addr add 10.0.12.5/33 dev v0
on h1 ip addr add 10.0.12.5/24
on h1 ip addr del 10.0.12.77/24 dev v0
on h1 ip -6 addr add 2001:db8:c::1/64 dev v0 nodad
on h1 ip addr show dev nosuch
echo "== ip route"
on h1 ip route add 10.9.0.0/16 via 10.99.0.1
on h1 ip route add 10.0.12.0/24 dev v0
on h1 ip route add 10.12.0.0/16 via 10.0.12.2
on h1 ip route del 10.77.0.0/16
on h1 ip route add 10.9.0.0/16 via 10.0.12.2 dev nosuch
on h1 ip route add 10.9.0.0/40 dev v0
on h1 ip route get 10.0.12.300
on h1 ip route get 192.0.2.1
on h1 ip -6 route get 2001:db8:77::1
echo "== ip neigh"
on h1 ip neigh add 10.0.12.9 lladdr 02:00:00:00:0c:09 dev nosuch
on h1 ip neigh add 10.0.12.9 lladdr zz dev v0
on h1 ip neigh del 10.0.12.9 dev v0
on h1 ip neigh get 10.0.12.9 dev v0
echo "== ip (top level)"
on h1 ip foo
on h1 ip -Z link
on h1 ip -n
echo "== ping"
on h1 ping -c 0 10.0.12.2
on h1 ping -c1 -W1 -s 70000 10.0.12.2
on h1 ping -c1 -W -1 10.0.12.2
on h1 ping -c1 -W1 -i abc 10.0.12.2
on h1 ping -c1 -t 300 10.0.12.2
on h1 ping -c1 -W1 -I nosuch 10.0.12.2
on h1 ping -c1 --bogus 10.0.12.2
on h1 ping -c1 -W1 -4 2001:db8:c::2
on h1 ping -c1 -W1 -6 10.0.12.2
echo "== nft"
on h1 nft add rule ip nosuch c counter
on h1 nft add rule ip t nosuch counter
on h1 nft add rule ip t c ip protocol icmp countr
on h1 nft add chain ip t c2 "{ type filter hook nosuchhook priority 0; }"
on h1 nft list table ip nosuch
on h1 nft delete table ip nosuch
on h1 nft delete rule ip t c handle 999
on h1 nft -f nosuch.nft
on h1 nft -f - <<'NFT'
table ip t {
	chain c {
		ip daddr 10.0.12.0/33 counter
	}
}
NFT
on h1 nft -f - <<'NFT'
add rule ip t c counter
add rule ip t c ip protocol nosuchproto counter
NFT
echo "== sysctl"
on h1 sysctl net.ipv4.nosuch
on h1 sysctl -w net.ipv4.nosuch=1
on h1 sysctl -w net.ipv4.ip_forward=abc
on h1 sysctl -w net.ipv4.ip_forward
on h1 sysctl -w net.ipv4.conf.nosuch.forwarding=1

echo "== state after (unchanged)"
state
