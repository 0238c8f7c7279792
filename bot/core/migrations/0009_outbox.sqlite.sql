-- Issue 10: Discord side effects as durable rows (bot/core/outbox.py). A row is written in the
-- same transaction as the change that causes it, and drained by the process that holds the
-- Discord gateway (bot/outbox_executors.py). Times are Unix seconds in UTC (REAL).
--   pending   waiting; tried at next_attempt_at
--   sending   claimed by claimed_by at claimed_at (one guarded UPDATE: one drainer a row)
--   sent      done; result holds what Discord made (JSON: message, channel, role ids)
--   failed    never to be tried again: a permanent refusal (401/403/404, DMs closed with no
--             fallback) or too many attempts; last_error says why (`hackbot outbox status`)
-- key is the idempotency key: a second enqueue of the same key changes nothing.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    key             TEXT    NOT NULL UNIQUE,
    kind            TEXT    NOT NULL,
    lane            TEXT    NOT NULL DEFAULT '',
    payload         TEXT    NOT NULL DEFAULT '{}',
    created_at      REAL    NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at REAL    NOT NULL,
    status          TEXT    NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'sending', 'sent', 'failed')),
    claimed_by      TEXT,
    claimed_at      REAL,
    finished_at     REAL,
    last_error      TEXT,
    result          TEXT,
    CHECK ((status = 'sending') = (claimed_by IS NOT NULL))
);
CREATE INDEX outbox_due ON outbox(status, next_attempt_at, id);
