-- Competition controls (issue 16): several submissions where a dataset allows them, limits held
-- here, public/private/full scores per submission, the team's final pick, baselines, label
-- versions, the label each reveal answered, and disqualification.
--
-- The limits of a dataset in a phase come from the event file, written on every start with the
-- reveal budget (phase_datasets). total_limit NULL: no total; per_day NULL: no daily limit. A
-- database of wave 1 holds Hackathon42's rule: one submission (total_limit 1).
-- SQLite has one writer at a time: a trigger that counts the rows before an insert holds the
-- limits under any number of processes.

ALTER TABLE phase_datasets ADD COLUMN total_limit INTEGER DEFAULT 1 CHECK (total_limit IS NULL OR total_limit >= 1);
ALTER TABLE phase_datasets ADD COLUMN per_day INTEGER CHECK (per_day IS NULL OR per_day >= 1);
ALTER TABLE phase_datasets ADD COLUMN count_failed INTEGER NOT NULL DEFAULT 0 CHECK (count_failed IN (0, 1));

-- Submissions without the one-per-dataset constraint (the limits above hold it now), with
-- every score: accuracy is on all rows (full), public and private on the event's split (NULL for
-- a part without rows), worst_* per group. day_start: the start (UTC seconds) of the calendar
-- day, in the event's timezone, that the daily limit counts the submission in.
CREATE TABLE submissions_v7 (
    id             INTEGER PRIMARY KEY,
    phase          TEXT    NOT NULL,
    team_id        INTEGER NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    dataset_id     INTEGER NOT NULL,
    submitted_at   REAL    NOT NULL,
    day_start      REAL    NOT NULL,
    rows           INTEGER NOT NULL,
    accuracy       REAL    NOT NULL CHECK (accuracy BETWEEN 0 AND 1),
    worst_group    REAL             CHECK (worst_group BETWEEN 0 AND 1),
    public         REAL             CHECK (public BETWEEN 0 AND 1),
    private        REAL             CHECK (private BETWEEN 0 AND 1),
    worst_public   REAL             CHECK (worst_public BETWEEN 0 AND 1),
    worst_private  REAL             CHECK (worst_private BETWEEN 0 AND 1),
    label_version  INTEGER NOT NULL DEFAULT 1 CHECK (label_version >= 1),
    filename       TEXT    NOT NULL,
    sha256         TEXT    NOT NULL CHECK (length(sha256) = 64),
    raw            BLOB    NOT NULL,
    source         TEXT    NOT NULL,
    FOREIGN KEY (phase, dataset_id) REFERENCES phase_datasets(phase, dataset_id)
);
INSERT INTO submissions_v7(id, phase, team_id, dataset_id, submitted_at, day_start, rows, accuracy, worst_group,
                           public, private, worst_public, worst_private, label_version, filename, sha256, raw, source)
SELECT id, phase, team_id, dataset_id, submitted_at, submitted_at, rows, accuracy, worst_group,
       accuracy, NULL, worst_group, NULL, 1, filename, sha256, raw, source FROM submissions;
DROP TABLE submissions;
ALTER TABLE submissions_v7 RENAME TO submissions;
CREATE INDEX submissions_phase ON submissions(phase);
CREATE INDEX submissions_team ON submissions(phase, team_id, dataset_id);

-- Refused files, kept (without the file) only where the dataset counts them (count_failed).
CREATE TABLE submission_failures (
    id         INTEGER PRIMARY KEY,
    phase      TEXT    NOT NULL,
    team_id    INTEGER NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    dataset_id INTEGER NOT NULL,
    failed_at  REAL    NOT NULL,
    day_start  REAL    NOT NULL,
    filename   TEXT    NOT NULL,
    sha256     TEXT    NOT NULL CHECK (length(sha256) = 64),
    source     TEXT    NOT NULL,
    FOREIGN KEY (phase, dataset_id) REFERENCES phase_datasets(phase, dataset_id)
);
CREATE INDEX submission_failures_team ON submission_failures(phase, team_id, dataset_id);

CREATE TRIGGER submissions_within_total BEFORE INSERT ON submissions
WHEN (SELECT total_limit FROM phase_datasets WHERE phase = NEW.phase AND dataset_id = NEW.dataset_id) IS NOT NULL
 AND (SELECT count(*) FROM submissions WHERE phase = NEW.phase AND team_id = NEW.team_id AND dataset_id = NEW.dataset_id)
   + (SELECT count(*) FROM submission_failures
       WHERE phase = NEW.phase AND team_id = NEW.team_id AND dataset_id = NEW.dataset_id)
     >= (SELECT total_limit FROM phase_datasets WHERE phase = NEW.phase AND dataset_id = NEW.dataset_id)
BEGIN
    SELECT RAISE(ABORT, 'submission limit reached');
END;

CREATE TRIGGER submissions_within_day BEFORE INSERT ON submissions
WHEN (SELECT per_day FROM phase_datasets WHERE phase = NEW.phase AND dataset_id = NEW.dataset_id) IS NOT NULL
 AND (SELECT count(*) FROM submissions WHERE phase = NEW.phase AND team_id = NEW.team_id
       AND dataset_id = NEW.dataset_id AND day_start = NEW.day_start)
   + (SELECT count(*) FROM submission_failures WHERE phase = NEW.phase AND team_id = NEW.team_id
       AND dataset_id = NEW.dataset_id AND day_start = NEW.day_start)
     >= (SELECT per_day FROM phase_datasets WHERE phase = NEW.phase AND dataset_id = NEW.dataset_id)
BEGIN
    SELECT RAISE(ABORT, 'daily submission limit reached');
END;

CREATE TRIGGER submission_failures_within_total BEFORE INSERT ON submission_failures
WHEN (SELECT total_limit FROM phase_datasets WHERE phase = NEW.phase AND dataset_id = NEW.dataset_id) IS NOT NULL
 AND (SELECT count(*) FROM submissions WHERE phase = NEW.phase AND team_id = NEW.team_id AND dataset_id = NEW.dataset_id)
   + (SELECT count(*) FROM submission_failures
       WHERE phase = NEW.phase AND team_id = NEW.team_id AND dataset_id = NEW.dataset_id)
     >= (SELECT total_limit FROM phase_datasets WHERE phase = NEW.phase AND dataset_id = NEW.dataset_id)
BEGIN
    SELECT RAISE(ABORT, 'submission limit reached');
END;

CREATE TRIGGER submission_failures_within_day BEFORE INSERT ON submission_failures
WHEN (SELECT per_day FROM phase_datasets WHERE phase = NEW.phase AND dataset_id = NEW.dataset_id) IS NOT NULL
 AND (SELECT count(*) FROM submissions WHERE phase = NEW.phase AND team_id = NEW.team_id
       AND dataset_id = NEW.dataset_id AND day_start = NEW.day_start)
   + (SELECT count(*) FROM submission_failures WHERE phase = NEW.phase AND team_id = NEW.team_id
       AND dataset_id = NEW.dataset_id AND day_start = NEW.day_start)
     >= (SELECT per_day FROM phase_datasets WHERE phase = NEW.phase AND dataset_id = NEW.dataset_id)
BEGIN
    SELECT RAISE(ABORT, 'daily submission limit reached');
END;

-- A submission never moves to another team, dataset or phase: it would escape the limits.
CREATE TRIGGER submissions_stay BEFORE UPDATE OF phase, team_id, dataset_id ON submissions
WHEN NEW.phase IS NOT OLD.phase OR NEW.team_id IS NOT OLD.team_id OR NEW.dataset_id IS NOT OLD.dataset_id
BEGIN
    SELECT RAISE(ABORT, 'a submission cannot be moved to another team, dataset or phase');
END;

-- The submission a team picked to count (counts = "final_pick"): one per team, dataset and
-- phase, and one of the team's own submissions for that dataset and phase.
CREATE TABLE final_picks (
    phase         TEXT    NOT NULL,
    team_id       INTEGER NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    dataset_id    INTEGER NOT NULL,
    submission_id INTEGER NOT NULL REFERENCES submissions(id) ON DELETE CASCADE,
    picked_at     REAL    NOT NULL,
    PRIMARY KEY (phase, team_id, dataset_id)
);

CREATE TRIGGER final_picks_own BEFORE INSERT ON final_picks
WHEN NOT EXISTS (SELECT 1 FROM submissions s WHERE s.id = NEW.submission_id AND s.phase = NEW.phase
                  AND s.team_id = NEW.team_id AND s.dataset_id = NEW.dataset_id)
BEGIN
    SELECT RAISE(ABORT, 'a final pick must be one of the team''s own submissions for that dataset');
END;

CREATE TRIGGER final_picks_own_update BEFORE UPDATE ON final_picks
WHEN NOT EXISTS (SELECT 1 FROM submissions s WHERE s.id = NEW.submission_id AND s.phase = NEW.phase
                  AND s.team_id = NEW.team_id AND s.dataset_id = NEW.dataset_id)
BEGIN
    SELECT RAISE(ABORT, 'a final pick must be one of the team''s own submissions for that dataset');
END;

-- Baselines: the organizers' reference files, shown on the board, never ranked, never winners.
CREATE TABLE baselines (
    id             INTEGER PRIMARY KEY,
    phase          TEXT    NOT NULL,
    dataset_id     INTEGER NOT NULL,
    name           TEXT    NOT NULL CHECK (length(trim(name)) BETWEEN 1 AND 64),
    submitted_at   REAL    NOT NULL,
    rows           INTEGER NOT NULL,
    accuracy       REAL    NOT NULL CHECK (accuracy BETWEEN 0 AND 1),
    worst_group    REAL             CHECK (worst_group BETWEEN 0 AND 1),
    public         REAL             CHECK (public BETWEEN 0 AND 1),
    private        REAL             CHECK (private BETWEEN 0 AND 1),
    label_version  INTEGER NOT NULL DEFAULT 1 CHECK (label_version >= 1),
    filename       TEXT    NOT NULL,
    sha256         TEXT    NOT NULL CHECK (length(sha256) = 64),
    raw            BLOB    NOT NULL,
    UNIQUE (phase, dataset_id, name),
    FOREIGN KEY (phase, dataset_id) REFERENCES phase_datasets(phase, dataset_id)
);

-- Label versions of a dataset in a phase. Version 1 is the labels the event started with (kept
-- here when a first fix is proposed); a version is in force once confirmed. The labels are as
-- secret as y_val: .npy bytes, never sent.
CREATE TABLE label_versions (
    phase        TEXT    NOT NULL,
    dataset_id   INTEGER NOT NULL,
    version      INTEGER NOT NULL CHECK (version >= 1),
    labels       BLOB    NOT NULL,
    sha256       TEXT    NOT NULL CHECK (length(sha256) = 64),
    reason       TEXT    NOT NULL,
    created_at   REAL    NOT NULL,
    confirmed_at REAL,
    PRIMARY KEY (phase, dataset_id, version),
    FOREIGN KEY (phase, dataset_id) REFERENCES phase_datasets(phase, dataset_id)
);

-- The label a reveal answered: a re-reveal after a label fix answers the same one.
ALTER TABLE reveals ADD COLUMN label INTEGER;

-- Disqualification, reversible: the reason while disqualified, NULL otherwise.
ALTER TABLE teams ADD COLUMN disqualified TEXT CHECK (disqualified IS NULL OR length(trim(disqualified)) >= 1);
ALTER TABLE teams ADD COLUMN disqualified_at REAL;
