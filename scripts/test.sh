#!/usr/bin/env bash
# The one test command: set-up, lint, typecheck, then every *.test.ts (compiled) with node:test.
# Tests that need root and real network namespaces skip themselves (reported as skipped) elsewhere.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/setup.sh
echo "== lint (biome)"
npx biome check .
echo "== typecheck (tsc)"
npx tsc -p tsconfig.json --noEmit
echo "== tests (node:test)"
mapfile -t files < <(find dist -name '*.test.js' -not -path '*/node_modules/*' | sort)
if [ "${#files[@]}" -eq 0 ]; then
  echo "no test files found" >&2
  exit 1
fi
exec node --test --test-concurrency=2 --test-timeout=300000 "$@" "${files[@]}"
