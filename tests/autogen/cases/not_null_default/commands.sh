# NOT NULL with a default on a table with rows: the rows get the default.
create "add priority field to prompts"
show
verify
rows "SELECT id, name, priority FROM prompts ORDER BY id"
again
