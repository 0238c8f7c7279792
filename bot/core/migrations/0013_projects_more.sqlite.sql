-- Issue 11, continued: the lock at the deadline held by the database, the draft reminders sent
-- once, and Hackathon42's bundles stored by sha256.
--   project_limits  one row: the event's [projects] closes (Unix seconds, NULL: no deadline),
--                   written from the event file when the services open.
--   A version written at or after the project's deadline (its own extended one, or the event's)
--   is refused: "the last version before the deadline counts" whatever the process.
--   project_reminders  a draft reminder (offset_s before the deadline) claimed once per project.
--   project_bundles    one zip per team (its bytes in bundle_blobs by sha256) and explanations.
--   projects.recheck_at  an unverified repository check is run again at this time.
--   projects.after_checked_at  when commits_after_deadline was last counted.
ALTER TABLE projects ADD COLUMN recheck_at REAL;
ALTER TABLE projects ADD COLUMN after_checked_at REAL;

CREATE TABLE project_limits (
    id     INTEGER PRIMARY KEY CHECK (id = 1),
    opens  REAL,
    closes REAL
);

CREATE TRIGGER project_versions_locked BEFORE INSERT ON project_versions
WHEN NEW.at >= COALESCE((SELECT deadline FROM projects WHERE id = NEW.project_id),
                        (SELECT closes FROM project_limits WHERE id = 1), 1e300)
BEGIN
    SELECT RAISE(ABORT, 'project closed');
END;

CREATE TABLE project_reminders (
    project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    offset_s   REAL    NOT NULL,
    sent_at    REAL    NOT NULL,
    PRIMARY KEY (project_id, offset_s)
);

CREATE TABLE bundle_blobs (
    sha256 TEXT PRIMARY KEY CHECK (length(sha256) = 64),
    size   INTEGER NOT NULL CHECK (size >= 0),
    data   BLOB NOT NULL
);

CREATE TABLE project_bundles (
    team_id      INTEGER PRIMARY KEY REFERENCES teams(id) ON DELETE CASCADE,
    sha256       TEXT    NOT NULL REFERENCES bundle_blobs(sha256),
    filename     TEXT    NOT NULL,
    size         INTEGER NOT NULL,
    explanations TEXT    NOT NULL DEFAULT '{}',
    version      INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1),
    updated_by   TEXT    NOT NULL,
    updated_at   REAL    NOT NULL
);
