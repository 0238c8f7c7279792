-- Issue 14: the help queue (tickets claimed by mentors), mentors' tags and duty, mentors
-- assigned to teams, perk codes handed out once each, and the organizers' secret links.
-- Times are Unix seconds in UTC (REAL); Discord user ids are TEXT as in team_members.

-- A mentor: the tags they offer (JSON list of the event's [mentoring] tags) and whether they are
-- on duty now. mentor_duty keeps every change, for "tags with no mentor on duty" over time.
CREATE TABLE mentors (
    user_id    TEXT    PRIMARY KEY,
    tags       TEXT    NOT NULL DEFAULT '[]',
    on_duty    INTEGER NOT NULL DEFAULT 0 CHECK (on_duty IN (0, 1)),
    updated_at REAL    NOT NULL
);

CREATE TABLE mentor_duty (
    id      INTEGER PRIMARY KEY,
    user_id TEXT    NOT NULL,
    on_duty INTEGER NOT NULL CHECK (on_duty IN (0, 1)),
    tags    TEXT    NOT NULL,
    at      REAL    NOT NULL
);
CREATE INDEX mentor_duty_user ON mentor_duty(user_id, at);

-- A help ticket; its id is its number (AUTOINCREMENT: a number is never given twice, even after
-- a team and its tickets are removed).
--   open      waiting in the queue; its place is opened_at (a release puts it back there)
--   claimed   claimed_by holds it (claimed_at); first_claimed_at is kept across releases
--   resolved / cancelled / stale (unclaimed for [mentoring] stale_after; the team may reopen it)
-- Escalation: next_step is the index of the event file's next escalation step to notify, at
-- notify_at (NULL: none left, or not waiting); a runner claims a step by one guarded UPDATE of
-- (next_step, notify_at), so that two processes never notify the same step twice.
CREATE TABLE tickets (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    team_id          INTEGER NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    requester        TEXT    NOT NULL,
    problem          TEXT    NOT NULL CHECK (length(trim(problem)) BETWEEN 1 AND 1000),
    tags             TEXT    NOT NULL DEFAULT '[]',
    place            TEXT    NOT NULL DEFAULT '',
    status           TEXT    NOT NULL DEFAULT 'open'
                     CHECK (status IN ('open', 'claimed', 'resolved', 'cancelled', 'stale')),
    opened_at        REAL    NOT NULL,
    queued_at        REAL    NOT NULL,                -- when it last entered the queue (open, release, reopen)
    claimed_by       TEXT,
    claimed_at       REAL,
    first_claimed_at REAL,
    next_step        INTEGER NOT NULL DEFAULT 0 CHECK (next_step >= 0),
    notify_at        REAL,
    closed_at        REAL,
    closed_by        TEXT,
    mentor           TEXT,                            -- who helped: the claimer when it was resolved
    rating           INTEGER CHECK (rating BETWEEN 1 AND 5),
    comment          TEXT    CHECK (comment IS NULL OR length(comment) <= 1000),
    rated_by         TEXT,
    rated_at         REAL,
    thread_id        INTEGER,                         -- the private thread opened at the first claim
    post_channel_id  INTEGER,                         -- the queue post with its Claim button
    post_message_id  INTEGER,
    CHECK ((status = 'claimed') = (claimed_by IS NOT NULL AND claimed_at IS NOT NULL)),
    CHECK ((status IN ('open', 'claimed')) = (closed_at IS NULL)),
    CHECK (rating IS NULL OR status = 'resolved')
);
-- one open ticket per team; one claimed ticket per mentor: whoever writes the row
CREATE UNIQUE INDEX tickets_one_open_per_team ON tickets(team_id) WHERE status IN ('open', 'claimed');
CREATE UNIQUE INDEX tickets_one_claim_per_mentor ON tickets(claimed_by) WHERE status = 'claimed';
CREATE INDEX tickets_queue ON tickets(status, opened_at);
CREATE INDEX tickets_notify ON tickets(notify_at) WHERE status = 'open';

-- What happened to a ticket, in order: open, claim, release, join, resolve, cancel, stale,
-- reopen, notify (an escalation step sent: detail names it), rate.
CREATE TABLE ticket_events (
    id        INTEGER PRIMARY KEY,
    ticket_id INTEGER NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
    kind      TEXT    NOT NULL CHECK (kind IN ('open', 'claim', 'release', 'join', 'resolve', 'cancel', 'stale',
                                               'reopen', 'notify', 'rate')),
    actor     TEXT,
    at        REAL    NOT NULL,
    detail    TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX ticket_events_ticket ON ticket_events(ticket_id, id);
CREATE UNIQUE INDEX ticket_events_one_join ON ticket_events(ticket_id, actor) WHERE kind = 'join';

-- Mentors assigned to teams (confirmed by an organizer): a mentor's teams are conflicts of
-- interest for judging.
CREATE TABLE mentor_assignments (
    mentor_user_id TEXT    NOT NULL,
    team_id        INTEGER NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    shared_tags    TEXT    NOT NULL DEFAULT '[]',
    assigned_at    REAL    NOT NULL,
    assigned_by    TEXT,
    PRIMARY KEY (mentor_user_id, team_id)
);
CREATE INDEX mentor_assignments_team ON mentor_assignments(team_id);

-- Perk codes ([[perks]]): one row per code, imported by `hackbot perks import`. A code goes to
-- one claimant ('team:<id>' or 'member:<discord id>'), a claimant gets one code per perk, and a
-- code once given is never given again.
CREATE TABLE perk_codes (
    id          INTEGER PRIMARY KEY,
    perk        TEXT    NOT NULL,
    code        TEXT    NOT NULL CHECK (length(code) BETWEEN 1 AND 200),
    claimant    TEXT,
    claimed_by  TEXT,                                 -- the Discord user who claimed it
    claimed_at  REAL,
    imported_at REAL    NOT NULL,
    UNIQUE (perk, code),
    UNIQUE (perk, claimant),
    CHECK ((claimant IS NULL) = (claimed_at IS NULL))
);
CREATE INDEX perk_codes_free ON perk_codes(perk, id) WHERE claimant IS NULL;

CREATE TRIGGER perk_codes_given_once BEFORE UPDATE OF claimant ON perk_codes
WHEN OLD.claimant IS NOT NULL AND NEW.claimant IS NOT OLD.claimant
BEGIN
    SELECT RAISE(ABORT, 'a perk code is given once');
END;

CREATE TRIGGER perk_codes_kept BEFORE DELETE ON perk_codes
WHEN OLD.claimant IS NOT NULL
BEGIN
    SELECT RAISE(ABORT, 'a perk code is given once');
END;

-- The organizers' secret links to their pages (`hackbot organizers link`): only the SHA-256 of
-- each random token is kept.
CREATE TABLE organizer_links (
    digest     BLOB PRIMARY KEY CHECK (length(digest) = 32),
    label      TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL,
    revoked_at REAL
);
