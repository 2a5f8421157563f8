# force: downgrade past a migration without a down section: refused, then
# --force removes its row and keeps its changes.
# Sourced by tests/runtime/run_case.sh; expected*.txt beside it.
run irrev app migrate upgrade
run irrev app migrate downgrade base
run irrev app migrate current
run irrev app migrate downgrade base --force
run irrev app migrate status
