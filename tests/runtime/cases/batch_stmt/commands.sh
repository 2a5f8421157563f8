# batch_stmt: transactional migrations share one transaction (SQLite, each in
# a savepoint) or go in one message (PostgreSQL, each in its own
# transaction). A statement of the third fails: it is rolled back alone, the
# two before it stay applied and committed (another process reads them), the
# fourth never runs.
# Sourced by tests/runtime/run_case.sh; expected*.txt beside it.
run batch_stmt app migrate upgrade
q "SELECT revision || ' ' || state FROM app_strata_version ORDER BY revision"
note "the failing one's first statements are undone with it: one row in a, no table c"
q "SELECT count(*) FROM a"
q "SELECT count(*) FROM c"
note "the one after it never ran"
q "SELECT count(*) FROM d"
if [ "$pg" != 1 ]; then
  note "committed: no journal is left to roll back"
  sh_ 'ls testapp-app.db*'
fi
run batch_stmt app migrate status
note "again: the same migration fails, nothing else changes"
run batch_stmt app migrate upgrade
q "SELECT revision || ' ' || state FROM app_strata_version ORDER BY revision"
note "downgrades share a transaction the same way"
run batch_stmt app migrate downgrade base
q "SELECT count(*) FROM app_strata_version"
