-- Issue 15: the leaderboard's change counter. Every change the board shows (a submission, a
-- team added, renamed, validated or removed, the phase set by hand) bumps board_version.n in the
-- same transaction, so that every process of an event computes the standings once per change
-- and serves them from its cache until the counter moves. Kept by the triggers below only
-- (statement-level: a bulk import bumps it once); they make the row again if it is gone.

CREATE TABLE board_version (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    n  BIGINT NOT NULL
);
INSERT INTO board_version(id, n) VALUES (1, 1);

CREATE FUNCTION board_version_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO board_version AS v (id, n) VALUES (1, 1) ON CONFLICT (id) DO UPDATE SET n = v.n + 1;
    RETURN NULL;
END
$$;

CREATE TRIGGER board_version_submissions AFTER INSERT OR UPDATE OR DELETE ON submissions
    FOR EACH STATEMENT EXECUTE FUNCTION board_version_bump();
CREATE TRIGGER board_version_teams AFTER INSERT OR DELETE OR UPDATE OF name, validated ON teams
    FOR EACH STATEMENT EXECUTE FUNCTION board_version_bump();

CREATE FUNCTION board_version_phase() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (TG_OP <> 'INSERT' AND OLD.key = 'phase_override') OR (TG_OP <> 'DELETE' AND NEW.key = 'phase_override') THEN
        INSERT INTO board_version AS v (id, n) VALUES (1, 1) ON CONFLICT (id) DO UPDATE SET n = v.n + 1;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER board_version_phase AFTER INSERT OR UPDATE OR DELETE ON event_state
    FOR EACH ROW EXECUTE FUNCTION board_version_phase();

-- The board reads every submission of a phase: this index answers it without reading the files.
CREATE INDEX submissions_board ON submissions(phase, team_id, dataset_id, accuracy, submitted_at, worst_group);
