# cosmetic: an applied migration re-indented and commented (v2_cosmetic): a
# warning only, until repair records the new checksum.
# Sourced by tests/runtime/run_case.sh; expected*.txt beside it.
run v1 app migrate upgrade
note "002_b.sql re-indented and commented"
run v2_cosmetic start
run v2_cosmetic app migrate status
run v2_cosmetic app migrate repair
run v2_cosmetic app migrate status
