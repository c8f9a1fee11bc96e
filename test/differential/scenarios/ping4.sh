#!/bin/bash
# IPv4 ping: replies, payload sizes, quiet mode, own address and loopback, and failures: no
# route (connect fails), an on-link address nobody answers (ARP fails: Destination Host
# Unreachable), a peer that dropped its address, a peer that ignores echo requests.
S=ping4
NSS="h1 h2"
# --- common preamble (test/differential/common.sh) ---
. "$(dirname "${BASH_SOURCE[0]}")/../common.sh"

mkns h1 h2
veth h1 v0 02:00:00:00:04:01 h2 v1 02:00:00:00:04:02
ip -n "${P}h1" addr add 10.0.4.1/24 dev v0
ip -n "${P}h2" addr add 10.0.4.2/24 dev v1

echo "== the peer answers"
on h1 ping -c2 -i0.2 -W1 10.0.4.2
on h2 ping -c1 -W1 10.0.4.1
echo "== payload sizes (no time= below 16 bytes: no room for the timestamp)"
on h1 ping -c1 -W1 -s 1000 10.0.4.2
on h1 ping -c1 -W1 -s 8 10.0.4.2
on h1 ping -c1 -W1 -s 0 10.0.4.2
on h1 ping -c1 -W1 -s 1473 -M do 10.0.4.2
echo "== quiet"
on h1 ping -q -c2 -i0.2 -W1 10.0.4.2
echo "== own address, loopback"
on h1 ping -c2 -i0.2 -W1 10.0.4.1
on h1 ping -c1 -W1 127.0.0.1
on h1 ping -c1 -W1 -t 7 127.0.0.5
echo "== no route"
on h1 ping -c2 -i0.2 -W1 192.0.2.1
echo "== nobody has 10.0.4.99: ARP fails (one probe, 100 ms, to keep it short)"
on h1 sysctl -w net.ipv4.neigh.v0.mcast_solicit=1 net.ipv4.neigh.v0.retrans_time_ms=100
on h1 ping -c2 -i0.2 -W1 10.0.4.99
echo "== h2 ignores echo requests"
on h2 sysctl -w net.ipv4.icmp_echo_ignore_all=1
on h1 ping -c1 -W1 10.0.4.2
on h2 sysctl -w net.ipv4.icmp_echo_ignore_all=0
echo "== h2 drops its address (h1's ARP entry still points at it)"
on h2 ip addr del 10.0.4.2/24 dev v1
on h1 ping -c1 -W1 10.0.4.2
ons h1 ip neigh show
