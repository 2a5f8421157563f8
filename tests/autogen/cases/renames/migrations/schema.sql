CREATE TABLE prompts (
    id INTEGER PRIMARY KEY,
    title VARCHAR(50) NOT NULL, -- strata: renamed-from name
    body TEXT
);
CREATE INDEX ix_prompts_name ON prompts (title);
