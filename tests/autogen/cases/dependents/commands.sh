# A column's type changes under a chain of views (v_top reads v_prompts,
# which reads prompts), a trigger and two indexes, one partial. SQLite
# rebuilds the table and makes them all again; PostgreSQL drops the views
# (dependents first), alters the column, and makes them again (the
# indexes follow the column by themselves).
create "scores with decimals"
show
verify
rows "INSERT INTO prompts (id, name, score) VALUES (3, 'c', 8.5); SELECT count(*) FROM log; SELECT name FROM v_top ORDER BY name"
again
