CREATE TABLE prompts (id INTEGER PRIMARY KEY, name VARCHAR(50) NOT NULL, score NUMERIC(5, 1));
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
