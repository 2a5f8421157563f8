-- strata: revision=a1
-- strata: message="initial"

-- strata: up
CREATE TABLE prompts (id INTEGER PRIMARY KEY, name VARCHAR(50) NOT NULL, model VARCHAR(20));
CREATE VIEW v_models AS SELECT DISTINCT model FROM prompts;
CREATE VIEW v_names AS SELECT name FROM prompts;

-- strata: down
DROP VIEW v_names;
DROP VIEW v_models;
DROP TABLE prompts;
