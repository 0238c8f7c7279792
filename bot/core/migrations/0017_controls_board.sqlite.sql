-- Issue 16 on the board's change counter (0014): what the competition controls change on the
-- board without touching a submission or a team's name also moves the counter: a final pick
-- (which submission counts), a baseline, and a disqualification or its reversal. (Not INSERT OR
-- IGNORE: under an outer upsert, as /final-pick and `hackbot baseline add` write, SQLite uses the
-- outer statement's conflict policy in the trigger.)

CREATE TRIGGER board_version_pick_insert AFTER INSERT ON final_picks
BEGIN INSERT INTO board_version(id, n) SELECT 1, 0 WHERE NOT EXISTS (SELECT 1 FROM board_version WHERE id = 1);
      UPDATE board_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER board_version_pick_update AFTER UPDATE ON final_picks
BEGIN INSERT INTO board_version(id, n) SELECT 1, 0 WHERE NOT EXISTS (SELECT 1 FROM board_version WHERE id = 1);
      UPDATE board_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER board_version_pick_delete AFTER DELETE ON final_picks
BEGIN INSERT INTO board_version(id, n) SELECT 1, 0 WHERE NOT EXISTS (SELECT 1 FROM board_version WHERE id = 1);
      UPDATE board_version SET n = n + 1 WHERE id = 1; END;

CREATE TRIGGER board_version_baseline_insert AFTER INSERT ON baselines
BEGIN INSERT INTO board_version(id, n) SELECT 1, 0 WHERE NOT EXISTS (SELECT 1 FROM board_version WHERE id = 1);
      UPDATE board_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER board_version_baseline_update AFTER UPDATE ON baselines
BEGIN INSERT INTO board_version(id, n) SELECT 1, 0 WHERE NOT EXISTS (SELECT 1 FROM board_version WHERE id = 1);
      UPDATE board_version SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER board_version_baseline_delete AFTER DELETE ON baselines
BEGIN INSERT INTO board_version(id, n) SELECT 1, 0 WHERE NOT EXISTS (SELECT 1 FROM board_version WHERE id = 1);
      UPDATE board_version SET n = n + 1 WHERE id = 1; END;

CREATE TRIGGER board_version_team_disqualified AFTER UPDATE OF disqualified ON teams
BEGIN INSERT INTO board_version(id, n) SELECT 1, 0 WHERE NOT EXISTS (SELECT 1 FROM board_version WHERE id = 1);
      UPDATE board_version SET n = n + 1 WHERE id = 1; END;
