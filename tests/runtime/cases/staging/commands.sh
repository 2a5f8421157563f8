# staging: production's policy under its own name (STRATA_ENV=staging, the
# usual spellings, --env stage): an explicit database, auto-apply at start,
# seed data left out, confirmation for downgrade/stamp/repair, no rebuild;
# logs, messages and status --json say "staging".
# Sourced by tests/runtime/run_case.sh; expected*.txt beside it.
export STRATA_ENV=staging
run v1 start
export APP_DATABASE_URL=sqlite:///staging.db
run v1 start
note "seed data (environments=development,test) stays out of staging too"
sh_ 'sqlite3 staging.db "SELECT count(*) FROM items"'
sh_ "$bin"'/testapp_v1 app migrate status --json | grep environment'
run v1 app migrate rebuild
run v1 app migrate downgrade -1
run v1 app migrate downgrade -1 --yes
unset STRATA_ENV
note "the spellings: Staging, STAGE, --env stage"
sh_ 'STRATA_ENV=Staging '"$bin"'/testapp_v1 app migrate status --json | grep environment'
sh_ 'TESTAPP_ENVIRONMENT=STAGE '"$bin"'/testapp_v1 app migrate status --json | grep environment'
run v1 app migrate stamp base --env stage
run v1 app migrate upgrade --env stage
unset APP_DATABASE_URL
