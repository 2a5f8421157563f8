# Defaults changed, NOT NULL set (with a default: a NULL name takes it) and
# dropped, an index's columns, a trigger (and, on PostgreSQL, its function).
create "job columns"
show
verify
rows "UPDATE jobs SET status = 'done' WHERE id = 1; SELECT id, name, status, attempts FROM jobs ORDER BY id; SELECT what FROM history"
again
