#!/bin/bash
# Broadcast ping (`ping -b`) with net.ipv4.icmp_echo_ignore_broadcasts 1 (default) and 0 on the
# peer and on the sender itself (its own broadcast loops back); ping of a broadcast address
# without -b.
S=broadcast
NSS="h1 h2"
# --- common preamble (test/differential/common.sh) ---
. "$(dirname "${BASH_SOURCE[0]}")/../common.sh"

mkns h1 h2
veth h1 v0 02:00:00:00:07:01 h2 v1 02:00:00:00:07:02
ip -n "${P}h1" addr add 10.0.7.1/24 dev v0
ip -n "${P}h2" addr add 10.0.7.2/24 dev v1

echo "== both ignore broadcast echo requests (the default)"
on h1 sysctl net.ipv4.icmp_echo_ignore_broadcasts
on h2 sysctl net.ipv4.icmp_echo_ignore_broadcasts
on h1 ping -b -c2 -i0.2 -W1 10.0.7.255
echo "== h2 answers"
on h2 sysctl -w net.ipv4.icmp_echo_ignore_broadcasts=0
on h1 ping -b -c2 -i0.2 -W1 10.0.7.255
echo "== h1 answers too"
on h1 sysctl -w net.ipv4.icmp_echo_ignore_broadcasts=0
on h1 ping -b -c2 -i0.2 -W1 10.0.7.255
echo "== without -b"
on h1 ping -c1 -W1 10.0.7.255
echo "== limited broadcast"
on h1 ping -b -c1 -W1 -I v0 255.255.255.255
echo "== h2 ignores again"
on h2 sysctl -w net.ipv4.icmp_echo_ignore_broadcasts=1
on h1 ping -b -c2 -i0.2 -W1 10.0.7.255
ons h1 ip neigh show
ons h2 ip neigh show
