#!/usr/bin/env bash
# Installs what ipvl needs on a fresh clone, idempotently: Debian packages (as root) and the
# pinned npm packages, then compiles the TypeScript to dist/. Quiet when there is nothing to do.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [ "${IPVL_SKIP_DEPS:-0}" != 1 ]; then
  bash scripts/install-deps.sh
fi

# npm ci only when node_modules is missing or older than the lockfile.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci" >&2
  npm ci --no-audit --no-fund --loglevel=error >&2
fi

echo "setup: compiling TypeScript" >&2
npx tsc -p tsconfig.json
