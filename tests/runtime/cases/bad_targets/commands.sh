# bad_targets: revision arguments strata cannot read are refused before
# anything is connected (exit 2), saying what a target may be. (repair's
# revisions: case repair_unknown.)
# Sourced by tests/runtime/run_case.sh; expected*.txt beside it.
note "targets that are not revisions"
run v1 app migrate upgrade ''
run v1 app migrate upgrade 'aaaa bbbb'
run v1 app migrate upgrade +abc
run v1 app migrate upgrade +-1
run v1 app migrate upgrade +99999999999999999999
run v1 app migrate upgrade base
run v1 app migrate downgrade -abc
run v1 app migrate downgrade +1
run v1 app migrate stamp +1
run v1 app migrate show aaa
note "offline ranges and history ranges"
run v1 app migrate upgrade --sql aaaa:bbbb:cccc --dialect sqlite
run v1 app migrate upgrade --sql : --dialect sqlite
run v1 app migrate history -r ::
run v1 app migrate history -r abc
note "merges"
run heads app migrate merge aaaa00000001 aaaa00000001 -m twice
note "nothing was created"
sh_ 'ls -A'
