-- The organizers' decision on a code-review checklist item a judge marked failed (issue 12,
-- Hackathon42's rules: no training across datasets, no pre-trained model, no labelling by hand).
-- Upheld: the team wins no prize (bot/core/prizes.py's decide_winners passes it over, with the
-- reason); dismissed: the failure has no consequence. Until a decision, a prize the team would win
-- is not decided. One decision per round, team and item; an organizer may change it until the
-- prizes are frozen (frozen prizes never change).
CREATE TABLE checklist_rulings (
    round      TEXT COLLATE "C"    NOT NULL,
    team_id    BIGINT NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    item       TEXT COLLATE "C"    NOT NULL CHECK (length(item) BETWEEN 1 AND 100),
    upheld     INTEGER NOT NULL CHECK (upheld IN (0, 1)),
    reason     TEXT COLLATE "C"    NOT NULL CHECK (length(trim(reason)) BETWEEN 1 AND 500),
    decided_by TEXT COLLATE "C"    NOT NULL,
    decided_at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (round, team_id, item)
);
