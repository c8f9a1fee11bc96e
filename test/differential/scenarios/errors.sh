#!/bin/bash
# Bad input: malformed or failing `ip`, `ping`, `nft` and `sysctl` invocations (messages and exit
# codes), and the state before and after them, which must be unchanged.
S=errors
NSS="h1 h2"
# --- common preamble (test/differential/common.sh) ---
. "$(dirname "${BASH_SOURCE[0]}")/../common.sh"

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
