-- Issue 12: judges, their conflicts, the reviews assigned, the append-only score log, and the
-- winners frozen before their reveal. Times are Unix seconds, UTC. Judging is keyed by team
-- (one project per team): a round drawn from the leaderboard hears teams without a project row.
--   judges.user_id   a Discord user id, or "ext-..." for a judge outside the server, who scores
--                    on a page reached through a single-use link (only SHA-256 digests stored)
--   panels           JSON list of [[judging.panels]] ids
--   affiliations     normalized (casefolded, single-spaced) key + the name as written
CREATE TABLE judges (
    user_id        TEXT    PRIMARY KEY CHECK (length(user_id) BETWEEN 1 AND 64),
    name           TEXT    NOT NULL CHECK (length(trim(name)) BETWEEN 1 AND 100),
    panels         TEXT    NOT NULL DEFAULT '[]',
    external       INTEGER NOT NULL DEFAULT 0 CHECK (external IN (0, 1)),
    link_digest    BLOB    UNIQUE CHECK (link_digest IS NULL OR length(link_digest) = 32),
    link_used_at   REAL,
    session_digest BLOB    UNIQUE CHECK (session_digest IS NULL OR length(session_digest) = 32),
    created_at     REAL    NOT NULL
);

CREATE TABLE judge_affiliations (
    user_id TEXT NOT NULL REFERENCES judges(user_id) ON DELETE CASCADE,
    key     TEXT NOT NULL CHECK (length(key) BETWEEN 1 AND 100),
    name    TEXT NOT NULL,
    PRIMARY KEY (user_id, key)
);

CREATE TABLE team_affiliations (
    team_id INTEGER NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    key     TEXT    NOT NULL CHECK (length(key) BETWEEN 1 AND 100),
    name    TEXT    NOT NULL,
    PRIMARY KEY (team_id, key)
);
CREATE INDEX team_affiliations_key ON team_affiliations(key);

-- A declared conflict or a recusal (/judge recuse); mentored teams come from mentor_assignments.
CREATE TABLE judge_conflicts (
    user_id TEXT    NOT NULL,
    team_id INTEGER NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    reason  TEXT    NOT NULL CHECK (reason IN ('declared', 'recused')),
    note    TEXT    NOT NULL DEFAULT '' CHECK (length(note) <= 500),
    at      REAL    NOT NULL,
    PRIMARY KEY (user_id, team_id, reason)
);

-- The event file's rounds as the database sees them (refreshed on start): the close the score
-- log's trigger holds.
CREATE TABLE judging_rounds (
    id     TEXT PRIMARY KEY,
    mode   TEXT NOT NULL,
    closes REAL
);

-- Who reviews what. A review ended by a conflict or a re-plan stays as a row with active = 0.
CREATE TABLE review_assignments (
    round        TEXT    NOT NULL REFERENCES judging_rounds(id),
    judge        TEXT    NOT NULL REFERENCES judges(user_id),
    team_id      INTEGER NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    calibration  INTEGER NOT NULL DEFAULT 0 CHECK (calibration IN (0, 1)),
    active       INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    ended        TEXT    NOT NULL DEFAULT '',
    assigned_at  REAL    NOT NULL,
    PRIMARY KEY (round, judge, team_id)
);
CREATE INDEX review_assignments_team ON review_assignments(round, team_id);

-- A conflict of interest, as the database sees it: a declared conflict or recusal, a team the
-- judge mentored, a team the judge is in, or a shared affiliation.
CREATE VIEW judge_team_conflicts AS
    SELECT user_id AS judge, team_id FROM judge_conflicts
    UNION SELECT mentor_user_id, team_id FROM mentor_assignments
    UNION SELECT user_id, team_id FROM team_members
    UNION SELECT j.user_id, t.team_id FROM judge_affiliations j JOIN team_affiliations t ON t.key = j.key;

CREATE TRIGGER review_assignments_no_conflict BEFORE INSERT ON review_assignments
WHEN NEW.active = 1 AND EXISTS (SELECT 1 FROM judge_team_conflicts c WHERE c.judge = NEW.judge AND c.team_id = NEW.team_id)
BEGIN
    SELECT RAISE(ABORT, 'a judge is never assigned a team they have a conflict of interest with');
END;

CREATE TRIGGER review_assignments_no_conflict_again BEFORE UPDATE OF active ON review_assignments
WHEN NEW.active = 1 AND EXISTS (SELECT 1 FROM judge_team_conflicts c WHERE c.judge = NEW.judge AND c.team_id = NEW.team_id)
BEGIN
    SELECT RAISE(ABORT, 'a judge is never assigned a team they have a conflict of interest with');
END;

-- A conflict declared (or a mentor assigned, an affiliation added) after the plan ends the reviews it forbids.
CREATE TRIGGER judge_conflicts_end_reviews AFTER INSERT ON judge_conflicts
BEGIN
    UPDATE review_assignments SET active = 0, ended = 'conflict: ' || NEW.reason
    WHERE judge = NEW.user_id AND team_id = NEW.team_id AND active = 1;
END;

CREATE TRIGGER mentor_assignments_end_reviews AFTER INSERT ON mentor_assignments
BEGIN
    UPDATE review_assignments SET active = 0, ended = 'conflict: mentored'
    WHERE judge = NEW.mentor_user_id AND team_id = NEW.team_id AND active = 1;
END;

CREATE TRIGGER judge_affiliations_end_reviews AFTER INSERT ON judge_affiliations
BEGIN
    UPDATE review_assignments SET active = 0, ended = 'conflict: affiliation'
    WHERE judge = NEW.user_id AND active = 1
      AND team_id IN (SELECT team_id FROM team_affiliations WHERE key = NEW.key);
END;

CREATE TRIGGER team_affiliations_end_reviews AFTER INSERT ON team_affiliations
BEGIN
    UPDATE review_assignments SET active = 0, ended = 'conflict: affiliation'
    WHERE team_id = NEW.team_id AND active = 1
      AND judge IN (SELECT user_id FROM judge_affiliations WHERE key = NEW.key);
END;

-- The score log: every score, ranking and void is a new row; nothing is updated or deleted.
-- Results are recomputed from it: a judge's last score of a team (last ranking of a round)
-- counts, unless an organizer voided the judge's scores of the round after it.
--   kind   score (rubric: team_id and payload {"criteria": {id: 1..5}, "checklist": {id: [pass, note]}})
--          ranking (payload {"order": [team ids, best first]})
--          void (an organizer voids the judge's scores of the round so far; reason required)
CREATE TABLE score_events (
    id      INTEGER PRIMARY KEY,
    round   TEXT    NOT NULL REFERENCES judging_rounds(id),
    judge   TEXT    NOT NULL,
    team_id INTEGER,
    kind    TEXT    NOT NULL CHECK (kind IN ('score', 'ranking', 'void')),
    payload TEXT    NOT NULL DEFAULT '{}',
    note    TEXT    NOT NULL DEFAULT '' CHECK (length(note) <= 1000),
    actor   TEXT    NOT NULL,
    at      REAL    NOT NULL,
    CHECK ((kind = 'score') = (team_id IS NOT NULL)),
    CHECK (kind <> 'void' OR length(trim(note)) > 0)
);
CREATE INDEX score_events_round ON score_events(round, judge, id);

CREATE TRIGGER score_events_append_only BEFORE UPDATE ON score_events
BEGIN
    SELECT RAISE(ABORT, 'the score log is append-only');
END;

CREATE TRIGGER score_events_kept BEFORE DELETE ON score_events
BEGIN
    SELECT RAISE(ABORT, 'the score log is append-only');
END;

CREATE TRIGGER score_events_while_open BEFORE INSERT ON score_events
WHEN NEW.kind <> 'void' AND NEW.at > (SELECT closes FROM judging_rounds WHERE id = NEW.round)
BEGIN
    SELECT RAISE(ABORT, 'the round is closed');
END;

CREATE TRIGGER score_events_assigned BEFORE INSERT ON score_events
WHEN NEW.kind = 'score' AND NOT EXISTS (SELECT 1 FROM review_assignments a WHERE a.round = NEW.round
     AND a.judge = NEW.judge AND a.team_id = NEW.team_id AND a.active = 1)
BEGIN
    SELECT RAISE(ABORT, 'no open review of this team for this judge');
END;

-- The winners as the organizers confirmed them (/winners announce), one row per prize decided:
-- frozen (the result never changes), then revealed one prize at a time in the event file's order
-- (position). Nothing public shows a prize's winners before its revealed_at.
CREATE TABLE frozen_prizes (
    prize       TEXT    PRIMARY KEY,
    position    INTEGER NOT NULL UNIQUE,
    result      TEXT    NOT NULL,
    frozen_at   REAL    NOT NULL,
    frozen_by   TEXT    NOT NULL,
    notify_at   REAL    NOT NULL,
    revealed_at REAL,
    revealed_by TEXT
);

CREATE TRIGGER frozen_prizes_frozen BEFORE UPDATE ON frozen_prizes
WHEN NEW.result IS NOT OLD.result OR NEW.prize IS NOT OLD.prize OR NEW.position IS NOT OLD.position
     OR OLD.revealed_at IS NOT NULL
BEGIN
    SELECT RAISE(ABORT, 'the winners are frozen');
END;

CREATE TRIGGER frozen_prizes_kept BEFORE DELETE ON frozen_prizes
BEGIN
    SELECT RAISE(ABORT, 'the winners are frozen');
END;

-- A manual prize's winners, in order, as the organizers picked them (`hackbot winners pick`).
CREATE TABLE manual_picks (
    prize   TEXT    NOT NULL,
    place   INTEGER NOT NULL CHECK (place >= 1),
    team_id INTEGER NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    PRIMARY KEY (prize, team_id)
);

-- The private notices to the winning teams: one row per team, prize and channel, claimed once
-- by a guarded update before it is sent (two processes never send it twice).
CREATE TABLE winner_notices (
    team_id    INTEGER NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    prize      TEXT    NOT NULL REFERENCES frozen_prizes(prize),
    channel    TEXT    NOT NULL CHECK (channel IN ('discord', 'email')),
    due_at     REAL    NOT NULL,
    status     TEXT    NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'claimed', 'sent', 'failed')),
    claimed_at REAL,
    sent_at    REAL,
    detail     TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (team_id, prize, channel)
);
CREATE INDEX winner_notices_due ON winner_notices(status, due_at);

-- Each judge with open reviews is reminded once per round before its close.
CREATE TABLE judge_reminders (
    round   TEXT NOT NULL,
    judge   TEXT NOT NULL,
    sent_at REAL NOT NULL,
    PRIMARY KEY (round, judge)
);
