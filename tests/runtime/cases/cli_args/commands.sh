# cli_args: what the command line cannot do is refused, exit 2, with a
# message that says what to do, before any database is opened: arguments a
# command does not take (they were ignored: `upgrade head extra` applied
# everything), more than eight, options that belong to another command, a
# message given twice, a schema of PostgreSQL's own.
# Sourced by tests/runtime/run_case.sh; expected*.txt beside it.
note "arguments a command does not take"
run v1 app migrate upgrade head extra
run v1 app migrate upgrade aaaa bbbb00000002
run v1 app migrate downgrade -1 extra
run v1 app migrate status extra
run v1 app migrate check extra
run v1 app migrate current extra
run v1 app migrate history extra
run v1 app migrate pending extra
run v1 app migrate validate extra
run v1 app migrate heads extra
run v1 app migrate branches extra
run v1 app migrate show aaaa bbbb
run v1 app migrate stamp head extra
run v1 app migrate repair extra
run v1 app migrate rebuild extra
run v1 app migrate init extra
run v1 app migrate create "one message" extra
run v1 app migrate revision extra -m "one message"
run v1 app migrate upgrade 1 2 3 4 5 6 7 8 9
note "arguments a command needs"
run v1 app migrate downgrade
run v1 app migrate stamp
run v1 app migrate show
run v1 app migrate show base
run v1 app migrate revision
run v1 app migrate create "add notes" -m "add notes"
run v1 app migrate merge aaaa00000001
note "options that belong to another command"
run v1 app migrate status --force
run v1 app migrate upgrade --force
run v1 app migrate downgrade -1 --stamp-only
run v1 app migrate upgrade -m "message"
run v1 app migrate history --template add_table
run v1 app migrate current -r aaaa:
run v1 app migrate show aaaa --head bbbb
run v1 app migrate stamp head --accept-edits
run v1 app migrate status --sql
run v1 app migrate upgrade --dialect sqlite
run v1 app migrate upgrade --sql --stamp-only
note "PostgreSQL's own schemas"
run v1 app migrate status --schema information_schema
run v1 app migrate upgrade --schema pg_catalog
run v1 app migrate upgrade --schema pg_toast
note "nothing was created"
sh_ 'ls -A'
