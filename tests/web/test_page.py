"""The leaderboard page (GET /) rendered by real headless Chromium (Debian's chromium).

Three runs of the browser:
  * --dump-dom of the real page: rank, team names, totals in order, one column per dataset of
    the current phase, cell classes "submitted" / "default";
  * --dump-dom of a probe page served on the same origin as the real page (a small test proxy
    forwards /lb to the server's GET /): its script reads getComputedStyle() of a submitted and a
    default cell inside an iframe, so the two kinds are shown to differ as rendered;
  * --screenshot of the real page, checked to be a real, non-blank 1200x600 PNG.
"""

from __future__ import annotations

import asyncio
import json
import os
import struct
import zlib
from html.parser import HTMLParser
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from tests.web.conftest import ROWS, valid_csv

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_TIMEOUT = 40.0  # seconds: a page that takes longer has hung
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed at /usr/bin/chromium")


async def chromium(user_data_dir: Path, *args: str, tz: str | None = None) -> str:
    """Headless Debian Chromium, cut off from the network it would otherwise try to reach;
    `tz` sets the browser's time zone (the schedule page shows the reader's local time)."""
    env = {**os.environ, "TZ": tz, "LANG": "en_US.UTF-8"} if tz else None
    proc = await asyncio.create_subprocess_exec(
        str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-dev-shm-usage", "--lang=en-US", f"--user-data-dir={user_data_dir}", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), CHROMIUM_TIMEOUT)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    assert proc.returncode == 0, err.decode(errors="replace")[-2000:]
    return out.decode()


class Table(HTMLParser):
    """The cells of <table id="leaderboard">: header texts and rows of (class, text)."""

    def __init__(self):
        super().__init__()
        self.head: list[str] = []
        self.rows: list[list[tuple[str, str]]] = []
        self.row_classes: list[str] = []
        self._in_table = self._in_head = False
        self._cell: list | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and attrs.get("id") == "leaderboard":
            self._in_table = True
        elif not self._in_table:
            return
        elif tag == "thead":
            self._in_head = True
        elif tag == "tr" and not self._in_head:
            self.rows.append([])
            self.row_classes.append(attrs.get("class") or "")
        elif tag in ("td", "th"):
            self._cell = [attrs.get("class") or "", ""]

    def handle_endtag(self, tag):
        if not self._in_table:
            return
        if tag == "table":
            self._in_table = False
        elif tag == "thead":
            self._in_head = False
        elif tag in ("td", "th") and self._cell is not None:
            cls, text = self._cell
            if self._in_head:
                self.head.append(text.strip())
            else:
                self.rows[-1].append((cls, text.strip()))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell[1] += data


@pytest.fixture
async def board(server):
    """Alpha submitted dataset 3 perfectly, Beta dataset 0 at 0.5, Gamma nothing; Delta unvalidated."""
    s = server.services
    alpha = (await s.teams.create("Alpha", validated=True)).team
    beta = (await s.teams.create("Beta", validated=True)).team
    await s.teams.create("Gamma <&> Co", validated=True)
    await s.teams.create("Delta", validated=False)
    await s.submissions.submit(alpha, 3, "a.csv", valid_csv(server.y(3)), source="test")
    await s.submissions.submit(beta, 0, "b.csv", valid_csv(server.y(0), wrong=ROWS // 2), source="test")
    return server


async def test_page_in_chromium_dom(board, tmp_path):
    dom = await chromium(tmp_path / "profile", "--dump-dom", f"{board.url}/")
    assert "<title>Web Test Event leaderboard</title>" in dom
    table = Table()
    table.feed(dom)
    # one column per dataset of the current phase ("mock": 0, 2, 3; dataset 12 is "real" only)
    assert table.head[:4] == ["#", "Team", "Total", "Last submission (UTC)"]
    assert table.head[4:] == ["01 pt", "21 pt", "32 pt"]  # short: id and points; the full name on hover
    assert 'title="toy_dataset (1 pt)' in dom and 'title="random_row (2 pts)' in dom
    assert "hard_real_only" not in dom
    # rank, team, total in order; the unvalidated team is not listed
    got = [(cells[0][1], cells[1][1], cells[2][1]) for cells in table.rows]
    assert got == [("1", "Alpha", "3.600"), ("2", "Gamma <&> Cono submission yet", "3.200"), ("3", "Beta", "2.900")]
    assert "Delta" not in dom
    assert all(len(cells) == 7 for cells in table.rows)
    assert [c[0] for c in table.rows[0][:3]] == ["rank", "team", "total"]
    assert all("podium" in cls for cls in table.row_classes)
    # a submitted cell (its accuracy) and a default cell (the default score), by class and value
    alpha, gamma, beta = ([(cls, text[:5]) for cls, text in cells[4:]] for cells in table.rows)
    assert alpha == [("default", "0.800"), ("default", "0.800"), ("submitted", "1.000")]
    assert gamma == [("default", "0.800"), ("default", "0.800"), ("default", "0.800")]
    assert beta == [("submitted", "0.500"), ("default", "0.800"), ("default", "0.800")]
    # Gamma never submitted: said in its row; the others show when they last did
    assert table.rows[1][3][1] == "—"
    assert table.rows[0][3][1] == "01 Mar 13:00"
    # the team name was escaped, not parsed as markup
    assert "<co>" not in dom.lower() and "Gamma &lt;&amp;&gt; Co" in dom


async def test_submitted_and_default_cells_differ_in_computed_style(board, tmp_path):
    probe_html = """<!doctype html><html><body>
<iframe id="lb" src="/lb" style="width:1200px;height:600px"></iframe>
<pre id="out">pending</pre>
<script>
window.addEventListener("load", () => {
  const doc = document.getElementById("lb").contentDocument;
  const style = (selector) => {
    const el = doc.querySelector(selector);
    if (!el) return null;
    const cs = doc.defaultView.getComputedStyle(el);
    return {fontWeight: cs.fontWeight, fontStyle: cs.fontStyle, color: cs.color,
            backgroundColor: cs.backgroundColor, text: el.textContent};
  };
  document.getElementById("out").textContent = JSON.stringify({
    submitted: style("td.submitted"), default: style("td.default"),
    rows: doc.querySelectorAll("#leaderboard tbody tr").length,
  });
});
</script></body></html>"""

    async def lb(request):
        async with aiohttp.ClientSession() as s, s.get(f"{board.url}/") as res:
            assert res.status == 200
            return web.Response(text=await res.text(), content_type="text/html")

    async def probe(request):
        return web.Response(text=probe_html, content_type="text/html")

    app = web.Application()
    app.router.add_get("/lb", lb)
    app.router.add_get("/probe", probe)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    port = runner.addresses[0][1]
    try:
        dom = await chromium(tmp_path / "profile", "--virtual-time-budget=5000", "--dump-dom",
                             f"http://127.0.0.1:{port}/probe")
    finally:
        await runner.cleanup()
    start = dom.index('<pre id="out">') + len('<pre id="out">')
    result = json.loads(dom[start:dom.index("</pre>", start)].replace("&quot;", '"').replace("&amp;", "&"))
    submitted, default = result["submitted"], result["default"]
    assert result["rows"] == 3
    assert submitted["text"].startswith("1.000") and default["text"] == "0.800"
    assert submitted["fontStyle"] == "normal" and default["fontStyle"] == "italic"
    assert int(submitted["fontWeight"]) >= 600 > int(default["fontWeight"])
    assert submitted["color"] != default["color"]
    assert submitted["backgroundColor"] != default["backgroundColor"]  # tinted by the score


def _png_info(data: bytes) -> tuple[int, int, bytes]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, width, height, idat = 8, 0, 0, b""
    while pos < len(data):
        (length,), kind = struct.unpack(">I", data[pos:pos + 4]), data[pos + 4:pos + 8]
        chunk = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height = struct.unpack(">II", chunk[:8])
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    return width, height, zlib.decompress(idat)


async def test_page_screenshot(board, tmp_path):
    png = tmp_path / "lb.png"
    await chromium(tmp_path / "profile", f"--screenshot={png}", "--window-size=1200,600",
                   "--hide-scrollbars", f"{board.url}/")
    data = png.read_bytes()
    width, height, pixels = _png_info(data)
    assert (width, height) == (1200, 600)
    assert len(data) > 5_000, "a blank page compresses to almost nothing"
    assert len(set(pixels)) > 32, "the screenshot is (nearly) uniform"
