#!/bin/bash
# IPv6 ping and NDP: global addresses, link-local with %dev and with -I, own address and ::1;
# neighbour states on both sides; failures: no route, unanswered neighbour solicitation.
S=ping6
NSS="h1 h2"
# --- common preamble (test/differential/common.sh) ---
. "$(dirname "${BASH_SOURCE[0]}")/../common.sh"

mkns h1 h2
veth h1 v0 02:00:00:00:06:01 h2 v1 02:00:00:00:06:02
ip -n "${P}h1" addr add 2001:db8:6::1/64 dev v0 nodad
ip -n "${P}h2" addr add 2001:db8:6::2/64 dev v1 nodad

echo "== global address"
on h1 ping -c2 -i0.2 -W1 2001:db8:6::2
on h1 ping -6 -c1 -W1 -s 0 2001:db8:6::2
ons h1 ip -6 neigh show
ons h2 ip -6 neigh show
echo "== link-local (h2's v1 is fe80::ff:fe00:602, from its MAC)"
on h2 ip -6 addr show dev v1 scope link
on h1 ping -c2 -i0.2 -W1 fe80::ff:fe00:602%v0
on h1 ping -6 -c1 -W1 -I v0 fe80::ff:fe00:602
on h2 ping -c1 -W1 fe80::ff:fe00:601%v1
ons h1 ip -6 neigh show
ons h2 ip -6 neigh show
on h1 ip -j -6 neigh show 2001:db8:6::2 dev v0
echo "== own address, ::1"
on h1 ping -c1 -W1 2001:db8:6::1
on h1 ping -c1 -W1 ::1
echo "== no route"
on h1 ping -c2 -i0.2 -W1 2001:db8:99::1
echo "== nobody has 2001:db8:6::99 (one solicitation, 100 ms)"
on h1 sysctl -w net.ipv6.neigh.v0.mcast_solicit=1 net.ipv6.neigh.v0.retrans_time_ms=100
on h1 ping -c2 -i0.2 -W1 2001:db8:6::99
ons h1 ip -6 neigh show
