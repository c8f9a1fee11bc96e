#!/bin/bash
# ARP neighbour table: states after one ping on both sides (REACHABLE on the pinger; DELAY on the
# responder, which replied through the STALE entry the ARP request created), static entries
# (permanent, noarp, reachable, stale), replace/change/get/del/flush, a failed resolution.
S=neigh
NSS="h1 h2"
# --- common preamble (test/differential/common.sh) ---
. "$(dirname "${BASH_SOURCE[0]}")/../common.sh"

mkns h1 h2
veth h1 v0 02:00:00:00:05:01 h2 v1 02:00:00:00:05:02
ip -n "${P}h1" addr add 10.0.5.1/24 dev v0
ip -n "${P}h2" addr add 10.0.5.2/24 dev v1

echo "== after one ping"
on h1 ip neigh show
on h1 ping -c1 -W1 10.0.5.2
on h1 ip neigh show
on h2 ip neigh show
on h1 ip -j neigh show
on h2 ip -br neigh
on h1 ip neigh show 10.0.5.2 dev v0
on h1 ip neigh get 10.0.5.2 dev v0

echo "== static entries"
on h1 ip neigh add 10.0.5.7 lladdr 02:00:00:00:05:07 dev v0
on h1 ip neigh add 10.0.5.8 lladdr 02:00:00:00:05:08 dev v0 nud reachable
on h1 ip neigh add 10.0.5.9 lladdr 02:00:00:00:05:09 dev v0 nud noarp
on h1 ip neigh add 10.0.5.10 lladdr 02:00:00:00:05:10 dev v0 nud stale
on h1 ip neigh replace 10.0.5.7 lladdr 02:00:00:00:05:77 dev v0
on h1 ip neigh change 10.0.5.8 lladdr 02:00:00:00:05:88 dev v0 nud stale
on h1 ip neigh replace 10.0.5.11 lladdr 02:00:00:00:05:11 dev v0 nud permanent
ons h1 ip neigh show
ons h1 ip neigh show nud permanent
ons h1 ip neigh show nud stale
on h1 ip -4 neigh show nud noarp
on h1 ip neigh get 10.0.5.9 dev v0

echo "== delete, flush (flush keeps permanent and noarp entries)"
on h1 ip neigh del 10.0.5.7 dev v0
on h1 ip neigh del 10.0.5.7 dev v0
on h1 ip neigh flush dev v0
ons h1 ip -4 neigh show nud all
on h1 ip -4 neigh flush nud all dev v0
on h1 ip -4 neigh show nud all

echo "== nobody has 10.0.5.99 (one ARP probe, 100 ms)"
on h1 sysctl -w net.ipv4.neigh.v0.mcast_solicit=1 net.ipv4.neigh.v0.retrans_time_ms=100
on h1 ping -c1 -W1 10.0.5.99
on h1 ip neigh show
on h1 ip neigh get 10.0.5.99 dev v0
