# Dropping a column loses its data: refused unless asked for. The index on
# it goes first (SQLite cannot DROP COLUMN an indexed column).
create "drop legacy code"
create "drop legacy code" --allow-destructive
show
verify
rows "SELECT id, name FROM prompts ORDER BY id"
again
