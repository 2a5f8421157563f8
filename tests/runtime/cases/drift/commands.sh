# drift: the live schema against the schema of the revision the database is
# at (SQLite: the applied migrations replayed in memory). Never migrated,
# pending and several heads are not drift; a manual column (the seeds'
# hotfix), an extra index, a dropped view, a changed trigger and a changed
# column type are, each listed with the SQL that reconciles it, which drift
# never runs (running it here leaves no drift); a dirty migration and an
# unknown revision are refused. drift writes nothing: not even the version
# tables of a database never migrated.
# Sourced by tests/runtime/run_case.sh; expected.txt beside it (SQLite only).

# reconcile: runs the SQL that drift --json suggests, as a person would.
reconcile() {
  sh_ "$bin/testapp_drift app migrate drift --json | python3 -c 'import json,sys; sys.stdout.write(json.load(sys.stdin)[\"sql\"])' | sqlite3 testapp-app.db"
}
# same: the database file has the bytes it had at the last `keep`.
keep() { cksum <testapp-app.db >"$work/before"; }
same() { sh_ 'cksum <testapp-app.db | cmp -s - "$work/before" && echo unchanged'; }

note "never migrated: compared with the empty schema; nothing is created"
run drift app migrate drift
sh_ 'test -e testapp-app.db || echo "no database file"'
run drift app migrate init
keep
run drift app migrate drift --json
same

note "pending is not drift"
run drift app migrate upgrade dddd00000001
run drift app migrate drift
run drift app migrate upgrade
keep
run drift app migrate drift
same

note "the seeds' hotfix: a column added by hand"
q "ALTER TABLE prompts ADD COLUMN hotfix TEXT"
keep
run drift app migrate drift
same
json_ok drift app migrate drift --json
run drift app migrate drift --json
reconcile
run drift app migrate drift

note "an extra index, a dropped view, a changed trigger"
q "CREATE INDEX ix_prompts_model ON prompts (model)"
q "DROP VIEW haiku_prompts"
q "DROP TRIGGER trg_prompts_updated_at"
q "CREATE TRIGGER trg_prompts_updated_at AFTER UPDATE ON prompts BEGIN SELECT 1; END"
run drift app migrate drift
reconcile
run drift app migrate drift

note "a column's type and NOT NULL changed by hand: SQLite rebuilds the table, rows kept"
note "(and the rows of its child, whose foreign key cascades on delete)"
q "INSERT INTO prompts (id, name, prompt_text) VALUES (7, 'daily', 'Summarise the news')"
q "INSERT INTO runs (prompt_id, output) VALUES (7, 'ok'), (7, 'ok'), (7, 'late')"
q "PRAGMA legacy_alter_table = ON; CREATE TABLE p (id INTEGER PRIMARY KEY, name TEXT, prompt_text TEXT NOT NULL, model VARCHAR(50) NOT NULL DEFAULT 'haiku', updated_at DATETIME DEFAULT CURRENT_TIMESTAMP, priority INTEGER NOT NULL DEFAULT 0); INSERT INTO p SELECT * FROM prompts; DROP TABLE prompts; ALTER TABLE p RENAME TO prompts; CREATE INDEX ix_prompts_name ON prompts (name)"
run drift app migrate drift
reconcile
run drift app migrate drift
q "SELECT id, name, prompt_text, model, priority FROM prompts"
q "SELECT id, prompt_id, output FROM runs"

note "an AUTOINCREMENT table rebuilt: its counter is kept, a deleted id is not reused"
q "DELETE FROM runs WHERE id = 3"
q "PRAGMA foreign_keys = OFF; PRAGMA legacy_alter_table = ON; CREATE TABLE r (id INTEGER PRIMARY KEY AUTOINCREMENT, prompt_id INTEGER NOT NULL REFERENCES prompts (id) ON DELETE CASCADE, output BLOB); INSERT INTO r SELECT * FROM runs; DROP TABLE runs; ALTER TABLE r RENAME TO runs; UPDATE sqlite_sequence SET seq = 3 WHERE name = 'runs'"
q "SELECT name, seq FROM sqlite_sequence"
run drift app migrate drift
reconcile
run drift app migrate drift
q "INSERT INTO runs (prompt_id, output) VALUES (7, 'new'); SELECT id, output FROM runs"

note "an extra virtual table: one object, its shadow tables go with it"
q "CREATE VIRTUAL TABLE notes_fts USING fts5(body)"
run drift app migrate drift
reconcile
run drift app migrate drift

note "several heads applied"
run heads app migrate upgrade heads --database sqlite:///heads.db
run heads app migrate drift --database sqlite:///heads.db

note "a dirty migration: what it changed is unknown"
run dirty app migrate upgrade --database sqlite:///dirty.db
run dirty app migrate drift --database sqlite:///dirty.db

note "a database at a revision this binary does not know"
run v3 app migrate upgrade --database sqlite:///ahead.db
run v1 app migrate drift --database sqlite:///ahead.db
