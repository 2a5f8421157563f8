# NOT NULL without a default on a table with rows would fail there: refused,
# with the fix, and nothing written.
create "add priority field to prompts"
sh_ "ls migrations"
note "with a default it goes through"
sh_ "sed -i 's/priority INTEGER NOT NULL/priority INTEGER NOT NULL DEFAULT 3/' migrations/schema.sql"
create "add priority field to prompts"
show
verify
again
