# accepts: an applied migration edited with accepts= naming the old checksum
# (v2_accepts): accepted, and start records the new checksum.
# Sourced by tests/runtime/run_case.sh; expected*.txt beside it.
run v1 app migrate upgrade
note "002_b.sql edited, with accepts= naming the old checksum"
run v2_accepts app migrate status
run v2_accepts start
q "SELECT exact FROM app_strata_version WHERE revision = 'bbbb00000002'"
run v2_accepts app migrate status
