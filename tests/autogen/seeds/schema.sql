-- The cron module's schema after its first two migrations (initial_cron_schema,
-- add new feature), on SQLite: tests/autogen/seeds.sh adds prompts.priority to it,
-- as the seeds do, and runs `migrate create`.

CREATE TABLE prompts (
    id INTEGER PRIMARY KEY,
    name VARCHAR(255) NOT NULL,
    description TEXT,
    prompt_text TEXT NOT NULL,
    model VARCHAR(50) NOT NULL DEFAULT 'haiku',
    persona VARCHAR(50) NOT NULL DEFAULT 'basic_agent',
    created_at DATETIME DEFAULT CURRENT_TIMESTAMP,
    updated_at DATETIME DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX ix_prompts_name ON prompts (name);

CREATE TABLE scheduled_jobs (
    id INTEGER PRIMARY KEY,
    name VARCHAR(255) NOT NULL,
    prompt_id INTEGER NOT NULL REFERENCES prompts (id) ON DELETE CASCADE,
    cron_expression VARCHAR(100) NOT NULL,
    enabled BOOLEAN NOT NULL DEFAULT 1,
    created_at DATETIME DEFAULT CURRENT_TIMESTAMP,
    updated_at DATETIME DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX ix_scheduled_jobs_prompt_id ON scheduled_jobs (prompt_id);
CREATE INDEX ix_scheduled_jobs_enabled ON scheduled_jobs (enabled);

-- SQLAlchemy's onupdate=func.now(), done by the database.
CREATE TRIGGER trg_scheduled_jobs_updated_at
AFTER UPDATE ON scheduled_jobs
FOR EACH ROW WHEN NEW.updated_at IS OLD.updated_at
BEGIN
    UPDATE scheduled_jobs SET updated_at = CURRENT_TIMESTAMP WHERE id = NEW.id;
END;

CREATE TABLE job_executions (
    id INTEGER PRIMARY KEY,
    scheduled_job_id INTEGER NOT NULL REFERENCES scheduled_jobs (id) ON DELETE CASCADE,
    status VARCHAR(50) NOT NULL DEFAULT 'pending',
    started_at DATETIME DEFAULT CURRENT_TIMESTAMP,
    completed_at DATETIME,
    output TEXT,
    error TEXT
);
CREATE INDEX ix_job_executions_scheduled_job_id ON job_executions (scheduled_job_id);
CREATE INDEX ix_job_executions_job_started ON job_executions (scheduled_job_id, started_at);
CREATE INDEX ix_job_executions_status ON job_executions (status);

