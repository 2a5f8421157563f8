# seeds: v1 from nothing and back: status, upgrade, history, current,
# downgrade -1 and base, rebuild, start; the version and log rows.
# Sourced by tests/runtime/run_case.sh; expected*.txt beside it.
run v1 app migrate status
run v1 app migrate upgrade
run v1 app migrate status
run v1 app migrate history
run v1 app migrate current
run v1 app migrate downgrade -1
run v1 app migrate current
run v1 app migrate upgrade
run v1 app migrate downgrade base
run v1 app migrate current
run v1 app migrate rebuild
run v1 app migrate status
run v1 start
q "SELECT revision, state FROM app_strata_version ORDER BY revision"
q "SELECT operation, revisions, outcome FROM app_strata_log ORDER BY id"
