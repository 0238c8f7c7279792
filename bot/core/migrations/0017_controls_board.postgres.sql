-- PostgreSQL variant of 0017_controls_board.sqlite.sql: final picks, baselines and
-- disqualification move the board's change counter (0014's board_version_bump).

CREATE TRIGGER board_version_final_picks AFTER INSERT OR UPDATE OR DELETE ON final_picks
    FOR EACH STATEMENT EXECUTE FUNCTION board_version_bump();
CREATE TRIGGER board_version_baselines AFTER INSERT OR UPDATE OR DELETE ON baselines
    FOR EACH STATEMENT EXECUTE FUNCTION board_version_bump();
CREATE TRIGGER board_version_disqualified AFTER UPDATE OF disqualified ON teams
    FOR EACH STATEMENT EXECUTE FUNCTION board_version_bump();
