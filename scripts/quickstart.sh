#!/usr/bin/env bash
# dstack's main job on its embedded default, from a fresh clone: brings Node 22 and pnpm (into .toolchain/, from
# the npm registry) when missing, installs and builds, then starts the embedded brain (PGlite under
# ~/.dstack/brain, or $DSTACK_HOME/brain), applies the migrations, records a sample intent and edit, and prints
# `dstack brain status`. Idempotent: run it again and it reuses everything, adding one more sample edit.
set -euo pipefail
# shellcheck source=scripts/toolchain.sh
source "$(dirname "${BASH_SOURCE[0]}")/toolchain.sh"
toolchain_ensure
cd "$DSTACK_ROOT"
export TURBO_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1
pnpm exec turbo run build --output-logs=errors-only >&2

dstack() { node "$DSTACK_ROOT/apps/cli/bin/run.js" "$@"; }
dstack brain up
dstack brain seed
echo
dstack brain status
echo
echo "dstack is at $DSTACK_ROOT/apps/cli/bin/run.js (with Node from $(command -v node))."
echo "Try: dstack doctor | dstack brain status --json | dstack --help"
echo "In a git repository: dstack hooks install (Claude Code then feeds the brain) | dstack sync | dstack why <file>"
