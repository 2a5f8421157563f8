# A foreign key on an existing column, and a new column with REFERENCES.
# SQLite cannot add the first in place: prompts is rebuilt, every column and
# its index kept, and the runs of prompts (ON DELETE CASCADE) survive.
create "prompts reference templates"
show
verify
rows "SELECT (SELECT count(*) FROM runs), (SELECT count(*) FROM prompts WHERE description = 'first')"
again
