-- The processes that run jobs, one row each while they run, keyed by the
-- id of their River client: the id River writes into a job's attempted_by
-- when the process takes it. Each process adds one to its beats every
-- second or so, and deletes its row when it stops cleanly; another process
-- that sees a row's beats stand still takes that process for dead and
-- hands its running jobs back (see internal/jobs and
-- internal/store/job_process.go). Beats count rather than time, so that
-- no two processes' clocks are ever compared.

-- +goose Up
CREATE TABLE job_process (
    id    TEXT PRIMARY KEY, -- the River client's id
    beats BIGINT NOT NULL   -- heartbeats so far
);

-- +goose Down
DROP TABLE job_process;
