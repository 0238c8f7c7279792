-- PostgreSQL variant of 0013_projects_more.sqlite.sql (its comments say what each part means).
ALTER TABLE projects ADD COLUMN recheck_at DOUBLE PRECISION;
ALTER TABLE projects ADD COLUMN after_checked_at DOUBLE PRECISION;

CREATE TABLE project_limits (
    id     BIGINT PRIMARY KEY CHECK (id = 1),
    opens  DOUBLE PRECISION,
    closes DOUBLE PRECISION
);

CREATE FUNCTION project_versions_locked() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.at >= COALESCE((SELECT deadline FROM projects WHERE id = NEW.project_id),
                          (SELECT closes FROM project_limits WHERE id = 1), 1e300) THEN
        RAISE EXCEPTION 'project closed' USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER project_versions_locked BEFORE INSERT ON project_versions
    FOR EACH ROW EXECUTE FUNCTION project_versions_locked();

CREATE TABLE project_reminders (
    project_id BIGINT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    offset_s   DOUBLE PRECISION NOT NULL,
    sent_at    DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (project_id, offset_s)
);

CREATE TABLE bundle_blobs (
    sha256 TEXT COLLATE "C" PRIMARY KEY CHECK (length(sha256) = 64),
    size   BIGINT NOT NULL CHECK (size >= 0),
    data   BYTEA NOT NULL
);

CREATE TABLE project_bundles (
    team_id      BIGINT PRIMARY KEY REFERENCES teams(id) ON DELETE CASCADE,
    sha256       TEXT COLLATE "C" NOT NULL REFERENCES bundle_blobs(sha256),
    filename     TEXT COLLATE "C" NOT NULL,
    size         BIGINT NOT NULL,
    explanations TEXT COLLATE "C" NOT NULL DEFAULT '{}',
    version      BIGINT NOT NULL DEFAULT 1 CHECK (version >= 1),
    updated_by   TEXT COLLATE "C" NOT NULL,
    updated_at   DOUBLE PRECISION NOT NULL
);
