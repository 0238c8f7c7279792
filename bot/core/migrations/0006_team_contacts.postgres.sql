-- How to reach a team outside Discord: the emails of its registration form (`hackbot team
-- import`). Members stay in team_members; an email belongs to a team, not to a Discord user.

CREATE TABLE team_contacts (
    team_id BIGINT NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    email   TEXT COLLATE "C" NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
    PRIMARY KEY (team_id, email)
);
