# damaged_shape: tables named like strata's that strata did not make. A
# version table of another shape said "no such column: exact"; a log table
# of another shape made every log write fail, silently. Both are named now,
# with the fix (rename them away), and a log write that fails is said.
# Sourced by tests/runtime/run_case.sh; expected*.txt beside it.
note "another tool's version table, under strata's name"
q "CREATE TABLE app_strata_version (revision TEXT PRIMARY KEY, version_num TEXT)"
run v1 app migrate status
run v1 app migrate current
run v1 start
run v1 app migrate upgrade
q "ALTER TABLE app_strata_version RENAME TO app_strata_version_old"
run v1 app migrate upgrade
note "another tool's log table"
q "ALTER TABLE app_strata_log RENAME TO app_strata_log_mine"
q "CREATE TABLE app_strata_log (id INTEGER PRIMARY KEY, at TEXT, message TEXT)"
run v1 app migrate status
run v1 app migrate downgrade -1
run v1 app migrate repair
q "ALTER TABLE app_strata_log RENAME TO app_strata_log_old"
run v1 app migrate downgrade -1
note "a log write that fails is said, never silent"
if [ "$pg" = 1 ]; then
  q 'CREATE FUNCTION no_log() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RAISE EXCEPTION '"'"'the log is closed'"'"'; END$$'
  q "CREATE TRIGGER no_log BEFORE INSERT ON app_strata_log FOR EACH ROW EXECUTE FUNCTION no_log()"
else
  q "CREATE TRIGGER no_log BEFORE INSERT ON app_strata_log BEGIN SELECT RAISE(ABORT, 'the log is closed'); END"
fi
run v1 app migrate upgrade
q "SELECT operation, revisions, outcome FROM app_strata_log ORDER BY id"
