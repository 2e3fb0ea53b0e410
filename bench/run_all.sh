#!/usr/bin/env bash
# The whole benchmark for N synthetic nodes, on SQLite and on PostgreSQL.
#
#   bench/run_all.sh N [sqlite|postgres|both]
#
# The code under test is pinned: `git archive $SRC_REV src` is unpacked into
# bench/results/src-<sha>/ and put first on PYTHONPATH, so commits made while a run is going do
# not leak into it (every JSON records the commit).
# SQLite: bench/results/bench-N.sqlite3 (recreated). PostgreSQL: database fabcity_bench_N on
# $PG_SERVER, created here and dropped at the end. Figures go to stdout and to
# bench/results/{load,search,http}-<backend>[-variant]-N.json; the summary table comes last.
#
# Environment: SRC_REV (HEAD), QUERIES (engine queries per type, 300), REQUESTS (HTTP requests per pass,
# 3000), CLIENTS (32), HTTP_VARIANTS ("w1 w2 w2s w2sg": w<k> = `fabcity serve --workers k`, s: viewports
# with fields=summary, g: Accept-Encoding gzip as a browser sends), SEARCH_MAX_S / HTTP_MAX_S (time budget per run, 1800 / 900 s),
# REUSE=1 (keep an already loaded database, skip the load), KEEP=1 (keep the PostgreSQL
# database), PG_SERVER (postgresql://postgres@127.0.0.1:5432).
set -euo pipefail

N=${1:?usage: bench/run_all.sh N [sqlite|postgres|both]}
WHICH=${2:-both}
cd "$(dirname "$0")/.."
PY=$PWD/.venv/bin/python
OUT=bench/results
QUERIES=${QUERIES:-300}
REQUESTS=${REQUESTS:-3000}
CLIENTS=${CLIENTS:-32}
HTTP_VARIANTS=${HTTP_VARIANTS:-w1 w2 w2s w2sg}
SEARCH_MAX_S=${SEARCH_MAX_S:-1800}
HTTP_MAX_S=${HTTP_MAX_S:-900}
REUSE=${REUSE:-0}
KEEP=${KEEP:-0}
PG_SERVER=${PG_SERVER:-postgresql://postgres@127.0.0.1:5432}
mkdir -p "$OUT"

SHA=$(git rev-parse --short "${SRC_REV:-HEAD}")
SNAPSHOT=$PWD/$OUT/src-$SHA
if [[ ! -d $SNAPSHOT/src ]]; then
    mkdir -p "$SNAPSHOT"
    git archive "$SHA" src | tar -x -C "$SNAPSHOT"
fi
export PYTHONPATH=$SNAPSHOT/src BENCH_COMMIT=$SHA

echo "== fabcity benchmark, N=$N, $(date -u +%FT%TZ), code $SHA ($($PY -c 'import fabcity; print(fabcity.__file__)'))"
echo "== $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB RAM, $($PY -c 'import sqlite3; print("SQLite", sqlite3.sqlite_version)')"

search() {  # search <db> <backend>
    $PY bench/search_bench.py --db "$1" --queries "$QUERIES" --max-seconds "$SEARCH_MAX_S" --explain \
        --also bbox_summary --json "$OUT/search-$2-$N.json"
}
http() {  # http <db> <backend>: one run per HTTP variant
    local variant workers fields
    for variant in $HTTP_VARIANTS; do
        workers=${variant//[!0-9]/}; fields=()
        [[ $variant == w*s* ]] && fields+=(--bbox-fields summary)
        [[ $variant == w*g* ]] && fields+=(--gzip)
        echo; echo "== $2: HTTP, $workers worker(s) ${fields[*]:-}"
        $PY bench/http_bench.py --db "$1" --clients "$CLIENTS" --requests "$REQUESTS" --max-seconds "$HTTP_MAX_S" \
            --workers "$workers" "${fields[@]}" --log "$OUT/http-server-$2-$variant-$N.log" \
            --json "$OUT/http-$2-$variant-$N.json"
    done
}

if [[ $WHICH == sqlite || $WHICH == both ]]; then
    DB=$OUT/bench-$N.sqlite3
    echo; echo "== SQLite: load $N nodes into $DB"
    if [[ $REUSE == 1 && -f $DB ]]; then
        echo "(REUSE=1: keeping the loaded database)"
    else
        rm -f "$DB" "$DB-wal" "$DB-shm"
        $PY bench/load_synthetic.py "$N" --db "$DB" --json "$OUT/load-sqlite-$N.json"
    fi
    echo; echo "== SQLite: engine"
    search "$DB" sqlite
    http "$DB" sqlite
fi

if [[ $WHICH == postgres || $WHICH == both ]]; then
    NAME=fabcity_bench_$N
    URL=$PG_SERVER/$NAME
    echo; echo "== PostgreSQL: load $N nodes into $URL"
    if [[ $REUSE == 1 ]] && $PY bench/pgdb.py exists "$NAME" --admin "$PG_SERVER/postgres"; then
        echo "(REUSE=1: keeping the loaded database)"
    else
        $PY bench/pgdb.py create "$NAME" --admin "$PG_SERVER/postgres"
        $PY bench/load_synthetic.py "$N" --db "$URL" --json "$OUT/load-postgres-$N.json"
    fi
    echo; echo "== PostgreSQL: engine"
    search "$URL" postgres
    http "$URL" postgres
    if [[ $KEEP != 1 ]]; then
        $PY bench/pgdb.py drop "$NAME" --admin "$PG_SERVER/postgres"
    fi
fi

echo; echo "== Summary"
$PY bench/summarize.py "$N" --results "$OUT"
