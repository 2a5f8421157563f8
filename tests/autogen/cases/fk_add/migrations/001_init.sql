-- strata: revision=a1
-- strata: message="initial"

-- strata: up
CREATE TABLE templates (id INTEGER PRIMARY KEY, name VARCHAR(50) NOT NULL);
CREATE TABLE prompts (
    id INTEGER PRIMARY KEY,
    name VARCHAR(50) NOT NULL,
    description TEXT,
    template_id INTEGER
);
CREATE INDEX ix_prompts_name ON prompts (name);
CREATE TABLE runs (id INTEGER PRIMARY KEY, prompt_id INTEGER REFERENCES prompts (id) ON DELETE CASCADE);
INSERT INTO templates (id, name) VALUES (1, 't');
INSERT INTO prompts (id, name, description, template_id) VALUES (1, 'a', 'first', 1), (2, 'b', NULL, NULL);
INSERT INTO runs (id, prompt_id) VALUES (1, 1), (2, 2), (3, 2);

-- strata: down
DROP TABLE runs;
DROP TABLE prompts;
DROP TABLE templates;
