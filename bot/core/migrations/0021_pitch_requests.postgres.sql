-- Teams that ask to be heard in a round whose pool is a shortlist with `requests = true`
-- (Hackathon42: "the top 20 of the leaderboard plus teams who ask to pitch"). A team asks once a
-- round (PRIMARY KEY): asking again, from any member or process, changes nothing.
CREATE TABLE pitch_requests (
    round    TEXT COLLATE "C" NOT NULL,
    team_id  BIGINT NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    asked_by TEXT COLLATE "C" NOT NULL,
    note     TEXT NOT NULL DEFAULT '',
    at       DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (round, team_id)
);
