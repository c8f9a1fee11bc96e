#!/bin/sh
# The IPVLAN HOWTO example (Documentation/networking/ipvlan.rst, "Example configuration"), mode l3.
# Run it with: npx ipvl run examples/howto-l3.sh   (simulated kernel: no root needed)
#
#   ns0 [ipvl0 10.0.0.10] --+
#                            +-- eth0 (master, root ns, 10.0.0.2) ==veth== ext0 [ns router, 10.0.0.1]
#   ns1 [ipvl1 10.0.0.11] --+
ROUTER=10.0.0.1
MODE=l3

# --- the outside world: a veth pair whose peer lives in namespace "router"
ip netns add router
ip link add eth0 type veth peer name ext0
ip link set ext0 netns router
ip -n router link set lo up
ip -n router addr add $ROUTER/24 dev ext0
ip -n router link set ext0 up
ip link set eth0 up
ip addr add 10.0.0.2/24 dev eth0

# --- (a) two namespaces
ip netns add ns0
ip netns add ns1
# --- (b) two ipvlan slaves on eth0
ip link add link eth0 ipvl0 type ipvlan mode $MODE
ip link add link eth0 ipvl1 type ipvlan mode $MODE
# --- (c) one slave per namespace
ip link set dev ipvl0 netns ns0
ip link set dev ipvl1 netns ns1
# --- (d) configure each slave inside its namespace
ip netns exec ns0 ip link set dev ipvl0 up
ip netns exec ns0 ip link set dev lo up
ip netns exec ns0 ip -4 addr add 10.0.0.10/24 dev ipvl0
ip netns exec ns0 ip -4 route add default via $ROUTER dev ipvl0
ip netns exec ns1 ip link set dev ipvl1 up
ip netns exec ns1 ip link set dev lo up
ip netns exec ns1 ip -4 addr add 10.0.0.11/24 dev ipvl1
ip netns exec ns1 ip -4 route add default via $ROUTER dev ipvl1

echo "=== ip -d link show eth0 (master) and ipvl0 (ns0): the slave has the master's MAC"
ip -d link show eth0
ip -n ns0 -d link show ipvl0
echo "=== ns0 -> ns1"
ip netns exec ns0 ping -c 2 10.0.0.11
echo "=== ns1 -> ns0"
ip netns exec ns1 ping -c 2 10.0.0.10
echo "=== ns0 -> router: fails, as on Linux 6.1 (oracle modes-matrix): in l3 mode nobody answers the"
echo "===   router's ARP for 10.0.0.10; a static neighbour or proxy_arp on eth0 would fix it"
ip netns exec ns0 ping -c 2 -W 1 $ROUTER
echo "=== slaves in l3 mode send no ARP of their own: ns0's neighbour table"
ip -n ns0 -4 neigh show
