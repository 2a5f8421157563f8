# A rename says so in the schema file: the column keeps its data.
create "name becomes title"
show
verify
rows "SELECT id, title, body FROM prompts"
note "the hint stays: it is stale now, and said to be"
again
note "a table too (its hint alone on the line before)"
sh_ "sed -i 's/^CREATE TABLE prompts (/-- strata: renamed-from prompts\nCREATE TABLE tasks (/; s/ON prompts (title)/ON tasks (title)/; s/ -- strata: renamed-from name//' migrations/schema.sql"
create "prompts become tasks"
show
verify
rows "SELECT id, title FROM tasks"
