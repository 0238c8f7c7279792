-- Pairwise rounds (issue 12): a judge is shown two projects and says which is better. Each
-- choice is an event of the score log, kind `choice`: team_id is the better project, the payload
-- {"worse": team id} the other; the judge's last choice between the same two counts. The database
-- refuses a choice unless the judge has an open review of both teams (the conflict trigger of
-- review_assignments therefore covers choices too), and a choice of a team against itself.
-- SQLite cannot change a CHECK constraint: the table is rebuilt with its rows, index and triggers
-- (the implicit DELETE of DROP TABLE fires no trigger).
CREATE TABLE score_events_v23 (
    id      INTEGER PRIMARY KEY,
    round   TEXT    NOT NULL REFERENCES judging_rounds(id),
    judge   TEXT    NOT NULL,
    team_id INTEGER,
    kind    TEXT    NOT NULL CHECK (kind IN ('score', 'ranking', 'choice', 'void')),
    payload TEXT    NOT NULL DEFAULT '{}',
    note    TEXT    NOT NULL DEFAULT '' CHECK (length(note) <= 1000),
    actor   TEXT    NOT NULL,
    at      REAL    NOT NULL,
    CHECK ((kind IN ('score', 'choice')) = (team_id IS NOT NULL)),
    CHECK (kind <> 'choice' OR (json_type(payload, '$.worse') = 'integer'
                                AND json_extract(payload, '$.worse') <> team_id)),
    CHECK (kind <> 'void' OR length(trim(note)) > 0)
);
INSERT INTO score_events_v23(id, round, judge, team_id, kind, payload, note, actor, at)
SELECT id, round, judge, team_id, kind, payload, note, actor, at FROM score_events;
DROP TABLE score_events;
ALTER TABLE score_events_v23 RENAME TO score_events;
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
WHEN NEW.kind IN ('score', 'choice') AND NOT EXISTS (SELECT 1 FROM review_assignments a WHERE a.round = NEW.round
     AND a.judge = NEW.judge AND a.team_id = NEW.team_id AND a.active = 1)
BEGIN
    SELECT RAISE(ABORT, 'no open review of this team for this judge');
END;

CREATE TRIGGER score_events_choice_assigned BEFORE INSERT ON score_events
WHEN NEW.kind = 'choice' AND NOT EXISTS (SELECT 1 FROM review_assignments a WHERE a.round = NEW.round
     AND a.judge = NEW.judge AND a.team_id = json_extract(NEW.payload, '$.worse') AND a.active = 1)
BEGIN
    SELECT RAISE(ABORT, 'no open review of this team for this judge');
END;
