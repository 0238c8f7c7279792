-- PostgreSQL variant of 0012_judging.sqlite.sql (its comments say what each column means).
-- A conflict and an assignment of the same judge serialize on an advisory lock taken by both
-- triggers, so the rule "never assigned against a conflict" holds at READ COMMITTED too.

CREATE TABLE judges (
    user_id        TEXT COLLATE "C" PRIMARY KEY CHECK (length(user_id) BETWEEN 1 AND 64),
    name           TEXT COLLATE "C" NOT NULL CHECK (length(trim(name)) BETWEEN 1 AND 100),
    panels         TEXT COLLATE "C" NOT NULL DEFAULT '[]',
    external       BIGINT NOT NULL DEFAULT 0 CHECK (external IN (0, 1)),
    link_digest    BYTEA UNIQUE CHECK (link_digest IS NULL OR length(link_digest) = 32),
    link_used_at   DOUBLE PRECISION,
    session_digest BYTEA UNIQUE CHECK (session_digest IS NULL OR length(session_digest) = 32),
    created_at     DOUBLE PRECISION NOT NULL
);

CREATE TABLE judge_affiliations (
    user_id TEXT COLLATE "C" NOT NULL REFERENCES judges(user_id) ON DELETE CASCADE,
    key     TEXT COLLATE "C" NOT NULL CHECK (length(key) BETWEEN 1 AND 100),
    name    TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (user_id, key)
);

CREATE TABLE team_affiliations (
    team_id BIGINT NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    key     TEXT COLLATE "C" NOT NULL CHECK (length(key) BETWEEN 1 AND 100),
    name    TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (team_id, key)
);
CREATE INDEX team_affiliations_key ON team_affiliations(key);

CREATE TABLE judge_conflicts (
    user_id TEXT COLLATE "C" NOT NULL,
    team_id BIGINT NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    reason  TEXT COLLATE "C" NOT NULL CHECK (reason IN ('declared', 'recused')),
    note    TEXT COLLATE "C" NOT NULL DEFAULT '' CHECK (length(note) <= 500),
    at      DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (user_id, team_id, reason)
);

CREATE TABLE judging_rounds (
    id     TEXT COLLATE "C" PRIMARY KEY,
    mode   TEXT COLLATE "C" NOT NULL,
    closes DOUBLE PRECISION
);

CREATE TABLE review_assignments (
    round        TEXT COLLATE "C" NOT NULL REFERENCES judging_rounds(id),
    judge        TEXT COLLATE "C" NOT NULL REFERENCES judges(user_id),
    team_id      BIGINT NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    calibration  BIGINT NOT NULL DEFAULT 0 CHECK (calibration IN (0, 1)),
    active       BIGINT NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    ended        TEXT COLLATE "C" NOT NULL DEFAULT '',
    assigned_at  DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (round, judge, team_id)
);
CREATE INDEX review_assignments_team ON review_assignments(round, team_id);

CREATE VIEW judge_team_conflicts AS
    SELECT user_id COLLATE "C" AS judge, team_id FROM judge_conflicts
    UNION SELECT mentor_user_id COLLATE "C", team_id FROM mentor_assignments
    UNION SELECT user_id COLLATE "C", team_id FROM team_members
    UNION SELECT j.user_id COLLATE "C", t.team_id FROM judge_affiliations j JOIN team_affiliations t ON t.key = j.key;

CREATE FUNCTION judging_lock_judge(judge TEXT) RETURNS void LANGUAGE sql AS $$
    SELECT pg_advisory_xact_lock(hashtextextended('hackbot judge ' || judge, 0));
$$;

CREATE FUNCTION review_assignments_no_conflict() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.active = 1 THEN
        PERFORM judging_lock_judge(NEW.judge);
        IF EXISTS (SELECT 1 FROM judge_team_conflicts c WHERE c.judge = NEW.judge AND c.team_id = NEW.team_id) THEN
            RAISE EXCEPTION 'a judge is never assigned a team they have a conflict of interest with'
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER review_assignments_no_conflict BEFORE INSERT OR UPDATE OF active ON review_assignments
    FOR EACH ROW EXECUTE FUNCTION review_assignments_no_conflict();

CREATE FUNCTION judge_conflicts_end_reviews() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'judge_conflicts' THEN
        PERFORM judging_lock_judge(NEW.user_id);
        UPDATE review_assignments SET active = 0, ended = 'conflict: ' || NEW.reason
         WHERE judge = NEW.user_id AND team_id = NEW.team_id AND active = 1;
    ELSIF TG_TABLE_NAME = 'mentor_assignments' THEN
        PERFORM judging_lock_judge(NEW.mentor_user_id);
        UPDATE review_assignments SET active = 0, ended = 'conflict: mentored'
         WHERE judge = NEW.mentor_user_id AND team_id = NEW.team_id AND active = 1;
    ELSIF TG_TABLE_NAME = 'judge_affiliations' THEN
        PERFORM judging_lock_judge(NEW.user_id);
        UPDATE review_assignments SET active = 0, ended = 'conflict: affiliation'
         WHERE judge = NEW.user_id AND active = 1
           AND team_id IN (SELECT team_id FROM team_affiliations WHERE key = NEW.key);
    ELSE
        PERFORM judging_lock_judge(user_id) FROM judge_affiliations WHERE key = NEW.key ORDER BY user_id;
        UPDATE review_assignments SET active = 0, ended = 'conflict: affiliation'
         WHERE team_id = NEW.team_id AND active = 1
           AND judge IN (SELECT user_id FROM judge_affiliations WHERE key = NEW.key);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER judge_conflicts_end_reviews AFTER INSERT ON judge_conflicts
    FOR EACH ROW EXECUTE FUNCTION judge_conflicts_end_reviews();
CREATE TRIGGER mentor_assignments_end_reviews AFTER INSERT ON mentor_assignments
    FOR EACH ROW EXECUTE FUNCTION judge_conflicts_end_reviews();
CREATE TRIGGER judge_affiliations_end_reviews AFTER INSERT ON judge_affiliations
    FOR EACH ROW EXECUTE FUNCTION judge_conflicts_end_reviews();
CREATE TRIGGER team_affiliations_end_reviews AFTER INSERT ON team_affiliations
    FOR EACH ROW EXECUTE FUNCTION judge_conflicts_end_reviews();

CREATE TABLE score_events (
    id      BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    round   TEXT COLLATE "C" NOT NULL REFERENCES judging_rounds(id),
    judge   TEXT COLLATE "C" NOT NULL,
    team_id BIGINT,
    kind    TEXT COLLATE "C" NOT NULL CHECK (kind IN ('score', 'ranking', 'void')),
    payload TEXT COLLATE "C" NOT NULL DEFAULT '{}',
    note    TEXT COLLATE "C" NOT NULL DEFAULT '' CHECK (length(note) <= 1000),
    actor   TEXT COLLATE "C" NOT NULL,
    at      DOUBLE PRECISION NOT NULL,
    CHECK ((kind = 'score') = (team_id IS NOT NULL)),
    CHECK (kind <> 'void' OR length(trim(note)) > 0)
);
CREATE INDEX score_events_round ON score_events(round, judge, id);

CREATE FUNCTION score_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the score log is append-only' USING ERRCODE = 'integrity_constraint_violation';
END
$$;
CREATE TRIGGER score_events_append_only BEFORE UPDATE OR DELETE ON score_events
    FOR EACH ROW EXECUTE FUNCTION score_events_append_only();

CREATE FUNCTION score_events_check() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.kind <> 'void' AND NEW.at > (SELECT closes FROM judging_rounds WHERE id = NEW.round) THEN
        RAISE EXCEPTION 'the round is closed' USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF NEW.kind = 'score' AND NOT EXISTS (SELECT 1 FROM review_assignments a WHERE a.round = NEW.round
            AND a.judge = NEW.judge AND a.team_id = NEW.team_id AND a.active = 1) THEN
        RAISE EXCEPTION 'no open review of this team for this judge' USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER score_events_check BEFORE INSERT ON score_events
    FOR EACH ROW EXECUTE FUNCTION score_events_check();

CREATE TABLE frozen_prizes (
    prize       TEXT COLLATE "C" PRIMARY KEY,
    position    BIGINT NOT NULL UNIQUE,
    result      TEXT COLLATE "C" NOT NULL,
    frozen_at   DOUBLE PRECISION NOT NULL,
    frozen_by   TEXT COLLATE "C" NOT NULL,
    notify_at   DOUBLE PRECISION NOT NULL,
    revealed_at DOUBLE PRECISION,
    revealed_by TEXT COLLATE "C"
);

CREATE FUNCTION frozen_prizes_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' OR NEW.result IS DISTINCT FROM OLD.result OR NEW.prize IS DISTINCT FROM OLD.prize
       OR NEW.position IS DISTINCT FROM OLD.position OR OLD.revealed_at IS NOT NULL THEN
        RAISE EXCEPTION 'the winners are frozen' USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER frozen_prizes_frozen BEFORE UPDATE OR DELETE ON frozen_prizes
    FOR EACH ROW EXECUTE FUNCTION frozen_prizes_frozen();

CREATE TABLE manual_picks (
    prize   TEXT COLLATE "C" NOT NULL,
    place   BIGINT NOT NULL CHECK (place >= 1),
    team_id BIGINT NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    PRIMARY KEY (prize, team_id)
);

CREATE TABLE winner_notices (
    team_id    BIGINT NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    prize      TEXT COLLATE "C" NOT NULL REFERENCES frozen_prizes(prize),
    channel    TEXT COLLATE "C" NOT NULL CHECK (channel IN ('discord', 'email')),
    due_at     DOUBLE PRECISION NOT NULL,
    status     TEXT COLLATE "C" NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'claimed', 'sent', 'failed')),
    claimed_at DOUBLE PRECISION,
    sent_at    DOUBLE PRECISION,
    detail     TEXT COLLATE "C" NOT NULL DEFAULT '',
    PRIMARY KEY (team_id, prize, channel)
);
CREATE INDEX winner_notices_due ON winner_notices(status, due_at);

CREATE TABLE judge_reminders (
    round   TEXT COLLATE "C" NOT NULL,
    judge   TEXT COLLATE "C" NOT NULL,
    sent_at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (round, judge)
);
