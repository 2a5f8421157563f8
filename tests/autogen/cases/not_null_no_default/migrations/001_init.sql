-- strata: revision=a1
-- strata: message="initial"

-- strata: up
CREATE TABLE prompts (id INTEGER PRIMARY KEY, name VARCHAR(255) NOT NULL);
INSERT INTO prompts (id, name) VALUES (1, 'daily'), (2, 'weekly');

-- strata: down
DROP TABLE prompts;
