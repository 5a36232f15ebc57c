#!/usr/bin/env bash
# Unpacks PostgreSQL 16.2 with pgvector 0.6.2 from PyPI's `pgserver` wheel (plain binaries) for
# `precedent bench pgvector`. Debian bookworm has no pgvector package. Prints the bin directory.
set -euo pipefail
dest=${PRECEDENT_PGVECTOR_DIR:-/var/tmp/precedent-pgserver}
bin="$dest/pgserver/pginstall/bin"
if [ -x "$bin/postgres" ] && [ -f "$dest/pgserver/pginstall/lib/postgresql/vector.so" ] && "$bin/initdb" --version >/dev/null 2>&1; then
  echo "$bin"
  exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 -m pip download --quiet --no-deps --only-binary=:all: --dest "$tmp" pgserver==0.1.4 >&2
python3 - "$tmp" "$dest" <<'PY'
import glob, os, sys, zipfile
wheel = glob.glob(sys.argv[1] + "/pgserver-0.1.4-*.whl")[0]
dest = sys.argv[2]
# The wheel layout is kept: the binaries find their bundled libraries (pgserver.libs/) by a
# relative RPATH.
with zipfile.ZipFile(wheel) as z:
    for info in z.infolist():
        if info.is_dir() or not info.filename.startswith(("pgserver/pginstall/", "pgserver.libs/")):
            continue
        out = os.path.join(dest, info.filename)
        os.makedirs(os.path.dirname(out), exist_ok=True)
        with z.open(info) as src, open(out, "wb") as dst:
            dst.write(src.read())
        mode = (info.external_attr >> 16) & 0o777
        os.chmod(out, mode or 0o644)
PY
# The cluster runs as the `postgres` user when we are root: it must read and run these files.
chmod -R a+rX "$dest"
echo "$bin"
