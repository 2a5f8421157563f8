-- strata: revision=a1b2c3d4e5f6
-- strata: message="create notes"

-- strata: up
CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL);

-- strata: down
DROP TABLE notes;
