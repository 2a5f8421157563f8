#!/usr/bin/env bash
# libpq_lazy.sh BUILD_DIR sqlite|pg: a build that loads libpq on the first
# PostgreSQL URL (STRATA_LIBPQ_DLOPEN, runtime/src/engine/backend_pg_dl.c).
#   sqlite  testapp_v1 does not link libpq (ldd), and a start on SQLite does
#           not load it (the dynamic loader's own record, LD_DEBUG=files)
#   pg      a start on PostgreSQL ($DATABASE_URL, tests/pg) loads it then,
#           and works
set -euo pipefail
bin=$1 mode=$2
app=$bin/testapp_v1
fail() {
    echo "FAIL: $*" >&2
    exit 1
}

if ldd "$app" | grep libpq; then
    fail "$app links libpq: SQLite applications would load it at every start"
fi
echo "ldd: testapp_v1 does not link libpq"

work=$(mktemp -d /tmp/strata-lazy.XXXXXX)
trap 'rm -rf "$work"' EXIT
unset STRATA_ENV APP_DATABASE_URL
if [[ $mode == sqlite ]]; then
    url=sqlite:///$work/app.db
else
    url=${DATABASE_URL:?the pg mode runs inside tests/pg/pg_env.sh}
fi
# LD_DEBUG=files names every library the loader maps, at start or by dlopen.
out=$(LD_DEBUG=files TESTAPP_ENVIRONMENT=production DATABASE_URL=$url "$app" start 2>&1) ||
    fail "testapp_v1 start failed: $out"
grep -q '^startup: ok' <<<"$out" || fail "no successful start: $out"
if [[ $mode == sqlite ]]; then
    if grep "libpq\.so" <<<"$out"; then
        fail "a start on SQLite loaded libpq"
    fi
    echo "start on SQLite: libpq not loaded"
else
    grep -E 'file=libpq\.so[^ ]* \[[0-9]+\];  dynamically loaded by' <<<"$out" ||
        fail "a start on PostgreSQL did not load libpq with dlopen"
    echo "start on PostgreSQL: libpq loaded with dlopen"
fi
