#!/usr/bin/env bash
# The main job: set up, then run the demo on the simulated kernel.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
IPVL_SKIP_DEPS="${IPVL_SKIP_DEPS:-1}" bash scripts/setup.sh
exec node dist/src/cli/demo.js "$@"
