CREATE TABLE prompts (id INTEGER PRIMARY KEY, name VARCHAR(50) NOT NULL, model VARCHAR(20));
CREATE TABLE schedules (
    id INTEGER PRIMARY KEY,
    prompt_id INTEGER NOT NULL REFERENCES prompts (id) ON DELETE CASCADE,
    cron VARCHAR(100) NOT NULL,
    UNIQUE (prompt_id, cron)
);
CREATE INDEX ix_schedules_prompt ON schedules (prompt_id);
CREATE VIEW v_models AS SELECT DISTINCT model FROM prompts WHERE model IS NOT NULL;
CREATE VIEW v_schedules AS SELECT p.name, s.cron FROM prompts p JOIN schedules s ON s.prompt_id = p.id;
