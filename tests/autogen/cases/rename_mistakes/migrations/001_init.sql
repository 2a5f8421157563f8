-- strata: revision=a1
-- strata: message="initial"

-- strata: up
CREATE TABLE prompts (id INTEGER PRIMARY KEY, name VARCHAR(50) NOT NULL, body TEXT);
CREATE INDEX ix_prompts_name ON prompts (name);
INSERT INTO prompts (id, name, body) VALUES (1, 'daily', 'summarise the day');

-- strata: down
DROP TABLE prompts;
