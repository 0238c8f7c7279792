-- The organizers' decision on a code-review checklist item a judge marked failed (issue 12,
-- Hackathon42's rules: no training across datasets, no pre-trained model, no labelling by hand).
-- Upheld: the team wins no prize (bot/core/prizes.py's decide_winners passes it over, with the
-- reason); dismissed: the failure has no consequence. Until a decision, a prize the team would win
-- is not decided. One decision per round, team and item; an organizer may change it until the
-- prizes are frozen (frozen prizes never change).
CREATE TABLE checklist_rulings (
    round      TEXT    NOT NULL,
    team_id    INTEGER NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    item       TEXT    NOT NULL CHECK (length(item) BETWEEN 1 AND 100),
    upheld     INTEGER NOT NULL CHECK (upheld IN (0, 1)),
    reason     TEXT    NOT NULL CHECK (length(trim(reason)) BETWEEN 1 AND 500),
    decided_by TEXT    NOT NULL,
    decided_at REAL NOT NULL,
    PRIMARY KEY (round, team_id, item)
);
