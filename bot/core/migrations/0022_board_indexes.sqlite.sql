-- Indexes for the board's queries (issue 15), found with EXPLAIN on a 5,000-team database.
--
-- Each final pick's submission. The board reads every submission with
-- `LEFT JOIN final_picks f ON f.submission_id = s.id` (bot/core/competition.submission_rows), as do
-- /final-pick's list and the exports; without an index SQLite scanned every pick for every
-- submission row: at 5,000 teams x 14 datasets with a pick each, 13 s per chunk of 4,000 rows, and
-- PostgreSQL sorted every pick for each chunk. Deleting a submission (ON DELETE CASCADE) scanned
-- them too. UNIQUE states what the primary key and the final_picks_own triggers already hold: a
-- submission is its own team's pick for its own dataset, so it is picked at most once.
CREATE UNIQUE INDEX final_picks_submission ON final_picks(submission_id);

-- The board's rows, read in chunks by id (WHERE phase = ? AND id > ? ORDER BY id), straight from an
-- index that holds every column the board reads: the table's rows carry each label file (raw), so
-- reading them through submissions_phase touched a page or more per submission. 5,000 teams x 14
-- datasets with 8 KB files: 91 ms for the whole board on SQLite, 36 ms with this index (an index-only
-- scan on PostgreSQL, once vacuumed). (0014's submissions_board was made for an earlier, per-team
-- reading of the board.)
CREATE INDEX submissions_board_rows ON submissions(phase, id, team_id, dataset_id, submitted_at, accuracy, public, private,
                                           worst_public, worst_group);
