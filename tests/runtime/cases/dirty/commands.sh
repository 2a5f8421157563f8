# dirty: a transaction=none migration that failed half way: exit 7 everywhere
# until repair --mark-unapplied.
# Sourced by tests/runtime/run_case.sh; expected*.txt beside it.
run dirty app migrate upgrade
run dirty app migrate status
run dirty start
run dirty app migrate upgrade
run dirty app migrate repair --mark-unapplied eeee00000002
run dirty app migrate status
