#!/bin/sh
# Make one dump of tests/upgrade/dumps (see its README): a fresh store, populated through the HTTP
# APIs of the segmux checkout at TREE (its own CLI and server, run by this checkout's
# virtualenv, or $PYTHON), then dumped.
#   tests/upgrade/make_dump.sh TREE sqlite|postgres VERSION
# PostgreSQL: SEGMUX_TEST_DATABASE_URL names the server (a database upgrade_<version> is made).
set -eu
tree=$1 backend=$2 version=$3
here=$(cd "$(dirname "$0")" && pwd)
python=${PYTHON:-$here/../../.venv/bin/python}
out=$here/dumps/$backend
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [ "$backend" = sqlite ]; then
    url=sqlite:///$work/store.db
    "$python" "$here/populate.py" --tree "$tree" --database-url "$url" --out "$out/$version.json"
    sqlite3 "$work/store.db" .dump | gzip -9n > "$out/$version.sql.gz"
else
    server=${SEGMUX_TEST_DATABASE_URL%/*}
    db=upgrade_$version
    psql "$server/postgres" -qc "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
    "$python" "$here/populate.py" --tree "$tree" --database-url "$server/$db" \
        --out "$out/$version.json"
    pg_dump --no-owner --no-privileges "$server/$db" | gzip -9n > "$out/$version.sql.gz"
    psql "$server/postgres" -qc "DROP DATABASE $db"
fi
echo "$out/$version.sql.gz from $(git -C "$tree" rev-parse HEAD)" >&2
