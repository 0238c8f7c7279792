-- The team-size bound, held by the database: the event file's [teams] max_size, written here on
-- every start (as phase_datasets are), and triggers that refuse a member past it, whoever
-- writes the row: /team join, matchmaking's placement, `hackbot match`, a hand-written INSERT.
-- Without a row in team_limits (a database no bot has started on yet) there is no bound.
--
-- As for the reveal budget (0001), the count lives in a counter row updated by a guarded
-- statement, so the bound holds at any isolation level: concurrent joins of one team update the
-- same team_sizes row, and wait for each other (READ COMMITTED) or are run again (REPEATABLE
-- READ, SERIALIZABLE).

CREATE TABLE team_limits (
    id       BIGINT PRIMARY KEY CHECK (id = 1),
    max_size BIGINT NOT NULL CHECK (max_size >= 1)
);

-- Kept by the triggers below, never written by the application.
CREATE TABLE team_sizes (
    team_id BIGINT PRIMARY KEY REFERENCES teams(id) ON DELETE CASCADE,
    members BIGINT NOT NULL CHECK (members >= 0)
);
INSERT INTO team_sizes(team_id, members) SELECT team_id, count(*) FROM team_members GROUP BY team_id;

CREATE FUNCTION team_members_count(team BIGINT) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO team_sizes AS s (team_id, members) VALUES (team, 1)
    ON CONFLICT (team_id) DO UPDATE SET members = s.members + 1
     WHERE s.members < coalesce((SELECT max_size FROM team_limits WHERE id = 1), s.members + 1);
    IF NOT FOUND THEN
        RAISE EXCEPTION 'team is full' USING ERRCODE = 'integrity_constraint_violation';
    END IF;
END
$$;

CREATE FUNCTION team_members_within_size() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF NEW.team_id IS NOT DISTINCT FROM OLD.team_id THEN
            RETURN NULL;
        END IF;
        UPDATE team_sizes SET members = members - 1 WHERE team_id = OLD.team_id;
    END IF;
    PERFORM team_members_count(NEW.team_id);
    RETURN NULL;
END
$$;
CREATE TRIGGER team_members_within_size AFTER INSERT OR UPDATE OF team_id ON team_members
    FOR EACH ROW EXECUTE FUNCTION team_members_within_size();

CREATE FUNCTION team_members_uncount() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE team_sizes SET members = members - 1 WHERE team_id = OLD.team_id;
    RETURN NULL;
END
$$;
CREATE TRIGGER team_members_uncount AFTER DELETE ON team_members
    FOR EACH ROW EXECUTE FUNCTION team_members_uncount();
