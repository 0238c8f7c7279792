"""The double's gateway: HELLO, IDENTIFY, READY, heartbeats, dispatches, RESUME and INVALID_SESSION.

From discord/discord-api-docs `developers/events/gateway.mdx` and `gateway-events.mdx`: a
session outlives its connection; on RESUME (op 6 with session_id and seq) "the Gateway will
send the missed events in order, finishing with a Resumed event" (gateway.mdx:265), "in the
same way it would have had the connection had stayed active" (:246), so the sequence numbers
continue. A RESUME for a session the gateway does not know is answered {"op": 9, "d": false}
(gateway-events.mdx:509-512): identify again. Closing with 1000/1001 ends the session; other
close codes keep it resumable (gateway.mdx:240-242).

Events dispatched while a session has no connection are kept (the last REPLAY_LIMIT) for its
RESUME. A test closes the connection with `Gateway.close(code)`, keeps the bot from coming back
by clearing `open`, and counts RESUMEs in `resumed` and the events sent again in `replayed`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import zlib
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import WSMsgType, web

log = logging.getLogger(__name__)

HEARTBEAT_MS = 41250
REPLAY_LIMIT = 5000


class Session:
    """A gateway session: its sequence and what was dispatched, across connections."""

    def __init__(self) -> None:
        self.id = secrets.token_hex(16)
        self.sequence = 0
        self.log: deque[tuple[int, str, dict]] = deque(maxlen=REPLAY_LIMIT)
        self.connection: Connection | None = None
        self.ended = False


class Connection:
    def __init__(self, ws: web.WebSocketResponse, compress: bool):
        self.ws = ws
        self._zlib = zlib.compressobj() if compress else None
        self._lock = asyncio.Lock()
        self.session: Session | None = None
        self.closed_by_server = False

    async def send(self, payload: dict[str, Any]) -> None:
        data = json.dumps(payload)
        async with self._lock:
            if self.ws.closed:
                return
            if self._zlib is None:
                await self.ws.send_str(data)
            else:  # zlib-stream: one shared context, each message ends with a sync flush
                await self.ws.send_bytes(self._zlib.compress(data.encode()) + self._zlib.flush(zlib.Z_SYNC_FLUSH))


class Gateway:
    def __init__(self, token: str, ready: Callable[[Session], Awaitable[list[tuple[str, dict]]]]):
        self.token = token
        self.ready_events = ready  # what READY and GUILD_CREATE carry, built by the server
        self.sessions: dict[str, Session] = {}
        self.connections: list[Connection] = []
        self.identified = 0  # IDENTIFYs seen: a restarted bot identifies again
        self.resumed = 0
        self.invalid_sessions = 0
        self.replayed = 0  # events sent again on RESUME
        self._closing: set[asyncio.Task] = set()
        self.open = asyncio.Event()  # cleared: IDENTIFY and RESUME wait (a test keeps the bot away)
        self.open.set()

    @property
    def ready(self) -> bool:
        return any(s.connection is not None and not s.ended for s in self.sessions.values())

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        """An event to every live session; a session without a connection keeps it for its RESUME."""
        for session in list(self.sessions.values()):
            if session.ended:
                continue
            await self._send(session, event, data)

    async def _send(self, session: Session, event: str, data: dict[str, Any]) -> None:
        session.sequence += 1
        session.log.append((session.sequence, event, data))
        if session.connection is not None:
            try:
                await session.connection.send({"op": 0, "t": event, "s": session.sequence, "d": data})
            except ConnectionError:
                session.connection = None

    async def close(self, code: int = 4000) -> None:
        """Close every connection as Discord does on trouble: with a resumable code by default.
        The closing handshake finishes in the background."""
        for connection in list(self.connections):
            self._close(connection, code)
        await asyncio.sleep(0)

    def _close(self, connection: Connection, code: int) -> None:
        connection.closed_by_server = True
        task = asyncio.create_task(connection.ws.close(code=code, message=b"closed"))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def stop(self) -> None:
        for connection in list(self.connections):
            await connection.ws.close()

    async def serve(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        connection = Connection(ws, compress=request.query.get("compress") == "zlib-stream")
        self.connections.append(connection)
        try:
            await connection.send({"op": 10, "d": {"heartbeat_interval": HEARTBEAT_MS}, "s": None, "t": None})
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    if msg.type in (WSMsgType.ERROR, WSMsgType.CLOSE):
                        break
                    continue
                frame = json.loads(msg.data)
                op, data = frame.get("op"), frame.get("d") or {}
                if op in (2, 6):
                    await self.open.wait()
                if op == 1:  # heartbeat
                    await connection.send({"op": 11})
                elif op == 2:  # identify
                    if str(data.get("token", "")).removeprefix("Bot ") != self.token:
                        await ws.close(code=4004, message=b"Authentication failed.")
                        break
                    self.identified += 1
                    session = Session()
                    self.sessions[session.id] = session
                    await self._attach(connection, session)
                    for event, payload in await self.ready_events(session):
                        await self._send(session, event, payload)
                elif op == 6:  # resume
                    await self._resume(connection, data)
        finally:
            self.connections.remove(connection)
            held = connection.session
            if held is not None and held.connection is connection:
                held.connection = None
                # 1000/1001 from the client end the session (gateway.mdx:240); other closes keep it
                if ws.close_code in (1000, 1001) and not connection.closed_by_server:
                    held.ended = True
        return ws

    async def _attach(self, connection: Connection, session: Session) -> None:
        if session.connection is not None and session.connection is not connection:
            self._close(session.connection, 4000)  # a session has one connection: the newest
        session.connection, connection.session = connection, session

    async def _resume(self, connection: Connection, data: dict[str, Any]) -> None:
        session = self.sessions.get(str(data.get("session_id")))
        if session is None or session.ended or str(data.get("token", "")).removeprefix("Bot ") != self.token:
            self.invalid_sessions += 1
            await connection.send({"op": 9, "d": False, "s": None, "t": None})
            return
        self.resumed += 1
        await self._attach(connection, session)
        after = int(data.get("seq") or 0)
        for seq, event, payload in list(session.log):
            if seq > after:
                self.replayed += 1
                await connection.send({"op": 0, "t": event, "s": seq, "d": payload})
        await self._send(session, "RESUMED", {})
