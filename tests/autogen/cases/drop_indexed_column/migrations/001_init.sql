-- strata: revision=a1
-- strata: message="initial"

-- strata: up
CREATE TABLE prompts (id INTEGER PRIMARY KEY, name VARCHAR(50) NOT NULL, legacy_code VARCHAR(20));
CREATE INDEX ix_prompts_legacy ON prompts (legacy_code);
INSERT INTO prompts (id, name, legacy_code) VALUES (1, 'a', 'x1'), (2, 'b', 'x2');

-- strata: down
DROP TABLE prompts;
