CREATE TYPE mood AS ENUM ('happy', 'sad');
CREATE TABLE notes (id INTEGER PRIMARY KEY, m mood NOT NULL DEFAULT 'sad', body TEXT);
CREATE FUNCTION best_mood() RETURNS mood LANGUAGE sql AS $$ SELECT 'happy'::mood $$;
CREATE FUNCTION is_happy(m mood) RETURNS boolean LANGUAGE sql AS $$ SELECT m = 'happy' $$;
CREATE VIEW v_happy AS SELECT id FROM notes WHERE is_happy(m);
