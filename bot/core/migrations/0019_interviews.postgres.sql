-- Interview slots ([judging.rounds.interviews], bot/core/interviews.py). The database holds the
-- booking: a team is booked once a round, a room hears one team at a time, and a judge sits in
-- one room a round, so no team or judge is ever in two interviews at once.
CREATE TABLE interview_slots (
    round     TEXT COLLATE "C" NOT NULL,
    team_id   BIGINT NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    room      INTEGER NOT NULL CHECK (room >= 1),
    slot      INTEGER NOT NULL CHECK (slot >= 0),
    starts_at DOUBLE PRECISION NOT NULL,
    ends_at   DOUBLE PRECISION NOT NULL CHECK (ends_at > starts_at),
    PRIMARY KEY (round, team_id),
    UNIQUE (round, room, slot)
);

CREATE TABLE interview_rooms (
    round TEXT COLLATE "C" NOT NULL,
    judge TEXT COLLATE "C" NOT NULL,
    room  INTEGER NOT NULL CHECK (room >= 1),
    PRIMARY KEY (round, judge)
);
