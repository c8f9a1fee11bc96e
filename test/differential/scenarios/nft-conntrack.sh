#!/bin/bash
# nftables and conntrack on a router: h1 -- r -- h2, r with counters in its input, forward and
# output hooks and ct state rules; `nft list ruleset` before/after pings; `conntrack -L`; drop and
# reject rules (ping shows the ICMP error); rule handles; conntrack -F. Every ping has its own fixed
# ICMP identifier (-e; by default a raw-socket ping picks a random one), which conntrack prints.
S=nft-conntrack
NSS="h1 r h2"
# --- common preamble (test/differential/common.sh) ---
. "$(dirname "${BASH_SOURCE[0]}")/../common.sh"

mkns h1 r h2
veth h1 v0 02:00:00:00:0a:01 r r0 02:00:00:00:0a:02
veth h2 v0 02:00:00:00:0a:04 r r1 02:00:00:00:0a:03
ip -n "${P}h1" addr add 10.2.1.2/24 dev v0
ip -n "${P}r" addr add 10.2.1.1/24 dev r0
ip -n "${P}r" addr add 10.2.2.1/24 dev r1
ip -n "${P}h2" addr add 10.2.2.2/24 dev v0
ip -n "${P}h1" route add default via 10.2.1.1
ip -n "${P}h2" route add default via 10.2.2.1
ip netns exec "${P}r" sysctl -q -w net.ipv4.ip_forward=1

echo "== ruleset"
on r nft -f - <<'NFT'
table ip filter {
	chain input {
		type filter hook input priority filter; policy accept;
		ip protocol icmp counter
		counter
	}
	chain forward {
		type filter hook forward priority filter; policy accept;
		ct state new counter
		ct state established counter
		icmp type echo-request counter
		icmp type echo-reply counter
		iifname "r0" oifname "r1" counter
	}
	chain output {
		type filter hook output priority 0; policy accept;
		counter
	}
}
NFT
on r nft list ruleset
on r conntrack -L
echo "== h1 pings h2 (through r) twice, and r once"
on h1 ping -e 4102 -c2 -i0.2 -W1 10.2.2.2
on h1 ping -e 4103 -c1 -W1 10.2.1.1
on r nft list ruleset
on r nft list chain ip filter forward
SORTKEY=4 ons r conntrack -L
on r conntrack -L -p icmp -d 10.2.2.2
on r conntrack -C
on r nft list table ip filter

echo "== drop echo requests to h2"
on r nft insert rule ip filter forward ip daddr 10.2.2.2 icmp type echo-request counter drop
on h1 ping -e 4104 -c1 -W1 10.2.2.2
echo "== reject them with host-prohibited instead"
on r nft -a list chain ip filter forward
on r nft replace rule ip filter forward handle 12 ip daddr 10.2.2.2 icmp type echo-request counter reject with icmp type host-prohibited
on h1 ping -e 4105 -c1 -W1 10.2.2.2
on r nft list chain ip filter forward
echo "== delete the rule, flush conntrack"
on r nft delete rule ip filter forward handle 12
on r conntrack -F
on r conntrack -L
on h1 ping -e 4106 -c1 -W1 10.2.2.2
on r conntrack -L
on r nft flush ruleset
on r nft list ruleset
