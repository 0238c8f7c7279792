-- Pairwise rounds (issue 12): a judge is shown two projects and says which is better. Each
-- choice is an event of the score log, kind `choice`: team_id is the better project, the payload
-- {"worse": team id} the other; the judge's last choice between the same two counts. The database
-- refuses a choice unless the judge has an open review of both teams (the conflict trigger of
-- review_assignments therefore covers choices too), and a choice of a team against itself.
ALTER TABLE score_events DROP CONSTRAINT score_events_kind_check;
ALTER TABLE score_events DROP CONSTRAINT score_events_check;
ALTER TABLE score_events ADD CONSTRAINT score_events_kind_check
    CHECK (kind IN ('score', 'ranking', 'choice', 'void'));
ALTER TABLE score_events ADD CONSTRAINT score_events_team_check
    CHECK ((kind IN ('score', 'choice')) = (team_id IS NOT NULL));
ALTER TABLE score_events ADD CONSTRAINT score_events_choice_check
    CHECK (kind <> 'choice' OR (jsonb_typeof(payload::jsonb -> 'worse') = 'number'
                                AND (payload::jsonb ->> 'worse')::bigint <> team_id));

CREATE OR REPLACE FUNCTION score_events_check() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.kind <> 'void' AND NEW.at > (SELECT closes FROM judging_rounds WHERE id = NEW.round) THEN
        RAISE EXCEPTION 'the round is closed' USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF NEW.kind IN ('score', 'choice') AND NOT EXISTS (SELECT 1 FROM review_assignments a WHERE a.round = NEW.round
            AND a.judge = NEW.judge AND a.team_id = NEW.team_id AND a.active = 1) THEN
        RAISE EXCEPTION 'no open review of this team for this judge' USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF NEW.kind = 'choice' AND NOT EXISTS (SELECT 1 FROM review_assignments a WHERE a.round = NEW.round
            AND a.judge = NEW.judge AND a.team_id = (NEW.payload::jsonb ->> 'worse')::bigint AND a.active = 1) THEN
        RAISE EXCEPTION 'no open review of this team for this judge' USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END
$$;
