CREATE TABLE prompts (id INTEGER PRIMARY KEY, name VARCHAR(50) NOT NULL, model VARCHAR(20));
CREATE INDEX ix_prompts_model ON prompts (model);
CREATE TABLE tags (id INTEGER PRIMARY KEY, prompt_id INTEGER REFERENCES prompts (id), tag VARCHAR(20));
CREATE INDEX ix_tags_prompt ON tags (prompt_id);
