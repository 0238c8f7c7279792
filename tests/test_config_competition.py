"""The competition controls of a dataset in the event file (issue 16): defaults, values, refusals."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.config import ConfigError, SubmissionPolicy, load_event

CONFIG_DIR = Path(__file__).resolve().parent.parent / "config"
NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)

HEAD = """
[event]
name = "Test event"
timezone = "Europe/Paris"

[[phases]]
id = "public"
starts = 2024-11-01T00:00:00

[[phases]]
id = "final"
starts = 2024-11-20T00:00:00

[submissions]
closes = 2024-11-24T18:00:00

[[datasets]]
id = 3
name = "toy"
points = 2
"""


def load(tmp_path: Path, dataset_keys: str):
    path = tmp_path / "event.toml"
    path.write_text(HEAD + dataset_keys, encoding="utf-8")
    return load_event(path, now=NOW, check_data=False)


def problems_of(tmp_path: Path, dataset_keys: str) -> dict[str, str]:
    with pytest.raises(ConfigError) as info:
        load(tmp_path, dataset_keys)
    return dict(info.value.problems)


@pytest.mark.parametrize("preset", ["hackathon42", "astroxml"])  # the demo shows the controls off
def test_presets_keep_hackathon42s_rules(preset):
    config = load_event(CONFIG_DIR / f"{preset}.toml", check_data=False)
    for ds in config.datasets:
        assert ds.submissions.one_shot and ds.submissions == SubmissionPolicy(total=1)
        assert (ds.submissions.per_day, ds.submissions.count_failed) == (None, False)
        assert ds.counts == "best_public" and ds.final_pick_closes is None
        assert ds.private_fraction == 0 and ds.split_seed is None
        assert ds.freeze is None and ds.visibility is None
        for phase in config.phases:
            assert ds.visibility_in(phase.id, config.leaderboard.visibility) == config.leaderboard.visibility


def test_a_kaggle_style_dataset(tmp_path):
    ds = load(tmp_path, """
submissions = { per_day = 5, total = 40, count_failed = true }
counts = "final_pick"
final_pick_closes = 2024-11-24T12:00:00
private_fraction = 0.7
split_seed = 8231928374
visibility = { public = "live", final = "blind" }
freeze = 2024-11-23T18:00:00
""").datasets[0]
    assert ds.submissions == SubmissionPolicy(per_day=5, total=40, count_failed=True)
    assert not ds.submissions.one_shot
    assert ds.counts == "final_pick"
    assert ds.final_pick_closes == datetime(2024, 11, 24, 11, 0, tzinfo=UTC)  # read in Europe/Paris
    assert ds.freeze == datetime(2024, 11, 23, 17, 0, tzinfo=UTC)
    assert (ds.private_fraction, ds.split_seed) == (0.7, 8231928374)
    assert ds.visibility_in("public", "hidden") == "live"
    assert ds.visibility_in("final", "live") == "blind"


def test_one_visibility_for_every_phase_and_unlimited_submissions(tmp_path):
    ds = load(tmp_path, 'visibility = "hidden"\nsubmissions = "unlimited"\ncounts = "last"\n').datasets[0]
    assert ds.visibility_in("public", "live") == ds.visibility_in("final", "live") == "hidden"
    assert ds.submissions == SubmissionPolicy.model_validate("unlimited") and not ds.submissions.one_shot
    assert (ds.submissions.per_day, ds.submissions.total) == (None, None)
    assert ds.counts == "last"
    assert load(tmp_path, 'submissions = { total = 1 }\n').datasets[0].submissions.one_shot
    assert load(tmp_path, 'submissions = "one_shot"\n').datasets[0].submissions.one_shot


@pytest.mark.parametrize("keys, key, says", [
    ('submissions = "oneshot"', "datasets[0].submissions", ['"one_shot"', '"unlimited"', "per_day = 5"]),
    ("submissions = {}", "datasets[0].submissions", ["per_day and/or total", '"unlimited"']),
    ("submissions = { count_failed = true }", "datasets[0].submissions", ["per_day and/or total"]),
    ("submissions = { per_day = 10, total = 5 }", "datasets[0].submissions",
     ["per_day (10) is above total (5)", "lower per_day or raise total"]),
    ("submissions = { per_dya = 3 }", "datasets[0].submissions", ["per_day and/or total", "per_dya is not a key"]),
    ("submissions = { per_day = 3, totl = 9 }", "datasets[0].submissions.totl", ["unknown key"]),
    ("submissions = { per_day = 0 }", "datasets[0].submissions.per_day", ["greater than or equal to 1"]),
    ('counts = "best"', "datasets[0].counts", ["'best_public'", "'last'", "'final_pick'", "change the value"]),
    ("private_fraction = 0.7", "datasets[0].split_seed", ["required with a private_fraction", "secrets.randbits",
                                                          "keep this file private"]),
    ("split_seed = 5", "datasets[0].split_seed", ["no effect without a private_fraction", "remove it"]),
    ("private_fraction = 1\nsplit_seed = 5", "datasets[0].private_fraction", ["less than 1"]),
    ("private_fraction = -0.1\nsplit_seed = 5", "datasets[0].private_fraction", ["greater than or equal to 0"]),
    ("private_fraction = 0.5\nsplit_seed = -5", "datasets[0].split_seed", ["greater than or equal to 0"]),
    ('counts = "final_pick"', "datasets[0].counts", ["one_shot", "only one to count", "allow several submissions"]),
    ('submissions = "unlimited"\nfinal_pick_closes = 2024-11-24T12:00:00', "datasets[0].final_pick_closes",
     ['counts = "final_pick"', "'best_public'", "remove final_pick_closes"]),
    ('visibility = "public"', "datasets[0].visibility", ["'public' is not a visibility", '"blind"']),
    ('visibility = { final = "secret" }', "datasets[0].visibility", ["phase 'final'", "'secret' is not a visibility"]),
    ('visibility = { finale = "blind" }', "datasets[0].visibility", ["'finale'", "'public', 'final'", "fix the name"]),
    ("freeze = 2024-11-25T00:00:00", "datasets[0].freeze", ["after submissions close", "2024-11-24 17:00 UTC",
                                                            "move it before the close or remove it"]),
    ('submissions = "unlimited"\ncounts = "final_pick"\nfinal_pick_closes = 2024-11-30T00:00:00',
     "datasets[0].final_pick_closes", ["after submissions close"]),
    ("freeze = \"sunday\"", "datasets[0].freeze", ["is not a time", "ISO 8601"]),
])
def test_each_problem_names_its_key_and_the_fix(tmp_path, keys, key, says):
    problems = problems_of(tmp_path, keys + "\n")
    assert list(problems) == [key], problems
    for words in says:
        assert words in problems[key], problems[key]


def test_several_problems_of_one_dataset_are_reported_together(tmp_path):
    problems = problems_of(tmp_path, 'private_fraction = 0.5\ncounts = "final_pick"\n')
    assert set(problems) == {"datasets[0].split_seed", "datasets[0].counts"}
