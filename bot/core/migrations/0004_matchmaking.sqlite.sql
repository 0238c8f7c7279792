-- Team matchmaking: the profiles of people looking for a team (/team lfg join, `hackbot lfg
-- import`), and teams with free places that say they are recruiting (/team recruit).

CREATE TABLE lfg_profiles (
    user_id           TEXT    PRIMARY KEY,
    name              TEXT    NOT NULL DEFAULT '',
    topics            TEXT    NOT NULL DEFAULT '[]',   -- JSON list of topic names
    skills            TEXT    NOT NULL DEFAULT '[]',   -- JSON list of free tags
    experience        TEXT    NOT NULL DEFAULT 'some' CHECK (experience IN ('newcomer', 'some', 'expert')),
    tz_offset_minutes INTEGER CHECK (tz_offset_minutes IS NULL OR tz_offset_minutes BETWEEN -720 AND 840),
    tz_name           TEXT,
    open_to_existing  INTEGER NOT NULL DEFAULT 1 CHECK (open_to_existing IN (0, 1)),
    updated_at        REAL    NOT NULL
);

ALTER TABLE teams ADD COLUMN recruiting INTEGER NOT NULL DEFAULT 0 CHECK (recruiting IN (0, 1));
