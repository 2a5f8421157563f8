# not_written: version tables holding what strata never writes, on both
# databases, each told with the table and a fix that works, and the fix
# followed: a row with an empty revision (exit 4; repair removes it), a dirty
# row on a migration that runs in a transaction (exit 7, said as such), an
# empty recorded checksum (exit 4; repair --accept-edits, never an accepts=
# line, which strata-bundle would refuse), a view in place of the version
# table (exit 4 for upgrade and repair; the table put back as it says).
# Each was wrong before (docs/reliability.md, defects; the SQLite-only NULL
# revision and the lock cases: tests/runtime/rows_not_written.sh).
# Sourced by tests/runtime/run_case.sh; expected*.txt beside it.
run v1 app migrate upgrade bbbb
note "a row with an empty revision"
q "INSERT INTO app_strata_version (revision, exact, loose, message, applied_at, duration_ms, applied_by, bundle_hash, state) VALUES ('', 'e', 'l', 'm', '2026-01-01T00:00:00Z', 0, 'elsewhere:1', 'b', 'applied')"
run v1 app migrate status
run v1 app migrate upgrade
run v1 app migrate repair
run v1 app migrate status
note "a dirty row on a migration that runs in a transaction"
q "UPDATE app_strata_version SET state = 'dirty' WHERE revision = 'bbbb00000002'"
run v1 app migrate status
run v1 app migrate repair --mark-applied bbbb00000002
run v1 app migrate status
note "an empty recorded checksum"
q "UPDATE app_strata_version SET exact = '', loose = '' WHERE revision = 'aaaa00000001'"
run v1 app migrate status
run v1 app migrate repair --accept-edits
run v1 app migrate status
note "a view in place of the version table"
q "ALTER TABLE app_strata_version RENAME TO real_version; CREATE VIEW app_strata_version AS SELECT * FROM real_version"
run v1 app migrate upgrade
run v1 app migrate repair
q "DROP VIEW app_strata_version; ALTER TABLE real_version RENAME TO app_strata_version"
run v1 app migrate upgrade
q "SELECT revision, state FROM app_strata_version ORDER BY 1"
