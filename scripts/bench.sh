#!/usr/bin/env bash
# Runs every benchmark in bench/ (compiled); each prints one JSON line per result on stdout.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
IPVL_SKIP_DEPS="${IPVL_SKIP_DEPS:-1}" bash scripts/setup.sh >&2
for f in dist/bench/*.bench.js; do
  [ -e "$f" ] || continue
  echo "bench: $f" >&2
  node --expose-gc "$f"
done
