# drift_pg: drift on PostgreSQL is not implemented: it says so, exit 1, and
# writes nothing (the database stays unmigrated).
# Sourced by tests/runtime/run_case.sh; expected.pg.txt beside it (PostgreSQL only).
run v1 app migrate drift
q "SELECT count(*) FROM pg_tables WHERE tablename LIKE 'app_%'"
run v1 app migrate upgrade
run v1 app migrate drift
run v1 app migrate drift --json
