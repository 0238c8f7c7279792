-- Issue 11: what teams hand in for the judged prizes. One project per team; every change is a
-- new row of project_versions and bumps projects.version (an edit names the version it read,
-- so that of two members editing at once one wins and the other is told). The last version
-- before the deadline counts: after the lock no version is written. Times are Unix seconds, UTC.
--   status      draft (saved, not handed in) | submitted | withdrawn
--   moderation  pending | eligible | maybe | ineligible (moderation_reason says why; the team
--               is told). Only submitted and eligible projects enter judging and voting.
--   opt_ins     JSON list of [[prizes]] ids the team opted into; answers: JSON object of the
--               event's extra questions; checks: JSON list of the repository checks' findings;
--               verified NULL while GitHub could not be asked (checked again later).
--   deadline    this team's own deadline when an organizer extended it (extension_reason is
--               shown to judges); NULL: the event's [projects] closes.
--   deadline_commit / commits_after_deadline: the repository as judges see it.
CREATE TABLE projects (
    id                     INTEGER PRIMARY KEY,
    team_id                INTEGER NOT NULL UNIQUE REFERENCES teams(id) ON DELETE CASCADE,
    version                INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1),
    status                 TEXT    NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'submitted', 'withdrawn')),
    title                  TEXT    NOT NULL CHECK (length(trim(title)) BETWEEN 1 AND 100),
    summary                TEXT    NOT NULL DEFAULT '' CHECK (length(summary) <= 4000),
    repo_url               TEXT,
    demo_url               TEXT,
    category               TEXT,
    opt_ins                TEXT    NOT NULL DEFAULT '[]',
    answers                TEXT    NOT NULL DEFAULT '{}',
    checks                 TEXT    NOT NULL DEFAULT '[]',
    verified               INTEGER CHECK (verified IS NULL OR verified IN (0, 1)),
    checked_at             REAL,
    moderation             TEXT    NOT NULL DEFAULT 'pending'
                           CHECK (moderation IN ('pending', 'eligible', 'maybe', 'ineligible')),
    moderation_reason      TEXT    NOT NULL DEFAULT '',
    moderated_by           TEXT,
    moderated_at           REAL,
    deadline               REAL,
    extension_reason       TEXT    NOT NULL DEFAULT '',
    deadline_commit        TEXT,
    commits_after_deadline INTEGER CHECK (commits_after_deadline IS NULL OR commits_after_deadline >= 0),
    created_by             TEXT    NOT NULL,
    created_at             REAL    NOT NULL,
    updated_by             TEXT    NOT NULL,
    updated_at             REAL    NOT NULL,
    submitted_at           REAL,
    CHECK (moderation <> 'ineligible' OR length(trim(moderation_reason)) > 0)
);
CREATE INDEX projects_pool ON projects(status, moderation, category);

-- Every version as it was written, and by whom ("everyone sees who changed what").
CREATE TABLE project_versions (
    project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    version    INTEGER NOT NULL,
    status     TEXT    NOT NULL,
    title      TEXT    NOT NULL,
    summary    TEXT    NOT NULL,
    repo_url   TEXT,
    demo_url   TEXT,
    category   TEXT,
    opt_ins    TEXT    NOT NULL,
    answers    TEXT    NOT NULL,
    author     TEXT    NOT NULL,
    change     TEXT    NOT NULL DEFAULT '',
    at         REAL    NOT NULL,
    PRIMARY KEY (project_id, version)
);
