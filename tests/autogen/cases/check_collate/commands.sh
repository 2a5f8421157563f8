# A CHECK and a collation added: SQLite rebuilds the table (the rows of the
# table that references it stay); PostgreSQL adds the constraint and alters
# the column's collation in place.
create "priority checked, names sorted"
show
verify
rows "SELECT (SELECT count(*) FROM runs), (SELECT count(*) FROM prompts)"
again
