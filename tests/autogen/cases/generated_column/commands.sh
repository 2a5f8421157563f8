# A generated column's expression changed. Its values are computed, so no
# data is lost: nothing to pass --allow-destructive for. SQLite rebuilds the
# table; PostgreSQL drops the column and adds it again, and that DROP COLUMN
# carries a squawk-ignore saying why, so the build's lint passes it.
create "totals triple"
show
verify
rows "SELECT id, amount, total FROM prices ORDER BY id"
again
