# A new index on an existing table: on PostgreSQL it is built CONCURRENTLY
# (writes go on while it builds), which cannot run in a transaction, so it
# is a transaction=none migration of its own, after the main one; the index
# of a new table is made with it. SQLite makes both in the migration.
create "index models, add tags"
show
verify
again
