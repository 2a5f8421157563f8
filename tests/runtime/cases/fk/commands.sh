# fk: a migration with foreign_keys=off rebuilds a table without firing the
# cascade (SQLite only).
# Sourced by tests/runtime/run_case.sh; expected*.txt beside it.
run fk app migrate upgrade
note "the rebuild ran with foreign keys off: the cascade did not delete the order"
sh_ 'sqlite3 testapp-app.db "SELECT count(*) FROM orders; PRAGMA foreign_keys;"'
run fk app migrate downgrade base
