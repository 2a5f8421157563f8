# json: --json on status, current, history, pending, check and heads is valid
# JSON; status --json in full.
# Sourced by tests/runtime/run_case.sh; expected*.txt beside it.
json_ok v1 app migrate status --json
run v1 app migrate upgrade +1
json_ok v1 app migrate status --json
json_ok v1 app migrate current --json
json_ok v1 app migrate history --json
json_ok v1 app migrate pending --json
json_ok v1 app migrate check --json
json_ok v1 app migrate heads --json
run v1 app migrate status --json
