-- strata: revision=a1
-- strata: message="initial"

-- strata: up
CREATE TABLE prompts (
    id INTEGER PRIMARY KEY,
    name VARCHAR(255) NOT NULL,
    prompt_text TEXT NOT NULL
);
CREATE INDEX ix_prompts_name ON prompts (name);

-- strata: down
DROP TABLE prompts;
