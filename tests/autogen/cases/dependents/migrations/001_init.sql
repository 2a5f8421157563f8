-- strata: revision=a1
-- strata: message="prompts, their log and views"

-- strata: up dialect=sqlite
CREATE TABLE prompts (id INTEGER PRIMARY KEY, name VARCHAR(50) NOT NULL, score INTEGER);
CREATE INDEX ix_prompts_name ON prompts (name);
CREATE UNIQUE INDEX ix_prompts_score ON prompts (score) WHERE score IS NOT NULL;
CREATE TABLE log (what TEXT);
CREATE TRIGGER trg_prompts_insert AFTER INSERT ON prompts
BEGIN
    INSERT INTO log (what) VALUES ('prompt ' || NEW.name);
END;
CREATE VIEW v_prompts AS SELECT id, name, score FROM prompts;
CREATE VIEW v_top AS SELECT name FROM v_prompts WHERE score > 5;
INSERT INTO prompts (id, name, score) VALUES (1, 'a', 3), (2, 'b', 7);

-- strata: up dialect=postgresql
CREATE TABLE prompts (id INTEGER PRIMARY KEY, name VARCHAR(50) NOT NULL, score INTEGER);
CREATE INDEX ix_prompts_name ON prompts (name);
CREATE UNIQUE INDEX ix_prompts_score ON prompts (score) WHERE score IS NOT NULL;
CREATE TABLE log (what TEXT);
CREATE FUNCTION log_prompt() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO log (what) VALUES ('prompt ' || NEW.name);
    RETURN NEW;
END;
$$;
CREATE TRIGGER trg_prompts_insert AFTER INSERT ON prompts
FOR EACH ROW EXECUTE FUNCTION log_prompt();
CREATE VIEW v_prompts AS SELECT id, name, score FROM prompts;
CREATE VIEW v_top AS SELECT name FROM v_prompts WHERE score > 5;
INSERT INTO prompts (id, name, score) VALUES (1, 'a', 3), (2, 'b', 7);

-- strata: down dialect=sqlite
DROP VIEW v_top;
DROP VIEW v_prompts;
DROP TABLE log;
DROP TABLE prompts;

-- strata: down dialect=postgresql
DROP VIEW v_top;
DROP VIEW v_prompts;
DROP TABLE prompts;
DROP TABLE log;
DROP FUNCTION log_prompt();
