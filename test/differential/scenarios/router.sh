#!/bin/bash
# Forwarding through a router namespace: h1 -- r -- h2 with net.ipv4.ip_forward 0 then 1 (TTL 63
# in the replies), TTL exceeded, no route on the router, `ip route get` with iif; IPv6 with
# net.ipv6.conf.all.forwarding 0 then 1 (hop limit 63, the router flag in h1's neighbour table).
S=router
NSS="h1 r h2"
# --- common preamble (test/differential/common.sh) ---
. "$(dirname "${BASH_SOURCE[0]}")/../common.sh"

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
