-- Issue 16 on the board's change counter (0014): what the competition controls change on the
-- board without touching a submission or a team's name also moves the counter: a final pick
-- (which submission counts), a baseline, and a disqualification or its reversal.

CREATE TRIGGER board_version_pick_insert AFTER INSERT ON final_picks
BEGIN INSERT OR IGNORE INTO board_version(id, n) VALUES (1, 0); UPDATE board_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER board_version_pick_update AFTER UPDATE ON final_picks
BEGIN INSERT OR IGNORE INTO board_version(id, n) VALUES (1, 0); UPDATE board_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER board_version_pick_delete AFTER DELETE ON final_picks
BEGIN INSERT OR IGNORE INTO board_version(id, n) VALUES (1, 0); UPDATE board_version SET n = n + 1 WHERE id = 1; END;

CREATE TRIGGER board_version_baseline_insert AFTER INSERT ON baselines
BEGIN INSERT OR IGNORE INTO board_version(id, n) VALUES (1, 0); UPDATE board_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER board_version_baseline_update AFTER UPDATE ON baselines
BEGIN INSERT OR IGNORE INTO board_version(id, n) VALUES (1, 0); UPDATE board_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER board_version_baseline_delete AFTER DELETE ON baselines
BEGIN INSERT OR IGNORE INTO board_version(id, n) VALUES (1, 0); UPDATE board_version SET n = n + 1 WHERE id = 1; END;

CREATE TRIGGER board_version_team_disqualified AFTER UPDATE OF disqualified ON teams
BEGIN INSERT OR IGNORE INTO board_version(id, n) VALUES (1, 0); UPDATE board_version SET n = n + 1 WHERE id = 1; END;
