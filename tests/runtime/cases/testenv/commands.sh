# testenv: STRATA_ENV=test: start migrates an in-memory database, no file is
# written.
# Sourced by tests/runtime/run_case.sh; expected*.txt beside it.
sh_ 'STRATA_ENV=test '"$bin"'/testapp_v1 start'
sh_ 'ls'
run v1 app migrate status --env test
