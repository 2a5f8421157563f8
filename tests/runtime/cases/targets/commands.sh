# targets: a target is read before anything is connected or created (a
# revision that does not exist created the database and its tables first);
# relative targets past the end are refused as Alembic refuses them (+99
# applied everything, -99 went to base); an --sql range the wrong way round
# is refused (it printed an empty script, exit 0).
# Sourced by tests/runtime/run_case.sh; expected*.txt beside it.
tables() {
  if [ "$pg" = 1 ]; then
    q "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1"
  else
    sh_ 'ls -A'
  fi
}
note "a target that names no revision creates nothing"
run v1 app migrate upgrade nosuchrev
run v1 app migrate downgrade nosuchrev
run v1 app migrate stamp nosuchrev
run v1 app migrate upgrade +0
run v1 app migrate downgrade -0
run v1 app migrate upgrade +99
run v1 app migrate downgrade -99
tables
note "relative targets count what is there"
run v1 app migrate upgrade +2
run v1 app migrate upgrade +2
run v1 app migrate upgrade +1
run v1 app migrate upgrade +1
run v1 app migrate downgrade -2
run v1 app migrate downgrade -2
run v1 app migrate downgrade -1
run v1 app migrate downgrade -1
run v1 app migrate current
note "--sql ranges are FROM:TO, the applied revision first"
run v1 app migrate upgrade --sql cccc:aaaa --dialect sqlite
run v1 app migrate upgrade --sql bbbb00000002:bbbb --dialect sqlite
sh_ "$bin/testapp_v1 app migrate upgrade --sql cccc00000003:head --dialect postgresql | tail -1"
sh_ "$bin/testapp_v1 app migrate upgrade --sql aaaa:bbbb --dialect sqlite | grep -c 'INSERT INTO'"
