-- Software template tasks (internal/store/task.go): a task, the
-- checkpoint of each step it finished, and its event log. A task's River
-- job runs it; the rows are what a replica that takes the job over resumes
-- from, and what the API and the taskEvents subscription read.

-- +goose Up
-- +goose StatementBegin
CREATE TABLE task (
    id            TEXT PRIMARY KEY,  -- UUIDv7: ordered by creation
    template_ref  TEXT NOT NULL,
    template_etag TEXT NOT NULL,
    template      TEXT NOT NULL,     -- the Template entity (JSON) as it was at creation
    template_dir  TEXT NOT NULL,     -- where fetch actions read; '' for none
    parameters    TEXT NOT NULL,     -- the form's values (JSON)
    secrets       TEXT NOT NULL,     -- JSON; '{}' once the task ends
    created_by    TEXT NOT NULL,
    status        TEXT NOT NULL,     -- open, processing, waiting, completed, failed, cancelled
    output        TEXT NOT NULL,     -- JSON; '{}' until completed
    error         TEXT NOT NULL,
    job_id        BIGINT,            -- the River job that runs it
    gate          TEXT,              -- the approval it waits at (JSON), or NULL
    workspace     BYTEA,             -- tar.gz of the workspace at the last finished step
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL,
    ended_at      TIMESTAMPTZ
);
CREATE INDEX task_status_idx ON task (status);
CREATE INDEX task_created_by_idx ON task (created_by, id);

CREATE TABLE task_step (
    task_id  TEXT NOT NULL REFERENCES task (id) ON DELETE CASCADE,
    step_id  TEXT NOT NULL,
    position INTEGER NOT NULL,
    status   TEXT NOT NULL,
    output   TEXT NOT NULL,          -- JSON
    PRIMARY KEY (task_id, step_id)
);

CREATE TABLE task_event (
    id      BIGSERIAL PRIMARY KEY,
    task_id TEXT NOT NULL REFERENCES task (id) ON DELETE CASCADE,
    step_id TEXT NOT NULL,
    status  TEXT NOT NULL,
    level   TEXT NOT NULL,
    message TEXT NOT NULL,
    at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX task_event_task_idx ON task_event (task_id, id);
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
DROP TABLE task_event;
DROP TABLE task_step;
DROP TABLE task;
-- +goose StatementEnd
