# An AUTOINCREMENT table whose highest id (3) was deleted, rebuilt (NOT NULL
# cannot be added in place): the counter is carried over, so the next id is
# 4, not 3 again; NULL names take the new default in the copy.
create "names are required"
show
verify
rows "INSERT INTO jobs (name) VALUES ('d'); SELECT id, name FROM jobs ORDER BY id; SELECT seq FROM sqlite_sequence WHERE name = 'jobs'"
again
