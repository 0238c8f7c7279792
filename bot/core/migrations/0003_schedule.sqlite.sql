-- The schedule and its reminders. The database is the source of truth: the timer of each bot
-- process is rebuilt from these rows on start. Times are Unix seconds in UTC (REAL).

-- What happens when: items of the event file (source 'config'), items the organizers add live
-- ('live') and the event's own deadlines and phase starts ('automation'). Removed items are
-- kept (removed_at) so that the reminders already posted still name their item.
CREATE TABLE schedule_items (
    id            INTEGER PRIMARY KEY,
    key           TEXT    UNIQUE,                    -- stable identity of a config or automation item; NULL for live ones
    source        TEXT    NOT NULL CHECK (source IN ('config', 'live', 'automation')),
    kind          TEXT    NOT NULL DEFAULT 'event' CHECK (kind IN ('event', 'phase', 'opens', 'deadline')),
    title         TEXT    NOT NULL CHECK (length(trim(title)) BETWEEN 1 AND 200),
    at            REAL    NOT NULL,
    ends          REAL    CHECK (ends IS NULL OR ends >= at),
    description   TEXT    NOT NULL DEFAULT '',
    channel       TEXT,                              -- channel name; NULL: the announcements channel
    mention       TEXT    NOT NULL DEFAULT '[]',     -- JSON list of role names
    link          TEXT,
    remind_before TEXT    NOT NULL DEFAULT '[]',     -- JSON list of offsets in seconds
    created_at    REAL    NOT NULL,
    updated_at    REAL    NOT NULL,
    removed_at    REAL
);
CREATE INDEX schedule_items_at ON schedule_items(at);

-- One row per item and offset: claimed (pending -> sending) by one guarded UPDATE before it is
-- posted, so that it is posted at most once whatever the number of bot processes.
--   pending   waiting for next_try (= due, or later after a failed attempt)
--   sending   claimed by claimed_by at claimed_at; a row left here by a killed process is never
--             posted again (it may have been posted): it is marked failed and reported
--   sent/late posted (late: more than a minute after due, e.g. after a downtime)
--   skipped   more than the event's grace overdue: not posted, reported to the organizers
--   failed    not posted after its retries, or interrupted; reported to the organizers
--   cancelled its item was removed or changed before it was due
CREATE TABLE reminders (
    id          INTEGER PRIMARY KEY,
    item_id     INTEGER NOT NULL REFERENCES schedule_items(id),
    offset_s    REAL    NOT NULL CHECK (offset_s >= 0),
    due         REAL    NOT NULL,
    next_try    REAL    NOT NULL,
    status      TEXT    NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'sending', 'sent', 'late', 'skipped', 'failed', 'cancelled')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    claimed_by  TEXT,
    claimed_at  REAL,
    sent_at     REAL,
    finished_at REAL,                                -- when it reached sent/late/skipped/failed
    text        TEXT,                                -- the message as posted (or as it would have been)
    error       TEXT,
    UNIQUE (item_id, offset_s)
);
CREATE INDEX reminders_pending ON reminders(status, due);
CREATE INDEX reminders_finished ON reminders(finished_at);
