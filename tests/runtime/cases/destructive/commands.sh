# destructive: production applies on its own only migrations that drop no
# data. bbbb00000002 drops a column with only squawk-ignore (no reason): the
# bundle records it, a production start and a plain upgrade refuse it, naming
# it, the finding and the command; --allow-destructive applies it.
# cccc00000003 drops a table with lint_ignore and a reason: it runs on its own.
# Sourced by tests/runtime/run_case.sh; expected.txt beside it.
export STRATA_ENV=production APP_DATABASE_URL=sqlite:///prod.db
run destructive app migrate upgrade aaaa00000001
run destructive start
sh_ 'sqlite3 prod.db "SELECT revision FROM app_strata_version"'
run destructive app migrate upgrade
run destructive app migrate upgrade bbbb00000002 --allow-destructive
note "the acknowledged drop (lint_ignore with a reason) needs no one"
run destructive start
run destructive app migrate status
note "staging has production's policy"
export STRATA_ENV=staging APP_DATABASE_URL=sqlite:///staging.db
run destructive app migrate upgrade aaaa00000001
run destructive start
note "a new database applies everything: what it drops, the same run created"
export STRATA_ENV=production APP_DATABASE_URL=sqlite:///fresh.db
run destructive start
note "development and test apply as before"
export STRATA_ENV=test APP_DATABASE_URL=sqlite:///test.db
run destructive app migrate upgrade aaaa00000001
run destructive start
unset STRATA_ENV APP_DATABASE_URL
note "--allow-destructive belongs to upgrade, and not with --sql"
run destructive app migrate downgrade base --allow-destructive
run destructive app migrate upgrade --sql --allow-destructive
