# An index keeps its name and moves from a column that goes to one that
# comes. On PostgreSQL the old index goes with its column in the main
# migration (it could not wait for the concurrent one: dropping the column
# drops it), the new one is built CONCURRENTLY after; the down puts the old
# one back in the main migration's down, after its column.
create "slug replaces name" --allow-destructive
show
verify
rows "SELECT id, body, slug FROM prompts ORDER BY id"
again
