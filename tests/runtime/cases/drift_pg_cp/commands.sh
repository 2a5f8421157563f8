# drift_pg_cp: drift on PostgreSQL after a checkpoint (fixtures/cp_orig and
# cp_gone, built with the schema text). A checkpoint whose originals are in
# the bundle has no text of its own (verify replays the originals), so a
# database that ran it is compared with what its originals give; once they
# are deleted the checkpoint has its text, and a database that went through
# the originals is compared with it.
# Sourced by tests/runtime/run_case.sh; expected.pg.txt beside it (PostgreSQL only).

if [ ! -x "$bin/testapp_cp_orig_pg" ]; then
  echo "no testapp_cp_orig_pg: this strata-bundle has no libpq to replay on PostgreSQL" >&2
  exit 77
fi
reset() {
    q "DROP TABLE items"
    q "DROP TABLE app_strata_version"
    q "DROP TABLE app_strata_log"
}
note "a new database at the checkpoint's revision: the checkpoint ran, no drift"
run cp_orig_pg app migrate upgrade bbbb00000002
run cp_orig_pg app migrate current
run cp_orig_pg app migrate drift
note "a column added by hand is drift"
q "ALTER TABLE items ADD COLUMN hotfix TEXT"
run cp_orig_pg app migrate drift
q "ALTER TABLE items DROP COLUMN hotfix"
note "the rest applied: no drift, with either build"
run cp_orig_pg app migrate upgrade
run cp_orig_pg app migrate drift
run cp_gone_pg app migrate drift
reset
note "through the originals, then the originals deleted: no drift"
run cp_orig_pg app migrate upgrade aaaa00000001
run cp_orig_pg app migrate upgrade
run cp_orig_pg app migrate drift
run cp_gone_pg app migrate drift
note "a column dropped by hand is drift"
q "ALTER TABLE items DROP COLUMN stock"
run cp_gone_pg app migrate drift
