"""One submission per team, dataset and phase: strict validation, scoring, the deadline."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from bot.core.errors import AlreadyDone, BadCredentials, BadInput, NotAllowed, TooLarge
from tests.core.helpers import (
    CLOSES,
    MAX_BYTES,
    REAL,
    ROWS,
    csv_bytes,
    hidden_y,
    new_team,
    predictions_with_errors,
    sha256,
)


def good_file(services, dataset_id: int, wrong: int = 0, phase: str = "mock") -> bytes:
    y = hidden_y(services.config, phase, dataset_id)
    labels = services.registry.get(phase, dataset_id).labels
    return csv_bytes(predictions_with_errors(y, wrong, labels))


async def stored(services, team):
    return await services.store.fetchall(
        "SELECT phase, dataset_id, accuracy, filename, sha256, raw, rows, source, worst_group"
        " FROM submissions WHERE team_id = ? ORDER BY id",
        (team.id,),
    )


async def test_valid_file_accepted_with_its_accuracy(services):
    team, _ = await new_team(services, "Blue")
    data = good_file(services, 0, wrong=20)
    result = await services.submissions.submit(team, 0, "preds.csv", data, source="discord")
    assert result.accuracy == pytest.approx(0.9) and result.rows == ROWS
    assert result.phase == "mock" and result.dataset_id == 0
    perfect = await services.submissions.submit(team, 3, "p.csv", good_file(services, 3), source="discord")
    assert perfect.accuracy == 1.0 and perfect.worst_group == 1.0


async def test_accuracy_on_a_dataset_with_digit_labels(services):
    team, password = await new_team(services, "Blue")
    y = hidden_y(services.config, "mock", 5)
    pred = predictions_with_errors(y, 50, [4, 5, 6])
    result = await services.submissions.submit_with_login("blue", password, 5, "digits.csv", csv_bytes(pred))
    assert result.accuracy == pytest.approx(0.75)
    # worst group by hand from groups_val.npy
    groups = np.load(services.registry.get("mock", 5).folder / "groups_val.npy")
    worst = min(float(np.mean(pred[groups == g] == y[groups == g])) for g in np.unique(groups))
    assert result.worst_group == pytest.approx(worst)


async def test_raw_file_and_sha256_stored(services):
    team, _ = await new_team(services, "Blue")
    data = b"\xef\xbb\xbf" + good_file(services, 0, wrong=20).replace(b"\n", b"\r\n")  # Excel-style
    result = await services.submissions.submit(team, 0, "Preds.CSV", data, source="http")
    [(phase, dataset_id, accuracy, filename, sha, raw, rows, source, _)] = await stored(services, team)
    assert (phase, dataset_id, filename, rows, source) == ("mock", 0, "Preds.CSV", ROWS, "http")
    assert raw == data and sha == sha256(data) == result.sha256
    assert accuracy == pytest.approx(0.9)


def header(data: bytes) -> bytes:
    return b"label\n" + data


def extra_row(data: bytes) -> bytes:
    return data + b"0\n"


def missing_row(data: bytes) -> bytes:
    return data[: data.rindex(b"\n", 0, len(data) - 1) + 1]


def label_outside(data: bytes) -> bytes:
    lines = data.split(b"\n")
    lines[16] = b"7"
    return b"\n".join(lines)


def with_index(data: bytes) -> bytes:
    return b"".join(b"%d,%s\n" % (i, v) for i, v in enumerate(data.split()))


@pytest.mark.parametrize(("spoil", "expected"), [
    (header, "line 1: .*header"),
    (extra_row, f"line {ROWS + 1}: too many rows"),
    (missing_row, f"too few rows: expected {ROWS} labels.*got {ROWS - 1}"),
    (label_outside, "line 17: label 7 is not an allowed label"),
    (with_index, "line 1: .*columns"),
    (lambda data: data.replace(b"1\n", b"1.0\n", 1), "is a float"),
    (lambda data: b"", "empty"),
])
async def test_malformed_file_refused_without_using_the_submission(services, spoil, expected):
    team, _ = await new_team(services, "Blue")
    good = good_file(services, 0, wrong=20)
    with pytest.raises(BadInput, match=expected) as info:
        await services.submissions.submit(team, 0, "preds.csv", spoil(good), source="http")
    assert "preds.csv" in info.value.message and "did not use your submission" in info.value.message
    assert await stored(services, team) == []
    result = await services.submissions.submit(team, 0, "preds.csv", good, source="http")
    assert result.accuracy == pytest.approx(0.9)


@pytest.mark.parametrize("filename", ["preds.txt", "preds.csv.txt", "preds", "preds.npy"])
async def test_only_csv_files(services, filename):
    team, _ = await new_team(services, "Blue")
    with pytest.raises(BadInput, match=r"not a \.csv"):
        await services.submissions.submit(team, 0, filename, good_file(services, 0), source="http")
    assert await stored(services, team) == []
    await services.submissions.submit(team, 0, "preds.csv", good_file(services, 0), source="http")


async def test_too_large(services):
    team, _ = await new_team(services, "Blue")
    big = good_file(services, 0) + b" " * (MAX_BYTES + 1 - 2 * ROWS)
    assert len(big) == MAX_BYTES + 1
    with pytest.raises(TooLarge, match=f"{MAX_BYTES:,}"):
        await services.submissions.submit(team, 0, "preds.csv", big, source="http")
    with pytest.raises(TooLarge):
        services.submissions.check_size(MAX_BYTES + 1)  # by announced size, before reading
    services.submissions.check_size(MAX_BYTES)
    services.submissions.check_size(None)
    assert await stored(services, team) == []


async def test_second_submission_refused(services):
    team, password = await new_team(services, "Blue")
    await services.submissions.submit(team, 0, "a.csv", good_file(services, 0, wrong=20), source="http")
    with pytest.raises(AlreadyDone, match="already submitted for dataset 0 in phase 'mock'"):
        await services.submissions.submit(team, 0, "b.csv", good_file(services, 0), source="http")
    with pytest.raises(AlreadyDone):
        await services.submissions.submit_with_login("blue", password, 0, "c.csv", good_file(services, 0))
    [row] = await stored(services, team)
    assert row[2] == pytest.approx(0.9) and row[3] == "a.csv"  # the first one counts
    # another dataset and another team are not affected
    await services.submissions.submit(team, 3, "a.csv", good_file(services, 3), source="http")
    red, _ = await new_team(services, "Red")
    await services.submissions.submit(red, 0, "a.csv", good_file(services, 0), source="http")


async def test_two_validated_files_confirmed_once(services):
    """The Discord flow validates, asks, then confirms: a second confirm cannot sneak in."""
    team, _ = await new_team(services, "Blue")
    first = await services.submissions.validate(team, 0, "a.csv", good_file(services, 0, wrong=20))
    second = await services.submissions.validate(team, 0, "b.csv", good_file(services, 0))
    await services.submissions.confirm(first)
    with pytest.raises(AlreadyDone):
        await services.submissions.confirm(second)
    [row] = await stored(services, team)
    assert row[3] == "a.csv"


async def test_bad_login(services):
    await new_team(services, "Blue")
    with pytest.raises(BadCredentials):
        await services.submissions.submit_with_login("blue", "wrong", 0, "a.csv", good_file(services, 0))
    with pytest.raises(BadCredentials):
        await services.submissions.submit_with_login("nobody", "x", 99, "a.txt", b"junk")
    assert await services.store.fetchall("SELECT * FROM submissions") == []


async def test_team_not_validated(open_services):
    services = await open_services(require_validation=True)
    team, password = await new_team(services, "Blue", validated=False)
    with pytest.raises(NotAllowed, match="not validated"):
        await services.submissions.submit(team, 0, "a.csv", good_file(services, 0), source="discord")
    with pytest.raises(NotAllowed, match="not validated"):
        await services.submissions.submit_with_login("blue", password, 0, "a.csv", good_file(services, 0))
    assert await stored(services, team) == []
    await services.teams.validate("Blue")
    result = await services.submissions.submit_with_login("blue", password, 0, "a.csv", good_file(services, 0))
    assert result.accuracy == 1.0


async def test_deadline(services, clock):
    team, _ = await new_team(services, "Blue")
    clock.set(CLOSES - timedelta(seconds=1))
    await services.submissions.submit(team, 0, "a.csv", good_file(services, 0, phase="real"), source="http")
    clock.set(CLOSES)
    with pytest.raises(NotAllowed, match="closed at 2030-03-05 12:00 UTC"):
        await services.submissions.submit(team, 3, "a.csv", good_file(services, 3, phase="real"), source="http")
    assert [row[1] for row in await stored(services, team)] == [0]


async def test_validated_before_the_deadline_confirmed_after_is_refused(services, clock):
    team, _ = await new_team(services, "Blue")
    clock.set(CLOSES - timedelta(seconds=1))
    validated = await services.submissions.validate(team, 0, "a.csv", good_file(services, 0, phase="real"))
    clock.set(CLOSES)
    with pytest.raises(NotAllowed, match="closed"):
        await services.submissions.confirm(validated)
    assert await stored(services, team) == []


async def test_validated_in_one_phase_confirmed_in_the_next_is_refused(services, clock):
    team, _ = await new_team(services, "Blue")
    validated = await services.submissions.validate(team, 0, "a.csv", good_file(services, 0))
    clock.set(REAL)
    with pytest.raises(NotAllowed, match="phase 'mock' has ended"):
        await services.submissions.confirm(validated)
    assert await stored(services, team) == []


async def test_submission_in_mock_does_not_count_in_real(services, clock):
    team, _ = await new_team(services, "Blue")
    await services.submissions.submit(team, 0, "a.csv", good_file(services, 0, wrong=20), source="http")
    clock.set(REAL)
    # scored against the real phase's hidden labels, not used up by the mock submission
    result = await services.submissions.submit(team, 0, "a.csv", good_file(services, 0, 40, "real"), source="http")
    assert result.phase == "real" and result.accuracy == pytest.approx(0.8)
    assert [(r[0], r[2]) for r in await stored(services, team)] == [("mock", pytest.approx(0.9)), ("real", pytest.approx(0.8))]


async def test_dataset_not_in_the_current_phase(services, clock):
    team, _ = await new_team(services, "Blue")
    with pytest.raises(NotAllowed, match="not part of the current phase 'mock'"):
        await services.submissions.submit(team, 12, "a.csv", good_file(services, 12, phase="real"), source="http")
    clock.set(REAL)
    await services.submissions.submit(team, 12, "a.csv", good_file(services, 12, phase="real"), source="http")
