CREATE TABLE prompts (
    id INTEGER PRIMARY KEY,
    body TEXT,
    slug VARCHAR(50)
);
CREATE INDEX ix_prompts_key ON prompts (slug);
