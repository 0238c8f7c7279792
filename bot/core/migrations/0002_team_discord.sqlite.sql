-- Joining by code or openly, the Discord objects a team owns (for reconcile), and a small
-- key/value table for event state that organizers change live (the phase override).

ALTER TABLE teams ADD COLUMN join_code TEXT;
ALTER TABLE teams ADD COLUMN is_open INTEGER NOT NULL DEFAULT 0 CHECK (is_open IN (0, 1));
ALTER TABLE teams ADD COLUMN discord_role_id INTEGER;
ALTER TABLE teams ADD COLUMN discord_channel_id INTEGER;
UPDATE teams SET join_code = lower(hex(randomblob(4))) WHERE join_code IS NULL;

CREATE TABLE event_state (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at REAL NOT NULL
);
