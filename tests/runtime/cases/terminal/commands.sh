# terminal: the seeds' emoji on a terminal; NO_COLOR wins over CLICOLOR_FORCE.
# Sourced by tests/runtime/run_case.sh; expected*.txt beside it.
note "on a terminal (CLICOLOR_FORCE=1 stands in for one): the seeds' emoji"
unset NO_COLOR
export CLICOLOR_FORCE=1
run v1 app migrate status
run v1 app migrate upgrade
run v1 app migrate status
run v1 app migrate rebuild
run v1 app migrate check --strict
note "NO_COLOR wins over CLICOLOR_FORCE"
NO_COLOR=1 run v1 app migrate status
