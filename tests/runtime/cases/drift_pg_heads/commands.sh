# drift_pg_heads: drift on PostgreSQL with branches. One branch applied
# while the other is pending is compared with what the applied migrations
# made (each one's own change, from the bundle's schema text), so the
# pending branch's table made by hand is drift and nothing else is; both
# heads applied are compared together. Another module's strata tables in
# the same database (another namespace's by their shape, and strata tables
# kept in a schema of their own) are not drift.
# Sourced by tests/runtime/run_case.sh; expected.pg.txt beside it (PostgreSQL only).

if [ ! -x "$bin/testapp_drift_pg_heads" ]; then
  echo "no testapp_drift_pg_heads: this strata-bundle has no libpq to replay on PostgreSQL" >&2
  exit 77
fi

note "one branch applied, the other pending: not drift"
run drift_pg_heads app migrate upgrade ffff00000003
run drift_pg_heads app migrate drift
note "the pending branch's table made by hand is drift"
q "CREATE TABLE left_t (id INTEGER)"
run drift_pg_heads app migrate drift
q "DROP TABLE left_t"
note "the applied branch's column dropped by hand is drift"
q "ALTER TABLE base DROP COLUMN note"
run drift_pg_heads app migrate drift
q "ALTER TABLE base ADD COLUMN note TEXT"

note "both heads applied: compared together"
run drift_pg_heads app migrate upgrade heads
run drift_pg_heads app migrate drift

note "another namespace's strata tables, and strata tables in a schema of their own, are not drift"
q "CREATE TABLE billing_strata_version (revision TEXT PRIMARY KEY, exact TEXT NOT NULL, loose TEXT NOT NULL, message TEXT NOT NULL, applied_at TEXT NOT NULL, duration_ms BIGINT NOT NULL, applied_by TEXT NOT NULL, bundle_hash TEXT NOT NULL, state TEXT NOT NULL, failed_statement INTEGER)"
q "CREATE TABLE billing_strata_log (id BIGSERIAL PRIMARY KEY, at TEXT NOT NULL, by TEXT NOT NULL, operation TEXT NOT NULL, revisions TEXT NOT NULL, outcome TEXT NOT NULL, error TEXT)"
run v1 app migrate init --schema meta
run drift_pg_heads app migrate drift
note "a table that only looks like one by its name is drift"
q "CREATE TABLE audit_version (revision TEXT PRIMARY KEY)"
run drift_pg_heads app migrate drift
