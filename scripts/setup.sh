#!/usr/bin/env bash
# Installs whatever Precedent needs that is missing; fast and silent when all is there.
#   scripts/setup.sh run   — toolchain for building and serving (PostgreSQL unless DATABASE_URL is set)
#   scripts/setup.sh test  — the same, plus Chromium and the Playwright package
# Only Debian's apt, crates.io, PyPI and npm are used; nothing is downloaded from anywhere else.
set -euo pipefail
mode=${1:-run}
root=$(cd "$(dirname "$0")/.." && pwd)
tools=${PRECEDENT_TOOLS_DIR:-$HOME/.cache/precedent-tools}
export PATH="$tools/node_modules/.bin:$HOME/.cargo/bin:$PATH"

say() { printf '\033[1;34m==>\033[0m %s\n' "$*"; }
sudo_() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# --- Debian packages -------------------------------------------------------------------------
apt_needed=()
if [ -z "${DATABASE_URL:-}" ] || [ "$mode" = test ]; then
  if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null 2>&1; then
    apt_needed+=(postgresql)
  fi
fi
if [ "$mode" = test ] && [ ! -x /usr/bin/chromium ]; then apt_needed+=(chromium); fi
if [ ${#apt_needed[@]} -gt 0 ]; then
  say "installing Debian packages: ${apt_needed[*]}"
  sudo_ apt-get update -qq
  sudo_ env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${apt_needed[@]}"
fi

# --- Rust toolchain pieces -------------------------------------------------------------------
if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32 target"
  rustup target add wasm32-unknown-unknown
fi
if ! cargo leptos --version 2>/dev/null | grep -q '0\.3\.10'; then
  say "installing cargo-leptos 0.3.10 (once; about 20 minutes on 2 cores)"
  cargo install cargo-leptos --version 0.3.10 --locked
fi
# wasm-bindgen-cli must be exactly the wasm-bindgen version in Cargo.lock.
wb=$(awk '/^name = "wasm-bindgen"$/ {getline; gsub(/version = |"/, ""); print; exit}' "$root/Cargo.lock")
if ! wasm-bindgen --version 2>/dev/null | grep -q "$wb"; then
  say "installing wasm-bindgen-cli $wb"
  CARGO_RESOLVER_INCOMPATIBLE_RUST_VERSIONS=fallback cargo install wasm-bindgen-cli --version "=$wb"
fi
# wasm-opt from npm's binaryen (Debian's is too old for the release bundle).
if ! "$tools/node_modules/.bin/wasm-opt" --version 2>/dev/null | grep -q 'version 132'; then
  say "installing binaryen 132 (wasm-opt) from npm into $tools"
  mkdir -p "$tools"
  [ -f "$tools/package.json" ] || echo '{"private":true}' > "$tools/package.json"
  (cd "$tools" && npm install --no-audit --no-fund --silent binaryen@132)
fi

# --- ONNX Runtime: the shared library from the PyPI wheel (ort loads it at run time) ----------
ort_lib="$tools/onnxruntime/libonnxruntime.so.1.31.1"
if [ ! -f "$ort_lib" ]; then
  say "unpacking ONNX Runtime 1.31.1 from the PyPI wheel into $tools/onnxruntime"
  wheels=$(mktemp -d)
  python3 -m pip download --quiet --no-deps --only-binary=:all: --dest "$wheels" onnxruntime==1.31.1
  mkdir -p "$tools/onnxruntime"
  python3 - "$wheels" "$tools/onnxruntime" <<'PY'
import glob, sys, zipfile
wheel = glob.glob(sys.argv[1] + "/onnxruntime-1.31.1-*.whl")[0]
with zipfile.ZipFile(wheel) as z:
    name = "onnxruntime/capi/libonnxruntime.so.1.31.1"
    with z.open(name) as src, open(sys.argv[2] + "/libonnxruntime.so.1.31.1", "wb") as dst:
        dst.write(src.read())
PY
  rm -rf "$wheels"
fi

# --- Browser-test packages -------------------------------------------------------------------
if [ "$mode" = test ]; then
  stamp="$root/end2end/node_modules/.package-lock.json"
  if [ ! -f "$stamp" ] || [ "$root/end2end/package-lock.json" -nt "$stamp" ]; then
    say "installing Playwright (test runner only; the browser is Debian's chromium)"
    (cd "$root/end2end" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --silent)
  fi
fi
