-- strata: revision=a1
-- strata: message="initial"

-- strata: up
CREATE TABLE prompts (id INTEGER PRIMARY KEY, name VARCHAR(50) NOT NULL, model VARCHAR(20));
INSERT INTO prompts (id, name, model) VALUES (1, 'a', 'haiku');

-- strata: down
DROP TABLE prompts;
