#!/bin/bash
# Interface counters (`ip -s link`, -s -s, -j) after known traffic: three pings (with one ARP
# exchange) and a ping of the loopback. IPv6 is disabled so that no router solicitations or MLD
# reports (sent after random delays) end up in the counters.
S=counters
NSS="h1 h2"
# --- common preamble (test/differential/common.sh) ---
. "$(dirname "${BASH_SOURCE[0]}")/../common.sh"

mkns h1 h2
for n in h1 h2; do
  ip netns exec "$P$n" sysctl -q -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
done
veth h1 v0 02:00:00:00:09:01 h2 v1 02:00:00:00:09:02
ip -n "${P}h1" addr add 10.0.9.1/24 dev v0
ip -n "${P}h2" addr add 10.0.9.2/24 dev v1

echo "== before"
on h1 ip -s link show v0
on h2 ip -s link show v1
echo "== after 3 pings (98-byte frames) and 1 ARP exchange (42-byte frames)"
on h1 ping -q -c3 -i0.2 -W1 10.0.9.2
on h1 ip -s link show v0
on h2 ip -s link show v1
on h1 ip -s -s link show v0
on h2 ip -s -j link show v1
on h1 ip -s -br link show v0
echo "== loopback: 2 pings of 10.0.9.1 (each request and reply crosses lo)"
on h1 ip -s link show lo
on h1 ping -q -c2 -i0.2 -W1 10.0.9.1
on h1 ip -s link show lo
echo "== -s 1400"
on h1 ping -q -c1 -W1 -s 1400 10.0.9.2
on h1 ip -s link show v0
echo "== v1 down: h1's packets are dropped"
on h2 ip link set v1 down
settle h1 v0 DOWN
on h1 ping -q -c1 -W1 10.0.9.2
on h1 ip -s link show v0
on h2 ip -s link show v1
