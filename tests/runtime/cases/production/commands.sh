# production: STRATA_ENV=production: an explicit database is required, seed
# data stays out, rebuild is refused, downgrade/stamp/repair need --yes; what
# decides the environment.
# Sourced by tests/runtime/run_case.sh; expected*.txt beside it.
export STRATA_ENV=production
run v1 start
export APP_DATABASE_URL=sqlite:///prod.db
run v1 start
note "seed data (environments=development,test) never reaches production"
sh_ 'sqlite3 prod.db "SELECT count(*) FROM items"'
run v1 app migrate status
run v1 app migrate rebuild
run v1 app migrate downgrade -1
run v1 app migrate stamp base
run v1 app migrate repair
run v1 app migrate downgrade -1 --yes
run v1 app migrate current
unset STRATA_ENV APP_DATABASE_URL
note "what decides the environment (status --json shows it)"
sh_ 'TESTAPP_ENVIRONMENT=production DATABASE_URL=sqlite:///prod.db '"$bin"'/testapp_v1 app migrate status --json | grep environment'
sh_ 'KUBERNETES_SERVICE_HOST=10.0.0.1 DATABASE_URL=sqlite:///prod.db '"$bin"'/testapp_v1 app migrate status --json | grep environment'
sh_ 'DYNO=web.1 STRATA_ENV=development DATABASE_URL=sqlite:///prod.db '"$bin"'/testapp_v1 app migrate status --json | grep environment'
sh_ 'STRATA_ENV=stagin '"$bin"'/testapp_v1 app migrate status'
