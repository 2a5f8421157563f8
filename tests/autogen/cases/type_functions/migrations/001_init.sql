-- strata: revision=a1
-- strata: message="initial"

-- strata: up dialect=postgresql
CREATE TYPE mood AS ENUM ('sad', 'meh', 'happy');
CREATE TABLE notes (id INTEGER PRIMARY KEY, m mood NOT NULL DEFAULT 'meh', body TEXT);
CREATE FUNCTION best_mood() RETURNS mood LANGUAGE sql AS $$ SELECT 'happy'::mood $$;
CREATE FUNCTION is_happy(m mood) RETURNS boolean LANGUAGE sql AS $$ SELECT m = 'happy' $$;
CREATE VIEW v_happy AS SELECT id FROM notes WHERE is_happy(m);
INSERT INTO notes (id, m, body) VALUES (1, 'sad', 'x'), (2, 'happy', 'y');

-- strata: down dialect=postgresql
DROP VIEW v_happy;
DROP FUNCTION is_happy(mood);
DROP FUNCTION best_mood();
DROP TABLE notes;
DROP TYPE mood;
