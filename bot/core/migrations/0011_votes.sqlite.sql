-- Issue 13: public votes ([[votes]]): one ballot per person per vote, a new ballot replacing the
-- previous one until the close; every ballot cast is logged with its outcome (refused ballots
-- too, with their reasons: nothing is dropped); single-use ballot codes for voters outside the
-- Discord server. Times are Unix seconds, UTC.
--   vote_state  one row per [[votes]] entry, its kind and times synced from the event file at
--               start; closed_at set once by the close (`/vote close`, `hackbot vote close`, or
--               the first use after the close time), with the ballot's projects frozen in `pool`.
--               After it no ballot is written, changed or deleted (triggers below).
--   ballot_log  every ballot cast: status counted | unverified (a check could not run; counted
--               apart) | refused (reasons: JSON [[code, message], ...]); voter is discord:<id>,
--               email:<digest> or code:<digest> (a code holder's attendee key); code and address
--               are digests, never a code or an address.
--   ballots     the one ballot of each voter that stands: the last one not refused.
--   vote_codes  a code's SHA-256 only; used_at set once (a code casts one ballot).
CREATE TABLE vote_state (
    id          TEXT    PRIMARY KEY,
    kind        TEXT    NOT NULL CHECK (kind IN ('approval', 'single', 'ranked')),
    max_choices INTEGER CHECK (max_choices IS NULL OR max_choices >= 1),
    opens_at    REAL    NOT NULL,
    closes_at   REAL    NOT NULL CHECK (closes_at > opens_at),
    opened_at   REAL,
    opened_by   TEXT,
    closed_at   REAL,
    closed_by   TEXT,
    pool        TEXT,
    CHECK ((closed_at IS NULL) = (pool IS NULL))
);

CREATE TABLE ballot_log (
    id              INTEGER PRIMARY KEY,
    vote            TEXT    NOT NULL REFERENCES vote_state(id),
    voter           TEXT    NOT NULL CHECK (length(voter) BETWEEN 1 AND 100),
    door            TEXT    NOT NULL CHECK (door IN ('discord', 'web')),
    choices         TEXT    NOT NULL,
    status          TEXT    NOT NULL CHECK (status IN ('counted', 'unverified', 'refused')),
    reasons         TEXT    NOT NULL DEFAULT '[]',
    cast_at         REAL    NOT NULL,
    account_created REAL,
    code            TEXT,
    address         TEXT,
    CHECK (status = 'counted' OR reasons <> '[]')
);
CREATE INDEX ballot_log_vote ON ballot_log(vote, id);

CREATE TABLE ballots (
    vote          TEXT    NOT NULL REFERENCES vote_state(id),
    voter         TEXT    NOT NULL,
    log_id        INTEGER NOT NULL UNIQUE REFERENCES ballot_log(id),
    door          TEXT    NOT NULL CHECK (door IN ('discord', 'web')),
    choices       TEXT    NOT NULL,
    status        TEXT    NOT NULL CHECK (status IN ('counted', 'unverified')),
    cast_at       REAL    NOT NULL,
    first_cast_at REAL    NOT NULL,
    PRIMARY KEY (vote, voter)
);

CREATE TRIGGER ballots_open_insert BEFORE INSERT ON ballots
WHEN (SELECT closed_at IS NOT NULL OR NEW.cast_at >= closes_at FROM vote_state WHERE id = NEW.vote)
BEGIN
    SELECT RAISE(ABORT, 'the vote is closed');
END;

CREATE TRIGGER ballots_open_update BEFORE UPDATE ON ballots
WHEN (SELECT closed_at IS NOT NULL OR NEW.cast_at >= closes_at FROM vote_state WHERE id = OLD.vote)
BEGIN
    SELECT RAISE(ABORT, 'the vote is closed');
END;

CREATE TRIGGER ballots_open_delete BEFORE DELETE ON ballots
WHEN (SELECT closed_at IS NOT NULL FROM vote_state WHERE id = OLD.vote)
BEGIN
    SELECT RAISE(ABORT, 'the vote is closed');
END;

CREATE TRIGGER vote_state_closed_once BEFORE UPDATE OF closed_at, pool ON vote_state
WHEN OLD.closed_at IS NOT NULL AND (NEW.closed_at IS NOT OLD.closed_at OR NEW.pool IS NOT OLD.pool)
BEGIN
    SELECT RAISE(ABORT, 'the vote is closed');
END;

CREATE TABLE vote_codes (
    id          INTEGER PRIMARY KEY,
    vote        TEXT    NOT NULL REFERENCES vote_state(id),
    digest      BLOB    NOT NULL CHECK (length(digest) = 32),
    voter       TEXT    NOT NULL,
    imported_at REAL    NOT NULL,
    used_at     REAL,
    UNIQUE (vote, digest),
    UNIQUE (vote, voter)
);

CREATE TRIGGER vote_codes_used_once BEFORE UPDATE OF used_at ON vote_codes
WHEN OLD.used_at IS NOT NULL
BEGIN
    SELECT RAISE(ABORT, 'a ballot code casts one ballot');
END;
