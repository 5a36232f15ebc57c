#!/usr/bin/env bash
# Everything CI runs: Rust unit and integration tests (each integration test starts its own
# server over its own fresh database), then Playwright in headless Chromium against the release build.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
site_target=${CARGO_TARGET_DIR:-$HOME/.cache/precedent-target/leptos}
test_target=${PRECEDENT_TEST_TARGET_DIR:-$HOME/.cache/precedent-target/test}

echo "==> Rust tests"
CARGO_TARGET_DIR="$test_target" cargo test --workspace --exclude precedent-frontend --locked

echo "==> Browser tests (Playwright, headless Chromium)"
export PRECEDENT_BIN="$site_target/release/precedent"
export PRECEDENT_SITE_ROOT="$root/target/site"
cd end2end
npx playwright test
