# Sourced by every scenario in scenarios/ right after it sets S (its name) and NSS (its hosts):
# strict mode, a private work directory, namespace naming and cleanup, and the helpers
# (mkns, veth, on, ...). One copy, so the real and the simulated runs share exactly the same code.
set -u
export LC_ALL=C
P="${DIFF_PREFIX:-d}-$S-" # namespace names are $P<name>: the prefix keeps parallel runs apart
W=$(mktemp -d) && cd "$W" || exit 1
cleanup() {
  local j n
  for j in $(jobs -p); do kill -KILL "$j" 2>/dev/null; done
  for n in $NSS; do ip netns del "$P$n" 2>/dev/null; done
  cd / && rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
# mkns NAME...: namespaces with lo up, for the devices created in them later: IPv6 DAD off
# (link-local addresses usable at once) and no router solicitations (sent at random times; a
# router namespace would learn neighbour entries from them)
mkns() {
  local n c
  for n; do
    ip netns add "$P$n" && ip -n "$P$n" link set lo up || return
    for c in all default; do
      ip netns exec "$P$n" sysctl -q -w "net.ipv6.conf.$c.accept_dad=0" "net.ipv6.conf.$c.router_solicitations=0"
    done
  done
}
# veth NS1 DEV1 MAC1 NS2 DEV2 MAC2: a veth pair between two namespaces, both ends up, one queue
# each (the default number is the host's CPU count)
veth() {
  ip -n "$P$1" link add "$2" address "$3" numtxqueues 1 numrxqueues 1 type veth peer name "$5" \
    address "$6" numtxqueues 1 numrxqueues 1 netns "$P$4" &&
    slow_neigh "$1" "$2" && slow_neigh "$4" "$5" &&
    ip -n "$P$1" link set "$2" up && ip -n "$P$4" link set "$5" up &&
    settle "$1" "$2" UP && settle "$4" "$5" UP
}
# slow_neigh NS DEV: neighbour entries of DEV stay REACHABLE for at least 5 minutes (default: a
# random 15..45 s) and in DELAY for 60 s (default: 5 s, then a probe), so that the states a
# scenario prints follow from the order of events alone, not from how fast the machine runs it
slow_neigh() {
  local f
  for f in ipv4 ipv6; do
    ip netns exec "$P$1" sysctl -q -w "net.$f.neigh.$2.base_reachable_time_ms=600000" \
      "net.$f.neigh.$2.delay_first_probe_time=60"
  done
}
# settle NS DEV STATE: waits until DEV's operational state is STATE; carrier changes reach it
# through linkwatch, which may defer them up to 1 s
settle() {
  local i
  for i in $(seq 40); do
    ip -n "$P$1" -br link show "$2" | grep -q "^[^ ]* *$3 " && return 0
    sleep 0.1
  done
  echo "($1: $2 is not $3 after 4 s)"
}
# on NS CMD...: prints "NS# CMD" and runs CMD in NS: stdout as is, stderr lines as "[stderr] ...",
# a nonzero exit status as "[exit N]"; namespace names are printed without the prefix $P.
on() { run_in cat "$@"; }
# ons NS CMD...: `on` with stdout sorted (from field ${SORTKEY:-1} on): dumps of hash tables
# (neighbours, conntrack) come in an order set by a random per-boot hash seed
ons() { run_in "sort -k${SORTKEY:-1}" "$@"; }
run_in() {
  local filter=$1 n=$2 rc
  shift 2
  echo "$n# $*"
  ip netns exec "$P$n" "$@" >out.txt 2>err.txt
  rc=$?
  sed "s/$P//g" out.txt | $filter
  sed "s/$P//g; s/^/[stderr] /" err.txt
  if [ "$rc" -ne 0 ]; then echo "[exit $rc]"; fi
}
