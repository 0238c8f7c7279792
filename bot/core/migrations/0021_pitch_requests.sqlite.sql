-- Teams that ask to be heard in a round whose pool is a shortlist with `requests = true`
-- (Hackathon42: "the top 20 of the leaderboard plus teams who ask to pitch"). A team asks once a
-- round (PRIMARY KEY): asking again, from any member or process, changes nothing.
CREATE TABLE pitch_requests (
    round    TEXT    NOT NULL,
    team_id  INTEGER NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    asked_by TEXT    NOT NULL,
    note     TEXT    NOT NULL DEFAULT '',
    at       REAL    NOT NULL,
    PRIMARY KEY (round, team_id)
);
