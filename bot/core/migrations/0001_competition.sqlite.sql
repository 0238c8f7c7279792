-- Teams, members, API credentials, the event's datasets per phase, reveals and submissions.
-- Times are Unix seconds in UTC (REAL).

CREATE TABLE teams (
    id              INTEGER PRIMARY KEY,
    name            TEXT    NOT NULL CHECK (length(trim(name)) BETWEEN 1 AND 64),
    name_key        TEXT    NOT NULL UNIQUE,          -- casefolded name: "Foo" and "foo" clash
    username        TEXT    NOT NULL UNIQUE,          -- the HTTP API login
    password_digest BLOB    NOT NULL CHECK (length(password_digest) = 32),  -- SHA-256
    validated       INTEGER NOT NULL DEFAULT 0 CHECK (validated IN (0, 1)),
    created_at      REAL    NOT NULL
);

-- One team per person per event: the database is one event.
CREATE TABLE team_members (
    team_id    INTEGER NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    user_id    TEXT    NOT NULL UNIQUE,
    is_captain INTEGER NOT NULL DEFAULT 0 CHECK (is_captain IN (0, 1)),
    joined_at  REAL    NOT NULL
);
CREATE INDEX team_members_team ON team_members(team_id);

-- The event file's datasets as the database sees them, refreshed on start, so that the
-- reveal budget is held by a trigger and not only by Python.
CREATE TABLE phase_datasets (
    phase         TEXT    NOT NULL,
    dataset_id    INTEGER NOT NULL,
    reveal_budget INTEGER NOT NULL CHECK (reveal_budget >= 0),
    rows          INTEGER NOT NULL CHECK (rows > 0),
    PRIMARY KEY (phase, dataset_id)
);

CREATE TABLE reveals (
    id          INTEGER PRIMARY KEY,                  -- reveal order
    phase       TEXT    NOT NULL,
    team_id     INTEGER NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    dataset_id  INTEGER NOT NULL,
    datum_id    INTEGER NOT NULL CHECK (datum_id >= 0),
    revealed_at REAL    NOT NULL,
    source      TEXT    NOT NULL,
    UNIQUE (phase, team_id, dataset_id, datum_id),
    FOREIGN KEY (phase, dataset_id) REFERENCES phase_datasets(phase, dataset_id)
);

CREATE TRIGGER reveals_within_budget BEFORE INSERT ON reveals
WHEN (SELECT count(*) FROM reveals
       WHERE phase = NEW.phase AND team_id = NEW.team_id AND dataset_id = NEW.dataset_id)
     >= (SELECT reveal_budget FROM phase_datasets
          WHERE phase = NEW.phase AND dataset_id = NEW.dataset_id)
BEGIN
    SELECT RAISE(ABORT, 'reveal budget spent');
END;

CREATE TRIGGER reveals_within_rows BEFORE INSERT ON reveals
WHEN NEW.datum_id >= (SELECT rows FROM phase_datasets
                       WHERE phase = NEW.phase AND dataset_id = NEW.dataset_id)
BEGIN
    SELECT RAISE(ABORT, 'datum out of range');
END;

-- One submission per team, dataset and phase; the raw file kept for audit.
CREATE TABLE submissions (
    id             INTEGER PRIMARY KEY,
    phase          TEXT    NOT NULL,
    team_id        INTEGER NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    dataset_id     INTEGER NOT NULL,
    submitted_at   REAL    NOT NULL,
    rows           INTEGER NOT NULL,
    accuracy       REAL    NOT NULL CHECK (accuracy BETWEEN 0 AND 1),
    worst_group    REAL             CHECK (worst_group BETWEEN 0 AND 1),
    filename       TEXT    NOT NULL,
    sha256         TEXT    NOT NULL CHECK (length(sha256) = 64),
    raw            BLOB    NOT NULL,
    source         TEXT    NOT NULL,
    UNIQUE (phase, team_id, dataset_id),
    FOREIGN KEY (phase, dataset_id) REFERENCES phase_datasets(phase, dataset_id)
);
CREATE INDEX submissions_phase ON submissions(phase);
