-- strata: revision=a1
-- strata: message="initial"

-- strata: up
CREATE TABLE prompts (id INTEGER PRIMARY KEY, name VARCHAR(50) NOT NULL, priority INTEGER);
CREATE TABLE runs (id INTEGER PRIMARY KEY, prompt_id INTEGER REFERENCES prompts (id) ON DELETE CASCADE);
INSERT INTO prompts (id, name, priority) VALUES (1, 'Daily', 1), (2, 'weekly', 3);
INSERT INTO runs (id, prompt_id) VALUES (1, 1), (2, 2);

-- strata: down
DROP TABLE runs;
DROP TABLE prompts;
