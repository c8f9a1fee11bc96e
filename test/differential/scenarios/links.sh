#!/bin/bash
# Links: a veth pair between two namespaces, a tap device without a process (no carrier) and a
# macvlan on the veth; `ip link show` in text, -br, -o, -d and -j; carrier loss when the peer goes
# down; mtu, rename, flags, MAC; deleting one veth end (and with it the macvlan on it).
S=links
NSS="h1 h2"
# --- common preamble (test/differential/common.sh) ---
. "$(dirname "${BASH_SOURCE[0]}")/../common.sh"

mkns h1 h2
veth h1 v0 02:00:00:00:01:01 h2 v1 02:00:00:00:01:02
ip -n "${P}h1" tuntap add dev tp0 mode tap
ip -n "${P}h1" link set tp0 address 02:00:00:00:01:03
ip -n "${P}h1" link add link v0 name mv0 address 02:00:00:00:01:04 type macvlan mode bridge

echo "== h1:v0 <-> h2:v1 (veth), h1:tp0 (tap, down), h1:mv0 (macvlan on v0, down)"
on h1 ip link show
on h2 ip link
on h1 ip -br link show
on h2 ip -o link show
on h1 ip -d link show v0
on h1 ip -d link show tp0
on h1 ip -d link show mv0
on h1 ip -j link show v0
on h1 ip -j -p link show tp0
on h1 ip tuntap show

echo "== h2 takes v1 down: v0 loses its carrier"
on h2 ip link set v1 down
settle h1 v0 DOWN
on h1 ip link show v0
on h2 ip link show v1
on h1 ip -br link
on h2 ip link set dev v1 up
settle h1 v0 UP
on h1 ip -br link show v0
on h2 ip -br link show v1

echo "== mtu, name, flags"
on h1 ip link set v0 mtu 1400
on h1 ip link set tp0 name tap7
on h1 ip link set dev tap7 multicast off
on h1 ip link set dev tap7 arp off
on h1 ip link set dev tap7 address 02:00:00:00:01:77
on h1 ip link set mv0 up
settle h1 mv0 UP
on h1 ip link show
on h1 ip -br link show tap7

echo "== filters"
on h1 ip link show type veth
on h1 ip -br link show type tun
on h1 ip -br link show type macvlan
on h1 ip -br link show up
on h1 ip -br link show dev lo

echo "== deleting one end of the veth pair deletes the other, and the macvlan on it"
on h1 ip link del v0
on h1 ip -br link
on h2 ip -br link
