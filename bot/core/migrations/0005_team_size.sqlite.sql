-- The team-size bound, held by the database: the event file's [teams] max_size, written here on
-- every start (as phase_datasets are), and a trigger that refuses a member past it, whoever
-- writes the row: /team join, matchmaking's placement, `hackbot match`, a hand-written INSERT.
-- Without a row in team_limits (a database no bot has started on yet) there is no bound.

CREATE TABLE team_limits (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    max_size INTEGER NOT NULL CHECK (max_size >= 1)
);

CREATE TRIGGER team_members_within_size BEFORE INSERT ON team_members
WHEN (SELECT count(*) FROM team_members WHERE team_id = NEW.team_id)
     >= (SELECT max_size FROM team_limits WHERE id = 1)
BEGIN
    SELECT RAISE(ABORT, 'team is full');
END;

CREATE TRIGGER team_members_move_within_size BEFORE UPDATE OF team_id ON team_members
WHEN NEW.team_id IS NOT OLD.team_id
 AND (SELECT count(*) FROM team_members WHERE team_id = NEW.team_id)
     >= (SELECT max_size FROM team_limits WHERE id = 1)
BEGIN
    SELECT RAISE(ABORT, 'team is full');
END;
