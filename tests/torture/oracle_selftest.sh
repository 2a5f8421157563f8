#!/usr/bin/env bash
# oracle_selftest.sh BUILD_DIR [pg]: the oracles of herd.sh and killsweep.sh
# (lib.sh) can fail. Each is run once on a good state, where it must pass,
# then on copies of that state broken on purpose in one way each (a
# migration run twice, a row lost, half a migration, a statement out of
# order, a corrupt index, a lock or a session left behind, ...), where it
# must fail. An oracle that passes a broken state is a failure here.
# pg: inside tests/pg/pg_env.sh.
set -u
bin=$1 which=${2:-sqlite}
# shellcheck disable=SC1091
. "$(dirname "$0")/lib.sh"
torture_setup "$which"
export STRATA_ENV=production
session_wait=2 # how long the herd oracle waits for sessions to end

# copy_of NAME: a fresh database NAME holding what the database "good" holds.
copy_of() {
  if [ "$kind" = pg ]; then
    local from=${STRATA_PG_DB}_good to=${STRATA_PG_DB}_$1
    pg_admin "DROP DATABASE IF EXISTS \"$to\" WITH (FORCE)" >/dev/null 2>&1
    pg_admin "CREATE DATABASE \"$to\" TEMPLATE \"$from\"" >/dev/null || exit 1
    extra_dbs+=("$to")
    url="postgresql://postgres@$STRATA_PG_HOST:$STRATA_PG_PORT/$to"
    direct=$url
  else
    cp "$work/good.db" "$work/$1.db"
    dbfile=$work/$1.db url="sqlite:///$dbfile"
  fi
}

# caught NAME ORACLE... : ORACLE must fail on the current (broken) state;
# its failures are the expected ones and do not count.
caught=0 missed=0
caught() {
  local name=$1 before=$fails out
  shift
  out=$("$@" 2>&1; echo "fails=$fails")
  # The oracle's own failures are the point here; a miss is this test's.
  fails=$before
  if [ "${out##*fails=}" -gt "$before" ]; then
    caught=$((caught + 1))
    echo "caught: $name"
    echo "$out" | grep '^FAIL' | head -n 3 | sed 's/^FAIL: /    /'
  else
    missed=$((missed + 1))
    fail "the oracle passed a broken state: $name"
    echo "$out" | sed 's/^/    /'
  fi
}
# passes NAME ORACLE...: ORACLE must pass on the current (good) state.
passes() {
  local name=$1 before=$fails
  shift
  "$@"
  [ "$fails" = "$before" ] && echo "passes: $name" || fail "the oracle failed a good state: $name"
}

# ---- the herd's oracle ----------------------------------------------------
app=$bin/testapp_herd
new_db good
mkdir -p "$work/out"
APP_DATABASE_URL=$url "$app" app migrate upgrade >"$work/out/out.1" 2>&1 || {
  cat "$work/out/out.1"
  exit 1
}
reference=$(schema)
mode=sqlite_journal
[ "$kind" = pg ] && mode=pg_advisory
passes "herd: one process, alone" herd_oracle good "$work/out"

copy_of one_shot_twice
q "INSERT INTO herd_counter (n) VALUES (1)" >/dev/null
caught "herd: the one-shot insert ran twice" herd_oracle broken "$work/out"

copy_of update_twice
q "UPDATE herd_counter SET n = n + 1" >/dev/null
caught "herd: the update ran twice" herd_oracle broken "$work/out"

copy_of ran_twice
mkdir -p "$work/out2"
cp "$work/out/out.1" "$work/out2/out.1"
echo 'info: Running upgrade herd00000024 -> herd00000025, the one-shot insert (1 ms)' >"$work/out2/out.2"
caught "herd: a second process ran a migration again" herd_oracle broken "$work/out2"

copy_of row_lost
q "DELETE FROM app_strata_version WHERE revision = 'herd00000033'" >/dev/null
caught "herd: a version row lost" herd_oracle broken "$work/out"

copy_of row_dirty
q "UPDATE app_strata_version SET state = 'dirty' WHERE revision = 'herd00000040'" >/dev/null
caught "herd: a version row left dirty" herd_oracle broken "$work/out"

copy_of schema_differs
q "ALTER TABLE herd_t3 ADD COLUMN extra INTEGER" >/dev/null
caught "herd: a column more than the reference" herd_oracle broken "$work/out"

copy_of failed_log
q "INSERT INTO app_strata_log (at, by, operation, revisions, outcome, error)
   VALUES ('2026-01-01T00:00:00Z', 'x:1', 'upgrade', '', 'error', 'boom')" >/dev/null
caught "herd: an operation that failed" herd_oracle broken "$work/out"

copy_of corrupt
if [ "$kind" = pg ]; then
  # An index on an expression whose function changes after the build: the
  # index lacks entries for what the heap holds now (amcheck heapallindexed).
  q "CREATE FUNCTION herd_f(text) RETURNS text IMMUTABLE LANGUAGE sql AS 'SELECT \$1';
     CREATE INDEX herd_fx ON herd_t3 (herd_f(v));
     CREATE OR REPLACE FUNCTION herd_f(text) RETURNS text IMMUTABLE LANGUAGE sql AS 'SELECT \$1 || ''!'''" >/dev/null
  caught "herd: an index that lacks rows of its table (amcheck)" sound broken
  copy_of invalid_index
  q "INSERT INTO herd_t5 (id, v) VALUES (1, 'a'), (2, 'a')" >/dev/null
  q "CREATE UNIQUE INDEX CONCURRENTLY herd_ux ON herd_t5 (v)" >/dev/null
  caught "herd: an index left INVALID" integrity broken
  copy_of advisory_left
  psql -X -q "$direct" -c "SELECT pg_advisory_lock(42)" -c "SELECT pg_sleep(20)" >/dev/null 2>&1 &
  holder=$!
  while [ "$(q "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted")" = 0 ]; do sleep 0.05; done
  caught "herd: an advisory lock left held" integrity broken
  kill "$holder" 2>/dev/null
  wait "$holder" 2>/dev/null
  copy_of session_left
  PGAPPNAME=testapp-strata psql -X -q "$direct" -c "SELECT pg_sleep(20)" >/dev/null 2>&1 &
  holder=$!
  while [ "$(q "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'testapp-strata'")" = 0 ]; do
    sleep 0.05
  done
  caught "herd: a session left behind" herd_oracle broken "$work/out"
  kill "$holder" 2>/dev/null
  wait "$holder" 2>/dev/null
else
  # The index's SQL rewritten under it: its entries no longer match.
  q "PRAGMA writable_schema = ON;
     UPDATE sqlite_master SET sql = 'CREATE INDEX herd_i10 ON herd_t9 (id)' WHERE name = 'herd_i10'" >/dev/null
  caught "herd: a corrupt index (integrity_check)" sound broken
  copy_of hot_journal
  # A writer killed in the middle of its transaction leaves a hot journal:
  # once its cache spills into the file (a tiny cache, a big write), the
  # journal is synced and its header written; before that it is not hot
  # (its first byte is zero) and the file is untouched.
  sqlite3 "$dbfile" "PRAGMA cache_size = 2; BEGIN; DELETE FROM herd_t3;
    CREATE TABLE spill AS WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c
    WHERE x < 20000) SELECT x, randomblob(200) AS b FROM c;
    WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c;" \
    >/dev/null 2>&1 &
  writer=$!
  t0=$(now_ms)
  until [ "$(head -c 1 "$dbfile-journal" 2>/dev/null | od -An -tu1 | tr -d ' ')" -gt 0 ] 2>/dev/null; do
    [ $(($(now_ms) - t0)) -lt 60000 ] || break
    sleep 0.01
  done
  kill -KILL "$writer"
  wait "$writer" 2>/dev/null
  caught "herd: a hot journal left" herd_oracle broken "$work/out"
  copy_of not_wal
  mode=sqlite_wal
  caught "herd: not in WAL mode" herd_oracle broken "$work/out"
  mode=sqlite_journal
fi

# ---- the kill sweep's oracle ----------------------------------------------
app=$bin/testapp_crash
new_db good
APP_DATABASE_URL=$url "$app" app migrate upgrade >"$work/crash.out" 2>&1 || {
  cat "$work/crash.out"
  exit 1
}
passes "crash: all applied" crash_oracle good
check "crash: all applied, where" "$crash_where" end
broken() { # broken NAME SQL...: a copy of good with SQL run on it; the crash oracle must fail
  local name=$1 s
  shift
  copy_of "c_$RANDOM"
  for s in "$@"; do q "$s" >/dev/null; done
  caught "crash: $name" crash_oracle broken
}
broken "a migration without its row (all of its effects)" \
  "DELETE FROM app_strata_version WHERE revision = 'c4a500000005'"
broken "half a migration (its log row lost)" "DELETE FROM ks_log WHERE rev = '4'"
broken "half a migration (its column lost)" "ALTER TABLE ks_a DROP COLUMN y"
broken "a statement ran twice (the counter)" "UPDATE ks_counter SET n = n + 2"
broken "a migration ran twice (its log row)" "INSERT INTO ks_log (rev) VALUES ('2')"
broken "rows lost from a migration's table" "DELETE FROM ks_a WHERE x = 1"
broken "rows out of order (2 missing, 3 there)" \
  "DELETE FROM app_strata_version WHERE revision = 'c4a500000002'"
broken "a dirty migration's statements not a prefix" \
  "UPDATE app_strata_version SET state = 'dirty' WHERE revision = 'c4a500000003'" \
  "DELETE FROM app_strata_version WHERE revision IN ('c4a500000004', 'c4a500000005')" \
  "DELETE FROM ks_log WHERE rev IN ('4', '5')" "UPDATE ks_counter SET n = 3" \
  "DROP TABLE ks_b" "DROP TABLE ks_done" "ALTER TABLE ks_a DROP COLUMN y" "DROP TABLE ks_n1"
broken "a migration without a transaction done, with no row" \
  "DELETE FROM app_strata_version WHERE revision IN ('c4a500000003', 'c4a500000004', 'c4a500000005')" \
  "DELETE FROM ks_log WHERE rev IN ('4', '5')" "UPDATE ks_counter SET n = 3" \
  "DROP TABLE ks_b" "DROP TABLE ks_done" "ALTER TABLE ks_a DROP COLUMN y"
if [ "$kind" = pg ]; then
  broken "a state strata does not write" \
    "ALTER TABLE app_strata_version DROP CONSTRAINT app_strata_version_state_check" \
    "UPDATE app_strata_version SET state = 'half' WHERE revision = 'c4a500000005'"
else
  broken "a state strata does not write" "PRAGMA ignore_check_constraints = ON;
    UPDATE app_strata_version SET state = 'half' WHERE revision = 'c4a500000005'"
fi

echo "$caught broken states caught, $missed passed"
finish "oracle self-test ($kind)"
