# batch_fk: the third migration leaves a child without its parent, which a
# deferred foreign key refuses only at commit. Sharing a transaction with
# others (SQLite) it is still checked at its own end, and rolled back alone:
# the two before it stay applied, the fourth never runs.
# Sourced by tests/runtime/run_case.sh; expected*.txt beside it.
run batch_fk app migrate upgrade
q "SELECT revision || ' ' || state FROM app_strata_version ORDER BY revision"
note "its new column is undone with it; the one after it never ran"
q "SELECT count(*) FROM child"
q "SELECT note FROM parent"
q "SELECT count(*) FROM later"
run batch_fk app migrate downgrade base
q "SELECT count(*) FROM app_strata_version"
