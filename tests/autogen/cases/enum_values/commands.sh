# Enum values added, one in the middle: PostgreSQL cannot use a value in the
# transaction that adds it, so the values come in a migration of their own,
# before the one that uses 'running' (a view). Its down recreates the type
# without them (a value cannot be dropped).
create "running and failed jobs"
show
verify
rows "INSERT INTO jobs (status) VALUES ('running'); SELECT count(*) FROM v_running; SELECT enum_range(NULL::job_status)"
again
note "a value removed loses the rows that hold it: refused unless asked"
sh_ "sed -i \"s/'done', 'failed'/'done'/\" migrations/schema.postgresql.sql"
create "no failed jobs"
create "no failed jobs" --allow-destructive
show
verify
