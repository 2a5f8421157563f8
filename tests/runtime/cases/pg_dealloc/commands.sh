# pg_dealloc: on a direct connection each migration of a message records its
# time with a statement strata prepared on the session (backend_pg.c,
# batch_text). The second migration's script removes it (DEALLOCATE ALL):
# that migration is rolled back and sent again with the statement as text,
# so every migration runs once, in order, each with its time recorded.
# Sourced by tests/runtime/run_case.sh; expected.pg.txt beside it.
run pg_dealloc app migrate upgrade
q "SELECT string_agg(id::text, ' ' ORDER BY id) FROM t"
q "SELECT revision || ' ' || state || ' ' || (duration_ms >= 0) FROM app_strata_version ORDER BY revision"
run pg_dealloc app migrate downgrade base
q "SELECT count(*) FROM app_strata_version"
