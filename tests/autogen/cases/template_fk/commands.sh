# add_foreign_key about an existing table: on SQLite a rebuild written from
# prompts' real definition (every column, its index, trigger and view, the
# AUTOINCREMENT counter), so a user who edits only the names keeps every
# column and its data, and the rows of runs (ON DELETE CASCADE) stay.
template add_foreign_key --table prompts
show
edit "s/other_id/template_id/g; s/other (id)/job_templates (id)/g"
verify
rows "SELECT id, name, description, model FROM prompts ORDER BY id; SELECT count(*) FROM runs"
note "a table the migrations do not make"
template add_foreign_key --table nosuch
note "add_column and add_index name the table, and a column of it"
template add_index --table prompts
show
