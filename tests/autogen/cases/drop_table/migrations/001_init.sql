-- strata: revision=a1
-- strata: message="initial"

-- strata: up
CREATE TABLE prompts (id INTEGER PRIMARY KEY, name VARCHAR(50) NOT NULL);
CREATE TABLE old_jobs (id INTEGER PRIMARY KEY, prompt_id INTEGER REFERENCES prompts (id) ON DELETE CASCADE);
CREATE VIEW v_jobs AS SELECT id FROM old_jobs;
INSERT INTO prompts (id, name) VALUES (1, 'a');
INSERT INTO old_jobs (id, prompt_id) VALUES (1, 1);

-- strata: down
DROP VIEW v_jobs;
DROP TABLE old_jobs;
DROP TABLE prompts;
