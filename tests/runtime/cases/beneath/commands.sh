# beneath: a newer build (v3) applied dddd00000004 on top of cccc00000003,
# the head of an older build (v1). The older build's downgrade would undo
# cccc00000003 under it (and in production `downgrade base --yes` dropped
# every table, dddd00000004 left recorded): refused, exit 8, unless --force.
# Sourced by tests/runtime/run_case.sh; expected*.txt beside it.
run v3 app migrate upgrade
run v1 app migrate downgrade -1
run v1 app migrate downgrade aaaa00000001
run v1 app migrate downgrade base
sh_ 'STRATA_ENV=production DATABASE_URL='"$db $bin"'/testapp_v1 app migrate downgrade base --yes'
run v1 app migrate downgrade base --env test --database "$db"
note "nothing was undone"
q "SELECT revision FROM app_strata_version ORDER BY revision"
q "SELECT count(*) FROM items"
note "nothing to undo is no harm: a warning, as for status"
run v1 app migrate downgrade cccc00000003
note "the build that has dddd00000004 undoes it first; then the older one may"
run v3 app migrate downgrade -1
run v1 app migrate downgrade -1
run v3 app migrate upgrade
note "--force goes ahead: the unknown revision stays recorded"
run v1 app migrate downgrade -1 --force
run v1 app migrate current
q "SELECT revision FROM app_strata_version ORDER BY revision"
