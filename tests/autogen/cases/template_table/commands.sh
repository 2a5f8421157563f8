# add_table: a primary key of each database's own kind. On PostgreSQL an
# INTEGER PRIMARY KEY has no default, so an insert without an id would
# fail; the identity column numbers the rows.
template add_table --table tasks
show
verify
rows "INSERT INTO tasks (name) VALUES ('a'); INSERT INTO tasks (name) VALUES ('b'); SELECT id, name FROM tasks ORDER BY id"
