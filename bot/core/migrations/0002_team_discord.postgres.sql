-- PostgreSQL variant of 0002_team_discord.sqlite.sql: joining by code or openly, the Discord
-- objects a team owns (for reconcile), and a key/value table for event state that organizers
-- change live (the phase override).

ALTER TABLE teams ADD COLUMN join_code TEXT COLLATE "C";
ALTER TABLE teams ADD COLUMN is_open BIGINT NOT NULL DEFAULT 0 CHECK (is_open IN (0, 1));
ALTER TABLE teams ADD COLUMN discord_role_id BIGINT;
ALTER TABLE teams ADD COLUMN discord_channel_id BIGINT;
UPDATE teams SET join_code = substr(md5(random()::text || id::text), 1, 8) WHERE join_code IS NULL;

CREATE TABLE event_state (
    key        TEXT COLLATE "C" PRIMARY KEY,
    value      TEXT COLLATE "C" NOT NULL,
    updated_at DOUBLE PRECISION NOT NULL
);
