"""Hackathon42's bundles over a real database (SQLite and PostgreSQL): a zip stored once by its
sha256, an explanation per dataset kept across uploads, the refusals (not a zip, too large,
unknown dataset) writing nothing, and the lock at the deadline; POST /api/bundles over HTTP."""

from __future__ import annotations

import hashlib
import io
import zipfile
from datetime import timedelta

import aiohttp
import pytest

from bot.config import load_event
from bot.core.errors import BadInput, NotAllowed, NotFound, TooLarge
from bot.core.services import Services
from bot.web.server import start_web
from tests.core.helpers import Clock
from tests.core.project_helpers import CLOSES, WORK, write_project_event

BUNDLES = """
[projects]
closes = "2030-03-03 23:59 AoE"
required = []

[projects.bundles]
max_bytes = 4000
explanations = "per_dataset"
datasets = [0, 3]
"""


def a_zip(text: str = "print('hello')") -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(zipfile.ZipInfo("src/main.py", date_time=(2031, 5, 1, 12, 0, 0)), text)  # same bytes on every call
    return out.getvalue()


@pytest.fixture
async def env(tmp_path, db):
    clock = Clock(WORK)
    services = await Services.open(load_event(write_project_event(tmp_path / "event", BUNDLES)), db, clock=clock)
    yield services, clock
    await services.close()


async def test_a_zip_is_stored_by_sha256_and_explanations_are_kept_per_dataset(env):
    services, _ = env
    ants = (await services.teams.create("Ants", captain="1")).team
    bees = (await services.teams.create("Bees", captain="2")).team
    with pytest.raises(BadInput, match="send the zip of your code first"):
        await services.bundles.save(ants.id, "1", dataset_id=0, explanation="kNN on embeddings")
    data = a_zip()
    first = await services.bundles.save(ants.id, "1", file=("code.zip", data), dataset_id=0, explanation="kNN")
    assert first.sha256 == hashlib.sha256(data).hexdigest() and first.missing([0, 3]) == [3]
    second = await services.bundles.save(ants.id, "1", dataset_id=3, explanation="pseudo-labels")
    assert second.explanations == {"0": "kNN", "3": "pseudo-labels"} and second.version == 2
    await services.bundles.save(bees.id, "2", file=("same.zip", data))
    assert await services.store.fetchval("SELECT count(*) FROM bundle_blobs") == 1  # one blob for the same bytes
    assert await services.bundles.data(first.sha256) == data
    assert [b.team_name for b in await services.bundles.all()] == ["Ants", "Bees"]


@pytest.mark.parametrize(("file", "dataset", "explanation", "error", "message"), [
    (("code.tar", b"x"), None, None, BadInput, "not a .zip"),
    (("code.zip", b"not a zip"), None, None, BadInput, "not a readable zip"),
    (("code.zip", a_zip("x" * 20000) + b"\0" * 5000), None, None, TooLarge, "the limit is 4,000 bytes"),
    (("code.zip", a_zip()), 5, "why", BadInput, "one of 0, 3"),
    (("code.zip", a_zip()), 0, "   ", BadInput, "explanation is empty"),
])
async def test_refusals_write_nothing(env, file, dataset, explanation, error, message):
    services, _ = env
    ants = (await services.teams.create("Ants", captain="1")).team
    with pytest.raises(error, match=message):
        await services.bundles.save(ants.id, "1", file=file, dataset_id=dataset, explanation=explanation)
    with pytest.raises(NotFound):
        await services.bundles.of_team(ants.id)


async def test_bundles_lock_at_the_deadline(env):
    services, clock = env
    ants = (await services.teams.create("Ants", captain="1")).team
    clock.set(CLOSES - timedelta(minutes=1))
    await services.bundles.save(ants.id, "1", file=("code.zip", a_zip()))
    clock.set(CLOSES + timedelta(minutes=1))
    with pytest.raises(NotAllowed, match="bundles closed at 2030-03-04 11:59 UTC"):
        await services.bundles.save(ants.id, "1", dataset_id=0, explanation="late")


async def test_post_api_bundles(env):
    services, _ = env
    creds = await services.teams.create("Ants", captain="1")
    runner = await start_web(services, "127.0.0.1", 0)
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/api/bundles"
    try:
        form = aiohttp.FormData()
        for key, value in (("username", creds.team.username), ("password", creds.password), ("exercise_id", "3"),
                           ("explanation", "pseudo-labels")):
            form.add_field(key, value)
        form.add_field("file", a_zip(), filename="code.zip", content_type="application/zip")
        async with aiohttp.ClientSession() as http, http.post(url, data=form) as res:
            body = await res.json()
        assert res.status == 200 and body["explained"] == ["3"] and body["missing"] == [0]
        form = aiohttp.FormData()
        form.add_field("username", creds.team.username)
        form.add_field("password", "wrong")
        form.add_field("file", a_zip(), filename="code.zip")
        async with aiohttp.ClientSession() as http, http.post(url, data=form) as res:
            assert res.status == 401
    finally:
        await runner.cleanup()


def test_the_cli_lists_and_writes_the_bundles_for_the_jury(tmp_path, db):
    import asyncio

    from click.testing import CliRunner

    from bot.cli import main

    path = write_project_event(tmp_path / "event", BUNDLES)

    async def prepare() -> None:
        services = await Services.open(load_event(path), db, clock=Clock(WORK))
        try:
            ants = (await services.teams.create("Ants", captain="1")).team
            await services.bundles.save(ants.id, "1", file=("code.zip", a_zip()), dataset_id=0, explanation="kNN")
        finally:
            await services.close()

    asyncio.run(prepare())
    out = tmp_path / "jury"
    result = CliRunner().invoke(main, ["projects", "bundles", "--out", str(out), "--config", str(path), "--db", db])
    assert result.exit_code == 0, result.output
    assert "Ants" in result.output and (out / "Ants" / "code.zip").read_bytes() == a_zip()
    assert (out / "Ants" / "explanation-0.txt").read_text() == "kNN\n"
