CREATE TABLE prompts (
    id INTEGER PRIMARY KEY,
    title VARCHAR(50),
    body TEXT
);
CREATE INDEX ix_prompts_name ON prompts (title);
