-- Failed logins of the HTTP API, shared by every web process (bot/core/ratelimit.py): 3 processes
-- behind one proxy enforce one limit. One row per refused login; rows older than the window are
-- deleted as new failures come.
CREATE TABLE login_failures (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    client TEXT NOT NULL,
    username TEXT NOT NULL,
    failed_at DOUBLE PRECISION NOT NULL
);
CREATE INDEX login_failures_by_team ON login_failures(username, client, failed_at);
CREATE INDEX login_failures_by_age ON login_failures(failed_at);
