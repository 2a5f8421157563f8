# other_dialect: a migration with up SQL for the other database only is never
# recorded as applied with nothing run: upgrade, start, stamp and offline SQL
# refuse it (exit 4), naming the fix; on its own database it applies.
# Sourced by tests/runtime/run_case.sh; expected*.txt beside it.
run pg_only app migrate status
run pg_only app migrate upgrade
run pg_only app migrate stamp heads
run pg_only app migrate upgrade --sql --dialect sqlite
sh_ 'STRATA_ENV=test '"$bin"'/testapp_pg_only start'
sh_ "$bin"'/testapp_pg_only app migrate upgrade --sql --dialect postgresql >/dev/null'
