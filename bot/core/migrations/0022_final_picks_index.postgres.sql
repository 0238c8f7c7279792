-- Each final pick's submission, indexed (issue 15). The board reads every submission with
-- `LEFT JOIN final_picks f ON f.submission_id = s.id` (bot/core/competition.submission_rows), as do
-- /final-pick's list and the exports; without an index SQLite scanned every pick for every
-- submission row: at 5,000 teams x 14 datasets with a pick each, 13 s per chunk of 4,000 rows, and
-- PostgreSQL sorted every pick for each chunk. Deleting a submission (ON DELETE CASCADE) scanned
-- them too. UNIQUE states what the primary key and the final_picks_own triggers already hold: a
-- submission is its own team's pick for its own dataset, so it is picked at most once.
CREATE UNIQUE INDEX final_picks_submission ON final_picks(submission_id);
