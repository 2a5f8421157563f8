-- strata: revision=a1
-- strata: message="jobs"

-- strata: up
CREATE TABLE jobs (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT, note TEXT);
INSERT INTO jobs (name) VALUES ('a'), ('b'), ('c');
DELETE FROM jobs WHERE id = 3;

-- strata: down
DROP TABLE jobs;
