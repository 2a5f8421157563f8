# bad_rows: version and log tables strata did not make as it makes them: a
# trigger that refuses the bookkeeping, a view in place of the log table, a
# checksum of another form, a revision in another case, the application's
# table already there. Each is a failure that names the migration and rolls
# it back, a warning, or a verdict with its fix. (Rows with a NULL or empty
# revision or an empty checksum, a dirty row on a migration with a
# transaction, a view for the version table: tests/runtime/rows_not_written.sh.)
# Sourced by tests/runtime/run_case.sh; expected*.txt beside it.
row() { # row REVISION: an applied version row as another tool might write it
  q "INSERT INTO app_strata_version (revision, exact, loose, message, applied_at, duration_ms, applied_by, bundle_hash, state) VALUES ($1, 'e', 'l', 'm', '2026-01-01T00:00:00Z', 0, 'elsewhere:1', 'b', 'applied')"
}
run v1 app migrate upgrade bbbb
note "a trigger refuses the version row: the migration is rolled back"
q "CREATE TRIGGER no_rows BEFORE INSERT ON app_strata_version BEGIN SELECT RAISE(ABORT, 'no new rows'); END"
run v1 app migrate upgrade
q "SELECT count(*) FROM items"
q "DROP TRIGGER no_rows"
note "the log table is a view: the upgrade is done, the log row is not"
q "ALTER TABLE app_strata_log RENAME TO real_log"
q "CREATE VIEW app_strata_log AS SELECT * FROM real_log"
run v1 app migrate upgrade
q "SELECT count(*) FROM items"
q "DROP VIEW app_strata_log"
q "ALTER TABLE real_log RENAME TO app_strata_log"
note "the checksum of an applied migration from another algorithm (the loose one agrees: cosmetic)"
q "UPDATE app_strata_version SET exact = 'md5:0123456789abcdef' WHERE revision = 'aaaa00000001'"
run v1 app migrate status
run v1 app migrate repair
run v1 app migrate status
note "a revision in another case is another revision"
row "'AAAA00000001'"
run v1 app migrate status
run v1 app migrate status --env test
q "DELETE FROM app_strata_version WHERE revision = 'AAAA00000001'"
note "the application's table is there already"
q "DELETE FROM app_strata_version"
run v1 app migrate upgrade
run v1 app migrate status
