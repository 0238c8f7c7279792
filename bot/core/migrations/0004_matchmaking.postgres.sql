-- PostgreSQL variant of 0004_matchmaking.sqlite.sql: the profiles of people looking for a team,
-- and teams with free places that say they are recruiting.

CREATE TABLE lfg_profiles (
    user_id           TEXT COLLATE "C" PRIMARY KEY,
    name              TEXT COLLATE "C" NOT NULL DEFAULT '',
    topics            TEXT COLLATE "C" NOT NULL DEFAULT '[]',
    skills            TEXT COLLATE "C" NOT NULL DEFAULT '[]',
    experience        TEXT COLLATE "C" NOT NULL DEFAULT 'some' CHECK (experience IN ('newcomer', 'some', 'expert')),
    tz_offset_minutes BIGINT  CHECK (tz_offset_minutes IS NULL OR tz_offset_minutes BETWEEN -720 AND 840),
    tz_name           TEXT COLLATE "C",
    open_to_existing  BIGINT  NOT NULL DEFAULT 1 CHECK (open_to_existing IN (0, 1)),
    updated_at        DOUBLE PRECISION NOT NULL
);

ALTER TABLE teams ADD COLUMN recruiting BIGINT NOT NULL DEFAULT 0 CHECK (recruiting IN (0, 1));
