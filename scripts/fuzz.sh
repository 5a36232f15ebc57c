#!/usr/bin/env bash
# Fuzzes the code that reads untrusted bytes, each target for a bounded time (not run by CI):
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET ...]     (default: 120 s, every target)
# Targets: image_intake, lab_text, lab_pdf, library_manifest (fuzz/fuzz_targets/). Needs the
# nightly toolchain; installs cargo-fuzz from crates.io when missing. Seeds come from
# fuzz/seeds/<target>/ and the kept regressions; the growing corpus stays in fuzz/corpus/ and
# any crash in fuzz/artifacts/<target>/ (both ignored by git). A crash is fixed, and its input is
# copied to fuzz/regressions/<target>/, which the crates' tests replay on every `make test`.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
secs=${1:-120}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(image_intake lab_text lab_pdf library_manifest)
export PATH="$HOME/.cargo/bin:$PATH"
export CARGO_TARGET_DIR=${PRECEDENT_FUZZ_TARGET_DIR:-$HOME/.cache/precedent-target/fuzz}
if ! rustup toolchain list | grep -q '^nightly'; then
  echo "cargo fuzz needs the nightly toolchain (rustup toolchain install nightly)" >&2
  exit 2
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "==> installing cargo-fuzz"
  cargo install cargo-fuzz --version 0.13.2 --locked
fi
cd "$root/fuzz"
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t" "seeds/$t" "regressions/$t"
  echo "==> fuzzing $t for ${secs} s"
  cargo +nightly fuzz run "$t" "corpus/$t" "seeds/$t" "regressions/$t" -- \
    -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=262144 -print_final_stats=1 2>&1 \
    | grep -E '^(#[0-9]+.*(DONE|INITED)|stat::number_of_executed_units|stat::peak_rss_mb|==[0-9]+==|SUMMARY|artifact_prefix|Test unit written|thread .* panicked)' || true
  if ls "artifacts/$t"/crash-* "artifacts/$t"/timeout-* "artifacts/$t"/oom-* >/dev/null 2>&1; then
    echo "!! $t: findings in fuzz/artifacts/$t" >&2
  fi
done
