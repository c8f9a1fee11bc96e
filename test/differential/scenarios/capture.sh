#!/bin/bash
# tcpdump: a capture taken on h2 during a ping (`-w` with -U --immediate-mode in the background,
# stopped with SIGINT), read back with -r (plain, -e, with a filter); a live IPv6 capture printed
# to stdout (echo and neighbour discovery only: no MLD or router solicitations). The pings use a
# fixed ICMP identifier (-e; by default a raw-socket ping picks a random one), which tcpdump prints.
S=capture
NSS="h1 h2"
# --- common preamble (test/differential/common.sh) ---
. "$(dirname "${BASH_SOURCE[0]}")/../common.sh"

mkns h1 h2
veth h1 v0 02:00:00:00:0b:01 h2 v1 02:00:00:00:0b:02
ip -n "${P}h1" addr add 10.0.11.1/24 dev v0
ip -n "${P}h1" addr add 2001:db8:b::1/64 dev v0 nodad
ip -n "${P}h2" addr add 10.0.11.2/24 dev v1
ip -n "${P}h2" addr add 2001:db8:b::2/64 dev v1 nodad

# capture NS ARGS...: starts tcpdump ARGS in NS in the background (stdout to cap.out, stderr to
# cap.err) and waits until it is listening
capture() {
  local n=$1 i
  shift
  echo "$n# tcpdump $* &"
  : >cap.err # before the background job opens it
  ip netns exec "$P$n" tcpdump "$@" >cap.out 2>cap.err &
  TCPDUMP=$!
  for i in $(seq 50); do
    grep -q "listening on" cap.err && return 0
    sleep 0.1
  done
  echo "tcpdump did not start"
}
# stop_capture: SIGINT to tcpdump (after a pause: a packet tcpdump has not read by then is
# counted as received but not captured), then its exit status (a tcpdump that ended early shows
# there), stdout and stderr
stop_capture() {
  local rc
  sleep 0.5
  kill -INT "$TCPDUMP" 2>/dev/null
  wait "$TCPDUMP"
  rc=$?
  echo "(tcpdump exit $rc)"
  sed "s/$P//g" cap.out
  sed "s/$P//g; s/^/[stderr] /" cap.err
}

echo "== capture to a file"
capture h2 -i v1 -w ping.pcap -U --immediate-mode -n "icmp or arp"
on h1 ping -e 4001 -c2 -i0.2 -W1 10.0.11.2
stop_capture
on h2 tcpdump -r ping.pcap -n -t
on h2 tcpdump -r ping.pcap -n -t -e
on h2 tcpdump -r ping.pcap -n -t "icmp[icmptype] == icmp-echoreply"
on h2 tcpdump -r ping.pcap -n -t -c 1 arp

echo "== live, IPv6"
capture h2 -i v1 -l --immediate-mode -n -t -e "icmp6 and (ip6[40] == 128 or ip6[40] == 129 or ip6[40] == 135 or ip6[40] == 136)"
on h1 ping -e 4002 -c2 -i0.2 -W1 2001:db8:b::2
stop_capture
