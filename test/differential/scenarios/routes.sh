#!/bin/bash
# Routes: static routes via a gateway, metrics, default, blackhole/unreachable/prohibit, IPv6
# routes; `ip route get` (also for unroutable destinations); replace/del; routes on a link
# without carrier.
S=routes
NSS="h1 h2"
# --- common preamble (test/differential/common.sh) ---
. "$(dirname "${BASH_SOURCE[0]}")/../common.sh"

mkns h1 h2
veth h1 v0 02:00:00:00:03:01 h2 v1 02:00:00:00:03:02
ip -n "${P}h1" addr add 10.0.3.1/24 dev v0
ip -n "${P}h1" addr add 2001:db8:3::1/64 dev v0 nodad
ip -n "${P}h2" addr add 10.0.3.2/24 dev v1

echo "== add"
on h1 ip route add 10.10.0.0/16 via 10.0.3.2
on h1 ip route add 10.20.0.0/16 via 10.0.3.2 dev v0 metric 50
on h1 ip route add 10.20.0.0/16 via 10.0.3.3 metric 100
on h1 ip route add default via 10.0.3.254
on h1 ip route add blackhole 10.30.0.0/16
on h1 ip route add unreachable 10.31.0.0/16
on h1 ip route add prohibit 10.32.0.0/16
on h1 ip route add 10.40.0.1 dev v0 src 10.0.3.1
on h1 ip route add 10.50.0.0/24 dev v0 scope link
on h1 ip -6 route add 2001:db8:99::/48 via 2001:db8:3::2
on h1 ip -6 route add default via fe80::ff:fe00:302 dev v0
on h1 ip -6 route add blackhole 2001:db8:98::/48

echo "== show"
on h1 ip route
on h1 ip route show 10.20.0.0/16
on h1 ip route show proto kernel
on h1 ip route show via 10.0.3.2
on h1 ip route show type blackhole
on h1 ip -j route show 10.10.0.0/16
on h1 ip -6 route
on h1 ip -6 route show 2001:db8:99::/48

echo "== get"
for d in 10.0.3.2 10.10.1.1 10.20.1.1 8.8.8.8 10.30.1.1 10.31.1.1 10.32.1.1 10.0.3.1 127.0.0.1 10.40.0.1 10.50.0.9; do
  on h1 ip route get "$d"
done
on h1 ip route get 10.10.1.1 from 10.0.3.1
on h1 ip -j route get 10.10.1.1
on h1 ip -6 route get 2001:db8:99::1
on h1 ip -6 route get 2001:db8:3::2
on h1 ip -6 route get 2001:db8:77::1
on h1 ip -6 route get 2001:db8:98::1

echo "== replace, del"
on h1 ip route replace 10.10.0.0/16 via 10.0.3.3
on h1 ip route replace 10.60.0.0/16 via 10.0.3.2
on h1 ip route del 10.20.0.0/16 metric 100
on h1 ip route del default
on h1 ip route del blackhole 10.30.0.0/16
on h1 ip -6 route del default
on h1 ip route
on h1 ip -6 route

echo "== h2 takes v1 down: routes through v0 are linkdown"
on h2 ip link set v1 down
settle h1 v0 DOWN
on h1 ip route
on h1 ip route get 10.10.1.1
on h1 ip -6 route
