#!/bin/bash
# Addresses: IPv4 primary/secondary/label//32/explicit broadcast, IPv6 global and link-local
# (EUI-64 from fixed MACs); `ip addr` in text, -br, -o, -j; the routes addresses create; delete
# with and without promote_secondaries; flush.
S=addrs
NSS="h1 h2"
# --- common preamble (test/differential/common.sh) ---
. "$(dirname "${BASH_SOURCE[0]}")/../common.sh"

mkns h1 h2
veth h1 v0 02:00:00:00:02:01 h2 v1 02:00:00:00:02:02

echo "== IPv4"
on h1 ip addr add 10.0.2.1/24 dev v0
on h1 ip addr add 10.0.2.11/24 dev v0
on h1 ip addr add 10.0.2.12/24 brd + dev v0 label v0:one
on h1 ip addr add 192.168.7.1/32 dev v0
on h1 ip addr add 172.16.0.1/16 broadcast 172.16.255.255 dev v0
on h1 ip addr add 10.0.9.1 peer 10.0.9.2 dev v0

echo "== IPv6 (nodad)"
on h1 ip addr add 2001:db8:2::1/64 dev v0 nodad
on h1 ip -6 addr add fd00:2::1/64 dev v0 nodad
on h2 ip addr add 2001:db8:2::2/64 dev v1 nodad

echo "== show"
on h1 ip addr show
on h2 ip addr
on h1 ip addr show dev v0
on h1 ip -4 addr
on h1 ip -6 addr show dev v0
on h1 ip -6 addr show scope link
on h1 ip -br addr
on h1 ip -br -4 addr show dev v0
on h1 ip -o addr show dev v0
on h1 ip -j addr show dev v0
on h1 ip addr show label v0:one
on h1 ip addr show to 10.0.2.0/24

echo "== routes the addresses created"
on h1 ip route
on h1 ip route show table local
on h1 ip -6 route
on h1 ip -6 route show table local

echo "== deleting the primary deletes its secondaries (promote_secondaries=0)"
on h1 ip addr del 10.0.2.1/24 dev v0
on h1 ip -4 addr show dev v0
on h1 ip route

echo "== promote_secondaries=1"
on h1 sysctl -w net.ipv4.conf.v0.promote_secondaries=1
on h1 ip addr add 10.0.3.1/24 dev v0
on h1 ip addr add 10.0.3.2/24 dev v0
on h1 ip addr del 10.0.3.1/24 dev v0
on h1 ip -4 addr show dev v0
on h1 ip route

echo "== flush"
on h1 ip addr flush dev v0 scope global
on h1 ip addr show dev v0
on h1 ip -6 addr flush dev v0
on h1 ip addr show dev v0
on h1 ip route
on h1 ip -6 route
