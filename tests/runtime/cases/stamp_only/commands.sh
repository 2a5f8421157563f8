# stamp_only: seed 001's first fix for "table already exists": upgrade
# --stamp-only records a migration without running it. The failure names it,
# and stamp; production needs --yes.
# Sourced by tests/runtime/run_case.sh; expected*.txt beside it.
note "the items table was made by hand before strata ran"
q "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL)"
run v1 app migrate upgrade
run v1 app migrate upgrade aaaa00000001 --stamp-only
run v1 app migrate upgrade
run v1 app migrate upgrade --stamp-only
q "SELECT revision, state FROM app_strata_version ORDER BY revision"
q "SELECT operation, revisions, outcome FROM app_strata_log ORDER BY id"
note "production: recording without running needs --yes"
q "ALTER TABLE items ADD COLUMN stock INTEGER"
sh_ 'STRATA_ENV=production DATABASE_URL='"$db $bin"'/testapp_v3 app migrate upgrade --stamp-only'
sh_ 'STRATA_ENV=production DATABASE_URL='"$db $bin"'/testapp_v3 app migrate upgrade +1 --stamp-only --yes'
run v3 app migrate status
run v3 app migrate upgrade --help
