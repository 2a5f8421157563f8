# damaged_key: the version table lost its primary key (recreated by hand)
# and a row is there twice. It made a known revision "unknown" (exit 8 with
# --strict in production); now every command says which table is damaged
# and that repair gives it its key back. Without a duplicate, status cannot
# tell, and every writing command refuses until repair.
# Sourced by tests/runtime/run_case.sh; expected*.txt beside it.
drop_key() {
  if [ "$pg" = 1 ]; then
    q "ALTER TABLE app_strata_version DROP CONSTRAINT app_strata_version_pkey"
  else
    q "CREATE TABLE copy AS SELECT * FROM app_strata_version; DROP TABLE app_strata_version; ALTER TABLE copy RENAME TO app_strata_version"
  fi
}
run v1 app migrate upgrade
drop_key
q "INSERT INTO app_strata_version SELECT * FROM app_strata_version WHERE revision = 'aaaa00000001'"
run v1 app migrate status
sh_ 'STRATA_ENV=production DATABASE_URL='"$db $bin"'/testapp_v1 app migrate status --strict'
run v1 app migrate status --json
run v1 app migrate check
run v1 app migrate current
run v1 start
run v1 app migrate upgrade
run v1 app migrate downgrade -1
run v1 app migrate stamp head
run v1 app migrate repair
q "SELECT revision, state FROM app_strata_version ORDER BY revision"
run v1 app migrate status
note "no key, no duplicate yet"
drop_key
run v1 app migrate status
run v1 app migrate downgrade -1
run v1 app migrate repair
run v1 app migrate downgrade -1
note "the key holds again: a second row is refused by the database itself"
q "INSERT INTO app_strata_version SELECT * FROM app_strata_version WHERE revision = 'aaaa00000001'"
q "SELECT operation, revisions, outcome FROM app_strata_log ORDER BY id"
