"""Drive Debian's headless Chromium over the Chrome DevTools Protocol (CDP), for the page tests.

A small CDP client over an aiohttp websocket: no browser download, no driver process, only the
DevTools domains that have been stable for years (Target, Page, Runtime, Input, Emulation).

    async with browser() as b:                      # starts /usr/bin/chromium, a fresh profile
        page = await b.new_page(width=390, height=844, mobile=True, dark=True, tz="Asia/Tokyo")
        await page.goto(url)                        # returns once the load event has fired
        await page.click("#refresh")                # a real mouse click at the element's centre
        await page.wait_for("document.querySelectorAll('tr').length > 3")
        png = await page.screenshot("board.png")    # the viewport, as PNG bytes
        serious = [v for v in await page.axe() if v["impact"] in SERIOUS]

A test takes the fixture `browser` (tests/conftest.py): the suite starts one Chromium process for
the whole run (`Chromium`, the session fixture `chromium_process`) and each test connects to it
with `connect(ws_url)` in its own event loop (about 20 ms); every page lives in its own browser
context (its own cookies, storage and cache), closed after the test.

axe-core comes from the npm registry: `make test` installs it under .venv/npm (`make axe`).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import functools
import itertools
import json
import os
import shutil
import signal
import struct
import subprocess
import tempfile
import time
import zlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import IO, Any

import aiohttp
import numpy as np

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = Path(os.environ.get("HACKBOT_CHROMIUM", "/usr/bin/chromium"))
AXE_JS = Path(os.environ.get("HACKBOT_AXE_JS", REPO / ".venv/npm/node_modules/axe-core/axe.min.js"))
SERIOUS = frozenset({"serious", "critical"})  # axe's two highest impacts
# The flags of every headless run in the suite: no sandbox (root in CI), and nothing that reaches
# for the network on its own (only loopback is reachable here). --force-color-profile keeps the
# colours of a screenshot what the CSS says; --hide-scrollbars draws none, so the layout is as
# wide as the viewport at every size, as on a phone (whose scrollbars overlay the page).
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--lang=en-US", "--force-color-profile=srgb", "--mute-audio",
    "--hide-scrollbars",
)
START_TIMEOUT = 30.0  # seconds for Chromium to open its DevTools port; longer means it is stuck
CALL_TIMEOUT = 30.0  # seconds for one DevTools call to answer
KEYS = {  # key name -> (code, windowsVirtualKeyCode, text it types)
    "Enter": ("Enter", 13, "\r"), "Tab": ("Tab", 9, ""), "Escape": ("Escape", 27, ""),
    "Backspace": ("Backspace", 8, ""), "Space": ("Space", 32, " "),
    "ArrowLeft": ("ArrowLeft", 37, ""), "ArrowUp": ("ArrowUp", 38, ""),
    "ArrowRight": ("ArrowRight", 39, ""), "ArrowDown": ("ArrowDown", 40, ""),
    "PageUp": ("PageUp", 33, ""), "PageDown": ("PageDown", 34, ""), "Home": ("Home", 36, ""), "End": ("End", 35, ""),
}


class BrowserError(RuntimeError):
    """Chromium could not start, answered a call with an error, or went away."""


class JavaScriptError(BrowserError):
    """Script run by Page.evaluate threw; the message is the page's own."""


class AxeNotInstalled(BrowserError):
    """axe-core's axe.min.js is not where `make axe` puts it."""


def chromium_available() -> bool:
    return CHROMIUM.exists() and os.access(CHROMIUM, os.X_OK)


def axe_available() -> bool:
    return AXE_JS.is_file()


@functools.cache
def axe_source() -> str:
    return AXE_JS.read_text()


def living_in_group(pgid: int) -> list[str]:
    """Processes of the group that still run (a zombie whose parent never reaps it has ended)."""
    living = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # ended while we looked
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            living.append(stat.parent.name)
    return living


def _wait_group_gone(pgid: int, within: float = 10.0) -> None:
    """Wait until no process of the group is left running."""
    deadline = time.monotonic() + within
    while living_in_group(pgid) and time.monotonic() < deadline:
        time.sleep(0.05)


class Chromium:
    """One headless Chromium process with a fresh profile in a temporary folder, listening for
    DevTools on a free loopback port (it picks the port and writes it to DevToolsActivePort).
    Synchronous, so that a session-scoped fixture can own it whatever event loop a test runs in."""

    def __init__(self, *extra_flags: str, executable: Path = CHROMIUM):
        self.executable = executable
        self.extra_flags = extra_flags
        self.proc: subprocess.Popen[bytes] | None = None
        self.ws_url = ""
        self.startup_seconds = 0.0
        self.profile: Path | None = None
        self._log: IO[bytes] | None = None

    def start(self) -> Chromium:
        if not self.executable.exists():
            raise BrowserError(f"no Chromium at {self.executable}: apt-get install chromium (or `make chromium`)")
        started = time.perf_counter()
        self.profile = profile = Path(tempfile.mkdtemp(prefix="hackbot-chromium-"))
        self._log = open(profile / "chromium.log", "w+b")  # noqa: SIM115 -- closed in stop()
        self.proc = subprocess.Popen(
            [str(self.executable), *FLAGS, *self.extra_flags, "--remote-debugging-port=0",
             f"--user-data-dir={profile}", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so stop() ends the renderers with it
        )
        port_file = profile / "DevToolsActivePort"
        deadline = started + START_TIMEOUT
        while True:
            lines = port_file.read_text().split("\n") if port_file.exists() else []
            if len(lines) >= 2 and lines[0].strip().isdigit() and lines[1].startswith("/devtools/"):
                self.ws_url = f"ws://127.0.0.1:{lines[0].strip()}{lines[1].strip()}"
                break
            if self.proc.poll() is not None or time.perf_counter() > deadline:
                why = f"exited with {self.proc.returncode}" if self.proc.poll() is not None else f"no port in {START_TIMEOUT}s"
                tail = self.log_tail()
                self.stop()
                raise BrowserError(f"Chromium did not start ({why}):\n{tail}")
            time.sleep(0.01)
        self.startup_seconds = time.perf_counter() - started
        return self

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, chars: int = 2000) -> str:
        if self._log is None or self._log.closed:
            return ""
        self._log.flush()
        self._log.seek(0)
        return self._log.read().decode(errors="replace")[-chars:]

    def stop(self) -> None:
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
            # the browser's own exit leaves its helpers (zygote, renderers, crash handler) a moment,
            # in which they still write in the profile: end them all before it is removed
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            _wait_group_gone(self.proc.pid)
            self.proc = None
        if self._log is not None:
            self._log.close()
            self._log = None
        if self.profile is not None:
            for _ in range(10):  # a file written while it was being removed leaves the folder behind
                shutil.rmtree(self.profile, ignore_errors=True)
                if not self.profile.exists():
                    break
                time.sleep(0.1)
            self.profile = None

    def __enter__(self) -> Chromium:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class Connection:
    """One DevTools websocket: calls matched to answers by id, events handed to listeners by
    (session, method). When the socket closes, every pending call fails instead of hanging."""

    def __init__(self, http: aiohttp.ClientSession, ws: aiohttp.ClientWebSocketResponse):
        self._http, self._ws = http, ws
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._listeners: dict[tuple[str | None, str], list[Callable[[dict[str, Any]], None]]] = {}
        self._closed: str | None = None
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def open(cls, ws_url: str) -> Connection:
        http = aiohttp.ClientSession()
        try:
            ws = await http.ws_connect(ws_url, max_msg_size=0, autoping=True)
        except BaseException:
            await http.close()
            raise
        return cls(http, ws)

    async def _read(self) -> None:
        try:
            async for msg in self._ws:
                if msg.type != aiohttp.WSMsgType.TEXT:
                    continue
                data = json.loads(msg.data)
                if "id" in data:
                    fut = self._pending.pop(data["id"], None)
                    if fut is not None and not fut.done():
                        fut.set_result(data)
                else:
                    for listener in list(self._listeners.get((data.get("sessionId"), data["method"]), ())):
                        listener(data.get("params", {}))
        finally:
            self._closed = "Chromium closed the DevTools connection"
            for fut in self._pending.values():
                if not fut.done():
                    fut.set_exception(BrowserError(self._closed))
            self._pending.clear()

    async def send(self, method: str, params: dict[str, Any] | None = None, session: str | None = None) -> dict[str, Any]:
        if self._closed:
            raise BrowserError(f"{method}: {self._closed}")
        call_id = next(self._ids)
        message: dict[str, Any] = {"id": call_id, "method": method, "params": params or {}}
        if session is not None:
            message["sessionId"] = session
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[call_id] = fut
        await self._ws.send_str(json.dumps(message))
        try:
            async with asyncio.timeout(CALL_TIMEOUT):
                answer = await fut
        except TimeoutError:
            self._pending.pop(call_id, None)
            raise TimeoutError(f"Chromium did not answer {method} within {CALL_TIMEOUT}s") from None
        if "error" in answer:
            raise BrowserError(f"{method}: {answer['error'].get('message')} {answer['error'].get('data', '')}".rstrip())
        result: dict[str, Any] = answer.get("result", {})
        return result

    def on(self, method: str, session: str | None, listener: Callable[[dict[str, Any]], None]) -> Callable[[], None]:
        """Call `listener(params)` on each such event; returns the function that stops it."""
        listeners = self._listeners.setdefault((session, method), [])
        listeners.append(listener)

        def stop() -> None:
            if listener in listeners:
                listeners.remove(listener)

        return stop

    def expect(
        self, method: str, session: str | None, match: Callable[[dict[str, Any]], bool] = lambda p: True
    ) -> asyncio.Future[dict[str, Any]]:
        """A future for the next such event; create it BEFORE the call that causes the event."""
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()

        def listener(params: dict[str, Any]) -> None:
            if not fut.done() and match(params):
                fut.set_result(params)

        stop = self.on(method, session, listener)
        fut.add_done_callback(lambda _: stop())
        return fut

    async def close(self) -> None:
        await self._ws.close()
        await self._http.close()
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self._reader


class Browser:
    """A DevTools connection to one Chromium; `new_page` opens a tab in a fresh browser context."""

    def __init__(self, conn: Connection):
        self.conn = conn
        self.pages: list[Page] = []

    async def new_page(
        self,
        width: int = 1280,
        height: int = 800,
        *,
        mobile: bool = False,
        dark: bool = False,
        tz: str | None = None,
        locale: str = "en-US",
        scale: float = 1,
    ) -> Page:
        """A blank tab of `width` x `height` CSS pixels. `mobile` lays the page out as a phone
        does (the viewport meta tag counts, touch events); `dark` emulates prefers-color-scheme:
        dark (light otherwise, whatever the machine prefers); `tz` an IANA zone for the page's
        Date and Intl; `scale` the device pixel ratio (a screenshot is width*scale pixels wide)."""
        context = (await self.conn.send("Target.createBrowserContext", {"disposeOnDetach": True}))["browserContextId"]
        target = (await self.conn.send("Target.createTarget", {"url": "about:blank", "browserContextId": context}))["targetId"]
        session = (await self.conn.send("Target.attachToTarget", {"targetId": target, "flatten": True}))["sessionId"]
        page = Page(self, session, target, context)
        await page._setup(width, height, mobile=mobile, dark=dark, tz=tz, locale=locale, scale=scale)
        self.pages.append(page)
        return page

    async def version(self) -> str:
        return str((await self.conn.send("Browser.getVersion"))["product"])

    async def close(self) -> None:
        for page in list(self.pages):
            with contextlib.suppress(BrowserError, TimeoutError):
                await page.close()
        await self.conn.close()


class Page:
    """One tab. Every wait is bounded and raises TimeoutError naming what it waited for.
    `console` holds the page's console messages and `errors` its uncaught exceptions, as text."""

    def __init__(self, browser: Browser, session: str, target: str, context: str):
        self.browser, self.session, self.target, self.context = browser, session, target, context
        self.conn = browser.conn
        self.console: list[str] = []
        self.errors: list[str] = []

    async def send(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        return await self.conn.send(method, params, session=self.session)

    async def _setup(
        self, width: int, height: int, *, mobile: bool, dark: bool, tz: str | None, locale: str, scale: float
    ) -> None:
        self.conn.on("Runtime.consoleAPICalled", self.session, self._on_console)
        self.conn.on("Runtime.exceptionThrown", self.session, self._on_exception)
        await self.send("Page.enable")
        await self.send("Runtime.enable")
        await self.send("Emulation.setDeviceMetricsOverride",
                        {"width": width, "height": height, "deviceScaleFactor": scale, "mobile": mobile})
        if mobile:
            await self.send("Emulation.setTouchEmulationEnabled", {"enabled": True, "maxTouchPoints": 5})
        await self.send("Emulation.setFocusEmulationEnabled", {"enabled": True})  # focus works in a tab never shown
        await self.emulate(dark=dark)
        await self.send("Emulation.setLocaleOverride", {"locale": locale})
        if tz is not None:
            await self.send("Emulation.setTimezoneOverride", {"timezoneId": tz})

    def _on_console(self, params: dict[str, Any]) -> None:
        text = " ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", []))
        self.console.append(f"{params.get('type')}: {text}")

    def _on_exception(self, params: dict[str, Any]) -> None:
        details = params.get("exceptionDetails", {})
        self.errors.append(details.get("exception", {}).get("description") or details.get("text", "?"))

    async def emulate(self, *, dark: bool) -> None:
        """Switch prefers-color-scheme on the open page (stylesheets re-evaluate at once)."""
        scheme = "dark" if dark else "light"
        await self.send("Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme", "value": scheme}]})

    async def goto(self, url: str, timeout: float = 15.0) -> int:  # noqa: ASYNC109 -- see wait_for
        """Navigate and wait for the load event (scripts, styles and images loaded); returns the
        document's HTTP status (0 for a data: URL). A change of #fragment alone returns at once."""
        loaded = self.conn.expect("Page.loadEventFired", self.session)
        try:
            nav = await self.send("Page.navigate", {"url": url})
            if nav.get("errorText"):
                raise BrowserError(f"could not load {url}: {nav['errorText']}")
            if "loaderId" not in nav:  # same document: no load event comes
                return int(await self.evaluate("performance.getEntriesByType('navigation')[0]?.responseStatus ?? 0"))
            async with asyncio.timeout(timeout):
                await loaded
        except TimeoutError:
            raise TimeoutError(f"{url} did not finish loading within {timeout}s") from None
        finally:
            loaded.cancel()
        return int(await self.evaluate("performance.getEntriesByType('navigation')[0]?.responseStatus ?? 0"))

    async def reload(self, timeout: float = 15.0) -> None:  # noqa: ASYNC109 -- see wait_for
        loaded = self.conn.expect("Page.loadEventFired", self.session)
        try:
            await self.send("Page.reload")
            async with asyncio.timeout(timeout):
                await loaded
        except TimeoutError:
            raise TimeoutError(f"the page did not reload within {timeout}s") from None
        finally:
            loaded.cancel()

    async def evaluate(self, js: str, *args: Any) -> Any:
        """The value of a JavaScript expression (a promise is awaited), as JSON-able Python.
        With `args`, `js` is a function's source, called with them: evaluate("(a, b) => a + b", 1, 2)."""
        expression = f"({js})(...{json.dumps(list(args))})" if args else js
        answer = await self.send("Runtime.evaluate", {
            "expression": expression, "returnByValue": True, "awaitPromise": True, "userGesture": True,
        })
        if "exceptionDetails" in answer:
            details = answer["exceptionDetails"]
            message = details.get("exception", {}).get("description") or details.get("text", "exception")
            raise JavaScriptError(f"{message}\n  in: {js[:300]}")
        return answer["result"].get("value")

    async def wait_for(self, condition: str, timeout: float = 5.0, every: float = 0.05) -> Any:  # noqa: ASYNC109
        """Poll a JavaScript expression until it is truthy; returns its value. The bound is an
        argument (ruff's ASYNC109) because the TimeoutError it raises names the condition and the
        value it last had, which an asyncio.timeout() around the call could not."""
        deadline = time.monotonic() + timeout
        value: Any = None
        while True:
            with contextlib.suppress(JavaScriptError):  # a page between two documents, say
                value = await self.evaluate(condition)
                if value:
                    return value
            if time.monotonic() > deadline:
                raise TimeoutError(f"still false after {timeout}s: {condition} (last value: {value!r})")
            await asyncio.sleep(every)

    async def content(self) -> str:
        """The document as it is now (after scripts), like --dump-dom."""
        return str(await self.evaluate("document.documentElement.outerHTML"))

    async def _center_of(self, selector: str) -> tuple[float, float]:
        """Scroll the element into view and return the viewport point a person would click; fail
        when it is missing, has no size, or something else is drawn on top of it there."""
        where = await self.evaluate("""(selector) => {
            const el = document.querySelector(selector);
            if (!el) return {error: "no element matches"};
            el.scrollIntoView({block: "center", inline: "center", behavior: "instant"});
            const r = el.getBoundingClientRect();
            if (r.width === 0 || r.height === 0) return {error: "the element has no size (hidden?)"};
            const x = r.left + r.width / 2, y = r.top + r.height / 2;
            const top = document.elementFromPoint(x, y);
            if (top && top !== el && !el.contains(top))
                return {error: `covered by <${top.tagName.toLowerCase()} class="${top.className}">`};
            return {x, y};
        }""", selector)
        if "error" in where:
            raise BrowserError(f"cannot click {selector!r}: {where['error']}")
        return where["x"], where["y"]

    async def click(self, selector: str) -> None:
        """A left click at the centre of the first element matching `selector`, as a mouse makes it."""
        x, y = await self._center_of(selector)
        await self.send("Input.dispatchMouseEvent", {"type": "mouseMoved", "x": x, "y": y})
        for kind in ("mousePressed", "mouseReleased"):
            await self.send("Input.dispatchMouseEvent", {"type": kind, "x": x, "y": y, "button": "left", "clickCount": 1})

    async def type(self, selector: str, text: str) -> None:
        """Focus the element (by clicking it) and type `text` key by key (keydown, input, keyup)."""
        await self.click(selector)
        for char in text:
            await self.send("Input.dispatchKeyEvent", {"type": "keyDown", "text": char, "key": char, "unmodifiedText": char})
            await self.send("Input.dispatchKeyEvent", {"type": "keyUp", "key": char})

    async def press(self, key: str) -> None:
        """Press and release a named key: Enter, Tab, Escape, Backspace, Space, Arrow*, PageUp/Down, Home, End."""
        if key not in KEYS:
            raise ValueError(f"unknown key {key!r}; known: {', '.join(KEYS)}")
        code, vk, text = KEYS[key]
        down: dict[str, Any] = {"type": "keyDown", "key": " " if key == "Space" else key, "code": code,
                                "windowsVirtualKeyCode": vk, "nativeVirtualKeyCode": vk}
        if text:
            down["text"] = text
        await self.send("Input.dispatchKeyEvent", down)
        await self.send("Input.dispatchKeyEvent", {**down, "type": "keyUp", "text": ""})

    async def scroll(self, x: float, y: float, selector: str | None = None) -> tuple[float, float]:
        """Scroll the window (or the element `selector`, a scroller) to x, y; returns where it
        ended up (a page shorter than y stops at its bottom)."""
        await self.evaluate("""(selector, x, y) => {
            const el = selector ? document.querySelector(selector) : window;
            if (!el) throw new Error("no element matches " + selector);
            el.scrollTo({left: x, top: y, behavior: "instant"});
        }""", selector, x, y)
        return await self.scroll_position(selector)

    async def wheel(self, dx: float, dy: float, selector: str | None = None) -> None:
        """Turn the mouse wheel by dx, dy pixels over the centre of `selector` (or of the viewport),
        as a person scrolls; the page may still be scrolling when this returns."""
        if selector:
            x, y = await self._center_of(selector)
        else:
            x, y = await self.evaluate("[innerWidth / 2, innerHeight / 2]")
        await self.send("Input.dispatchMouseEvent", {"type": "mouseWheel", "x": x, "y": y, "deltaX": dx, "deltaY": dy})

    async def scroll_position(self, selector: str | None = None) -> tuple[float, float]:
        """(x, y) scroll offsets of the window, or of the element `selector`."""
        x, y = await self.evaluate("""(selector) => {
            if (!selector) return [window.scrollX, window.scrollY];
            const el = document.querySelector(selector);
            if (!el) throw new Error("no element matches " + selector);
            return [el.scrollLeft, el.scrollTop];
        }""", selector)
        return float(x), float(y)

    async def screenshot(self, path: str | Path | None = None, *, full_page: bool = False) -> bytes:
        """PNG of the viewport (or the whole page); written to `path` too when given."""
        params: dict[str, Any] = {"format": "png", "optimizeForSpeed": True}
        if full_page:
            width, height = await self.evaluate(
                "[document.documentElement.scrollWidth, document.documentElement.scrollHeight]")
            params.update(captureBeyondViewport=True, clip={"x": 0, "y": 0, "width": width, "height": height, "scale": 1})
        png = base64.b64decode((await self.send("Page.captureScreenshot", params))["data"])
        if path is not None:
            await asyncio.to_thread(Path(path).write_bytes, png)
        return png

    async def axe(self, tags: list[str] | tuple[str, ...] = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"),
                  context: str | None = None) -> list[dict[str, Any]]:
        """axe-core's violations for the page (or the part `context` selects), run on the page as
        it is now, light or dark: each a dict with id, impact (minor, moderate, serious,
        critical), help, helpUrl and nodes (each with html, target and failureSummary)."""
        if not axe_available():
            raise AxeNotInstalled(f"axe-core is not installed at {AXE_JS}: run `make axe` (it needs npm)")
        if not await self.evaluate("typeof window.axe === 'object'"):
            await self.evaluate(axe_source())
        result = await self.evaluate("""(context, tags) =>
            axe.run(context ? document.querySelector(context) : document,
                    {runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]})
               .then(r => r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
                   tags: v.tags, nodes: v.nodes.map(n => ({html: n.html, target: n.target, impact: n.impact,
                                                           failureSummary: n.failureSummary}))})))""",
            context, list(tags))
        return list(result)

    async def close(self) -> None:
        if self in self.browser.pages:
            self.browser.pages.remove(self)
        await self.conn.send("Target.closeTarget", {"targetId": self.target})
        await self.conn.send("Target.disposeBrowserContext", {"browserContextId": self.context})


class Png:
    """A decoded PNG (8-bit greyscale, RGB or RGBA, not interlaced: what Chromium writes), so a
    test can read the colour a person sees at a point: `Png(await page.screenshot()).pixel(x, y)`."""

    def __init__(self, data: bytes):
        if data[:8] != b"\x89PNG\r\n\x1a\n":
            raise ValueError("not a PNG")
        pos, idat, header = 8, b"", b""
        while pos < len(data):
            (length,) = struct.unpack(">I", data[pos:pos + 4])
            kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
            if kind == b"IHDR":
                header = body
            elif kind == b"IDAT":
                idat += body
            pos += 12 + length
        self.width, self.height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
        channels = {0: 1, 2: 3, 4: 2, 6: 4}.get(colour)
        if depth != 8 or channels is None or interlace:
            raise ValueError(f"unsupported PNG: depth {depth}, colour type {colour}, interlace {interlace}")
        self.channels = channels
        raw, stride = zlib.decompress(idat), self.width * channels
        lines = np.frombuffer(raw, np.uint8).reshape(self.height, stride + 1)
        pixels = np.zeros((self.height, stride), np.int32)
        prev = np.zeros(stride, np.int32)
        for y in range(self.height):  # undo each row's filter (PNG spec, section 9)
            kind, row = lines[y, 0], lines[y, 1:].astype(np.int32)
            if kind == 1:  # Sub: a running sum along the row, per channel
                row = np.cumsum(row.reshape(-1, channels), axis=0).reshape(-1) & 0xFF
            elif kind == 2:  # Up
                row = (row + prev) & 0xFF
            elif kind in (3, 4):  # Average, Paeth: each byte needs the one just decoded
                out = row.tolist()
                up = prev.tolist()
                for i in range(stride):
                    a = out[i - channels] if i >= channels else 0
                    b, c = up[i], up[i - channels] if i >= channels else 0
                    if kind == 3:
                        out[i] = (out[i] + (a + b) // 2) & 0xFF
                    else:
                        p = a + b - c
                        pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                        out[i] = (out[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
                row = np.array(out, np.int32)
            pixels[y] = prev = row
        self.pixels = pixels.astype(np.uint8).reshape(self.height, self.width, channels)

    def pixel(self, x: int, y: int) -> tuple[int, int, int]:
        """(red, green, blue) at x, y (image pixels: CSS pixels times the page's scale)."""
        px = self.pixels[y, x]
        return (int(px[0]),) * 3 if self.channels <= 2 else (int(px[0]), int(px[1]), int(px[2]))


def describe(violations: list[dict[str, Any]]) -> str:
    """axe violations as lines a person can act on (for assertion messages)."""
    lines = []
    for v in violations:
        lines.append(f"[{v['impact']}] {v['id']}: {v['help']} ({v['helpUrl']})")
        for node in v["nodes"][:5]:
            lines.append(f"    {' '.join(map(str, node['target']))}: {node['html'][:160]}")
            if node.get("failureSummary"):
                lines.append("      " + node["failureSummary"].replace("\n", "\n      ")[:400])
    return "\n".join(lines)


@contextlib.asynccontextmanager
async def connect(ws_url: str) -> AsyncIterator[Browser]:
    """A Browser over a DevTools websocket (a running Chromium's `ws_url`); closes its pages after."""
    b = Browser(await Connection.open(ws_url))
    try:
        yield b
    finally:
        await b.close()


@contextlib.asynccontextmanager
async def browser(*extra_flags: str) -> AsyncIterator[Browser]:
    """Start a Chromium of its own (fresh profile), connect, and stop it after: for scripts and
    benchmarks. Tests use the suite's shared Chromium (the `browser` fixture)."""
    proc = Chromium(*extra_flags)
    await asyncio.to_thread(proc.start)
    try:
        async with connect(proc.ws_url) as b:
            yield b
    finally:
        await asyncio.to_thread(proc.stop)
