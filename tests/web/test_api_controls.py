"""The HTTP door onto the competition controls (issue 16): blind mode answers without a score,
several submissions say how many are left, the board never carries the split."""

from __future__ import annotations

import aiohttp

from tests.web.conftest import valid_csv
from tests.web.test_api import post, submit_form

SEED = 987654321


async def leaderboard(url: str) -> dict:
    async with aiohttp.ClientSession() as session, session.get(f"{url}/api/leaderboard") as res:
        assert res.status == 200
        return await res.json()


async def test_blind_mode_answers_without_any_score(start_server):
    server = await start_server(controls={0: 'visibility = "blind"\nsubmissions = { per_day = 3 }'})
    username, password = await server.team("Blind Team")
    status, body, _ = await post(f"{server.url}/submit/", submit_form(username, password, 0, valid_csv(server.y(0), 50)))
    assert status == 200, body
    assert body == {"exercise_id": 0, "rows": 500, "submissions_left": 2}
    board = await leaderboard(server.url)
    assert board["visibility"] == "hidden"
    assert all(team["total"] is None and all(c["score"] is None for c in team["scores"].values())
               for team in board["teams"])


async def test_a_split_dataset_answers_the_public_score_and_never_the_split(start_server):
    server = await start_server(controls={3: f"private_fraction = 0.5\nsplit_seed = {SEED}"})
    username, password = await server.team("Split Team")
    status, body, _ = await post(f"{server.url}/submit/", submit_form(username, password, 3, valid_csv(server.y(3), 100)))
    assert status == 200, body
    public, private, full = await server.services.store.fetchone("SELECT public, private, accuracy FROM submissions")
    assert body == {"exercise_id": 3, "rows": 500, "accuracy": public}  # one-shot: the Hackathon42 keys
    assert public != private and full == 0.8
    board = await leaderboard(server.url)
    assert board["board"] == "public"
    text = str(board)
    assert str(private) not in text and "mask" not in text and str(SEED) not in text
    team = next(t for t in board["teams"] if t["team"] == "Split Team")
    assert team["scores"]["3"]["score"] == public
