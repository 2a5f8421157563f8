-- strata: revision=a1
-- strata: message="initial"

-- strata: up
CREATE TABLE prompts (
    id INTEGER PRIMARY KEY,
    name VARCHAR(50),
    body TEXT
);
CREATE INDEX ix_prompts_key ON prompts (name);
INSERT INTO prompts (id, name, body) VALUES (1, 'a', 'x'), (2, 'b', 'y');

-- strata: down
DROP TABLE prompts;
