#!/usr/bin/env bash
# Everything CI checks, from a fresh clone: brings Node 22 and pnpm when missing, then lint, typecheck, build and
# every package's tests. The brain's schema suite runs twice, on embedded PGlite and on the Postgres server at
# DSTACK_TEST_PG_URL (default postgres://postgres@127.0.0.1:5432/test, which must let `postgres` create databases).
# Nothing is replayed from turbo's cache: this is the authoritative run.
set -euo pipefail
# shellcheck source=scripts/toolchain.sh
source "$(dirname "${BASH_SOURCE[0]}")/toolchain.sh"
toolchain_ensure
toolchain_chromium # @dstack/browser's tests drive a real Chromium
toolchain_deploy   # @dstack/deploy's tests run a real sshd and caddy on loopback ports
cd "$DSTACK_ROOT"
export TURBO_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1
started=$(date +%s)
pnpm lint
# Two cores here: two packages at a time, each test file in its own process.
pnpm exec turbo run typecheck build test --force --concurrency=2 --output-logs=new-only
echo "all checks passed in $(($(date +%s) - started)) s"
