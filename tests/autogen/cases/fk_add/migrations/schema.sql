CREATE TABLE templates (id INTEGER PRIMARY KEY, name VARCHAR(50) NOT NULL);
CREATE TABLE prompts (
    id INTEGER PRIMARY KEY,
    name VARCHAR(50) NOT NULL,
    description TEXT,
    template_id INTEGER CONSTRAINT fk_prompts_template REFERENCES templates (id) ON DELETE SET NULL,
    owner_id INTEGER REFERENCES templates (id)
);
CREATE INDEX ix_prompts_name ON prompts (name);
CREATE TABLE runs (id INTEGER PRIMARY KEY, prompt_id INTEGER REFERENCES prompts (id) ON DELETE CASCADE);
