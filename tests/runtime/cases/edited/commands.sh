# edited: an applied migration edited (v2_edited): start, status, upgrade and
# check refuse with exit 4 until repair --accept-edits records the new
# checksum.
# Sourced by tests/runtime/run_case.sh; expected*.txt beside it.
run v1 app migrate upgrade
note "the binary now carries an edited 002_b.sql"
run v2_edited start
run v2_edited app migrate status
run v2_edited app migrate upgrade
run v2_edited app migrate check
run v2_edited app migrate repair --accept-edits
run v2_edited app migrate status
