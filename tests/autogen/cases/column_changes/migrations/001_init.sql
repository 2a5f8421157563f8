-- strata: revision=a1
-- strata: message="initial"

-- strata: up dialect=sqlite
CREATE TABLE jobs (
    id INTEGER PRIMARY KEY,
    name VARCHAR(50),
    status VARCHAR(20) DEFAULT 'new',
    attempts INTEGER NOT NULL DEFAULT 0,
    owner VARCHAR(50)
);
CREATE INDEX ix_jobs_status ON jobs (status);
CREATE TABLE history (job_id INTEGER, what TEXT);
CREATE TRIGGER trg_jobs_status AFTER UPDATE OF status ON jobs
BEGIN
    INSERT INTO history (job_id, what) VALUES (NEW.id, NEW.status);
END;
INSERT INTO jobs (id, name, owner) VALUES (1, 'a', 'ann'), (2, NULL, 'bob');

-- strata: up dialect=postgresql
CREATE TABLE jobs (
    id INTEGER PRIMARY KEY,
    name VARCHAR(50),
    status VARCHAR(20) DEFAULT 'new',
    attempts INTEGER NOT NULL DEFAULT 0,
    owner VARCHAR(50)
);
CREATE INDEX ix_jobs_status ON jobs (status);
CREATE TABLE history (job_id INTEGER, what TEXT);
CREATE FUNCTION jobs_status() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO history (job_id, what) VALUES (NEW.id, NEW.status);
    RETURN NEW;
END;
$$;
CREATE TRIGGER trg_jobs_status AFTER UPDATE OF status ON jobs
FOR EACH ROW EXECUTE FUNCTION jobs_status();
INSERT INTO jobs (id, name, owner) VALUES (1, 'a', 'ann'), (2, NULL, 'bob');

-- strata: down dialect=sqlite
DROP TABLE history;
DROP TABLE jobs;

-- strata: down dialect=postgresql
DROP TABLE history;
DROP TABLE jobs;
DROP FUNCTION jobs_status();
