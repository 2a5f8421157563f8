CREATE TABLE prompts (
    id INTEGER PRIMARY KEY,
    name VARCHAR(255) NOT NULL,
    prompt_text TEXT NOT NULL,
    priority INTEGER
);
CREATE INDEX ix_prompts_name ON prompts (name);
