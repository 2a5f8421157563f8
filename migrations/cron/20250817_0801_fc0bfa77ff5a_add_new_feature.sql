-- strata: revision=fc0bfa77ff5a revises=5d8b746712b6
-- strata: message="add new feature"

-- Job history is read newest first per job ("last 20 runs of job 7"), and the
-- dashboard counts executions by status. The same SQL serves both databases.

-- strata: up
CREATE INDEX ix_job_executions_job_started
    ON job_executions (scheduled_job_id, started_at);
CREATE INDEX ix_job_executions_status ON job_executions (status);

-- strata: down
DROP INDEX ix_job_executions_status;
DROP INDEX ix_job_executions_job_started;
