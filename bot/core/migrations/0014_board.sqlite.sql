-- Issue 15: the leaderboard's change counter. Every change the board shows (a submission, a
-- team added, renamed, validated or removed, the phase set by hand) bumps board_version.n in the
-- same transaction, so that every process of an event computes the standings once per change
-- and serves them from its cache until the counter moves. Kept by the triggers below only;
-- they make the row again if it is gone (a database emptied table by table).

CREATE TABLE board_version (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    n  INTEGER NOT NULL
);
INSERT INTO board_version(id, n) VALUES (1, 1);

-- one statement per line of a trigger, so that it reads well in `sqlite3 .schema`
CREATE TRIGGER board_version_submission_insert AFTER INSERT ON submissions
BEGIN INSERT OR IGNORE INTO board_version(id, n) VALUES (1, 0); UPDATE board_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER board_version_submission_update AFTER UPDATE ON submissions
BEGIN INSERT OR IGNORE INTO board_version(id, n) VALUES (1, 0); UPDATE board_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER board_version_submission_delete AFTER DELETE ON submissions
BEGIN INSERT OR IGNORE INTO board_version(id, n) VALUES (1, 0); UPDATE board_version SET n = n + 1 WHERE id = 1; END;

CREATE TRIGGER board_version_team_insert AFTER INSERT ON teams
BEGIN INSERT OR IGNORE INTO board_version(id, n) VALUES (1, 0); UPDATE board_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER board_version_team_update AFTER UPDATE OF name, validated ON teams
BEGIN INSERT OR IGNORE INTO board_version(id, n) VALUES (1, 0); UPDATE board_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER board_version_team_delete AFTER DELETE ON teams
BEGIN INSERT OR IGNORE INTO board_version(id, n) VALUES (1, 0); UPDATE board_version SET n = n + 1 WHERE id = 1; END;

CREATE TRIGGER board_version_phase_insert AFTER INSERT ON event_state WHEN NEW.key = 'phase_override'
BEGIN INSERT OR IGNORE INTO board_version(id, n) VALUES (1, 0); UPDATE board_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER board_version_phase_update AFTER UPDATE ON event_state
WHEN NEW.key = 'phase_override' OR OLD.key = 'phase_override'
BEGIN INSERT OR IGNORE INTO board_version(id, n) VALUES (1, 0); UPDATE board_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER board_version_phase_delete AFTER DELETE ON event_state WHEN OLD.key = 'phase_override'
BEGIN INSERT OR IGNORE INTO board_version(id, n) VALUES (1, 0); UPDATE board_version SET n = n + 1 WHERE id = 1; END;

-- The board reads every submission of a phase: this index answers it without reading the files.
CREATE INDEX submissions_board ON submissions(phase, team_id, dataset_id, accuracy, submitted_at, worst_group);
