# The seeds' change: a nullable column added to a table with rows, on a
# module both databases run (one schema.sql for both).
create "add priority field to prompts"
show
verify
again
