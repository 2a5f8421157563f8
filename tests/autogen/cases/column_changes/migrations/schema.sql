CREATE TABLE jobs (
    id INTEGER PRIMARY KEY,
    name VARCHAR(50) NOT NULL DEFAULT 'unnamed',
    status VARCHAR(20) DEFAULT 'queued',
    attempts INTEGER DEFAULT 0,
    owner VARCHAR(50)
);
CREATE INDEX ix_jobs_status ON jobs (status, owner);
CREATE TABLE history (job_id INTEGER, what TEXT);
CREATE TRIGGER trg_jobs_status AFTER UPDATE OF status ON jobs
BEGIN
    INSERT INTO history (job_id, what) VALUES (NEW.id, 'status: ' || NEW.status);
END;
