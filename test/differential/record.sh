#!/bin/bash
# Records the differential fixtures: runs every scenario (or the named ones) with the real tools
# in real network namespaces and writes its normalised output to
# test/fixtures/differential/<name>.out. Needs root.
#
#   test/differential/record.sh [--check] [-j N] [SCENARIO...]
#
#   --check  compare with the fixtures instead of writing them (exit 1 on a difference): run it
#            after recording to see whether the outputs are stable
#   -j N     run N scenarios at a time (default 1)
#
# A scenario's output is its stdout and stderr together, then "[script exit N]" if it exited
# with N != 0, normalised by normalize.ts (the same as differential.test.ts does).
set -u
cd "$(dirname "${BASH_SOURCE[0]}")/../.." || exit 1
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"

check=0
jobs=1
names=()
while [ $# -gt 0 ]; do
  case $1 in
  --check) check=1 ;;
  -j) jobs=$2 && shift ;;
  -h | --help) sed -n '2,13p' "$0" && exit 0 ;;
  *) names+=("${1%.sh}") ;;
  esac
  shift
done
[ ${#names[@]} -gt 0 ] || mapfile -t names < <(ls test/differential/scenarios | sed -n 's/\.sh$//p')

[ "$(id -u)" -eq 0 ] || { echo "record.sh: needs root (real network namespaces)" >&2 && exit 1; }

# Namespaces are named ipvld<pid>-<scenario>-<host>: delete those of runs that died without
# cleaning up (SIGKILL), then make sure ours go whatever happens.
sweep() { # sweep PATTERN: deletes the namespaces whose name matches PATTERN (an ERE)
  local ns
  for ns in $(ip netns list | awk '{ print $1 }' | grep -E "$1"); do
    ip netns pids "$ns" 2>/dev/null | xargs -r kill -KILL 2>/dev/null
    ip netns del "$ns" 2>/dev/null
  done
}
for ns in $(ip netns list | awk '{ print $1 }' | sed -nE 's/^ipvld([0-9]+)-.*/\1/p' | sort -u); do
  kill -0 "$ns" 2>/dev/null || sweep "^ipvld$ns-"
done
prefix=ipvld$$
trap 'sweep "^$prefix-"; rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM HUP
tmp=$(mktemp -d)

normalize() { node_modules/.bin/tsx test/differential/normalize.ts; }

run_one() { # run_one NAME: runs the scenario, leaves the normalised output in $tmp/NAME.out
  local name=$1 rc
  DIFF_PREFIX=$prefix timeout -k 5 60 bash "test/differential/scenarios/$name.sh" >"$tmp/$name.raw" 2>&1
  rc=$?
  [ $rc -eq 0 ] || echo "[script exit $rc]" >>"$tmp/$name.raw"
  normalize <"$tmp/$name.raw" >"$tmp/$name.out"
}

for name in "${names[@]}"; do
  [ -f "test/differential/scenarios/$name.sh" ] || { echo "record.sh: no scenario $name" >&2 && exit 1; }
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n; done
  run_one "$name" &
done
wait

status=0
for name in "${names[@]}"; do
  fixture=test/fixtures/differential/$name.out
  if [ $check -eq 1 ]; then
    if diff -u --label "$fixture" --label "$name (this run)" "$fixture" "$tmp/$name.out"; then
      echo "same: $name"
    else
      status=1
    fi
  else
    cp "$tmp/$name.out" "$fixture" && echo "recorded: $fixture"
  fi
done
exit $status
