"""When a request reached the double: the kernel's receive time, not the time its handler ran.

Discord counts a request against its rate limits when it arrives. The double's handlers run on
an event loop it shares with the test or the rehearsal driving it (10,000 simulated people in
`hackbot rehearse`), and that loop stalls: a full garbage collection of the driver's heap took
0.23 s in a 2,500-team rehearsal. The requests the bot sent during a stall, paced 22 ms apart,
were then handled in one bunch; counted at handling time, the 1-second window ending just after
the stall held the requests of 1.23 s, and the double answered 429 (global) to a bot that kept
to 45 a second.

So the double's connections ask the kernel to stamp what they receive (SO_TIMESTAMPNS, Linux;
socket(7)): the time a packet arrived at the socket, whatever the loop was doing then. Each
read keeps the stamp of the last packet it returned; a request is stamped with its connection's
latest read before its handler runs, that is, the read that completed its headers (the bot
sends one request a connection at a time and waits for the answer). Where the kernel gives no
stamp, the read's own time stands in: still earlier than the handler's.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import time
from typing import Any

SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)  # Linux's value: the socket module of Python 3.11 does not name it
_STAMP = struct.Struct("qq")  # struct timespec: seconds, nanoseconds (CLOCK_REALTIME)
_ANCILLARY = socket.CMSG_SPACE(_STAMP.size)


class StampedSocket(socket.socket):
    """An accepted connection whose reads note when their bytes arrived (`arrived`, on the
    monotonic clock the rate limiter uses)."""

    arrived: float | None = None

    def enable(self) -> None:
        with contextlib.suppress(OSError):  # no kernel stamps here: the reads' own times are used
            self.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)

    def _note(self, ancillary: list[tuple[int, int, bytes]]) -> None:
        now = time.monotonic()
        self.arrived = now
        for level, kind, data in ancillary:
            if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(data) >= _STAMP.size:
                seconds, nanoseconds = _STAMP.unpack_from(data)
                # the same instant on the monotonic clock (never after the read itself)
                self.arrived = min(now, now - (time.time() - (seconds + nanoseconds / 1e9)))

    def recv(self, bufsize: int, flags: int = 0) -> bytes:
        data, ancillary, _flags, _address = self.recvmsg(bufsize, _ANCILLARY, flags)
        if data:
            self._note(ancillary)
        return data

    def recv_into(self, buffer: Any, nbytes: int = 0, flags: int = 0) -> int:
        view = memoryview(buffer)
        count, ancillary, _flags, _address = self.recvmsg_into([view[:nbytes] if nbytes else view], _ANCILLARY, flags)
        if count:
            self._note(ancillary)
        return count


class StampingListener(socket.socket):
    """A listening TCP socket whose accepted connections are `StampedSocket`s, kept by file
    descriptor so that a request's handler can find its connection's stamp (`arrived`)."""

    def __init__(self, host: str, port: int) -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        super().__init__(family, socket.SOCK_STREAM)
        self.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.bind((host, port))
        self.setblocking(False)
        self.connections: dict[int, StampedSocket] = {}

    def accept(self) -> tuple[socket.socket, Any]:
        fd, address = self._accept()  # type: ignore[attr-defined]
        connection = StampedSocket(self.family, self.type, self.proto, fileno=fd)
        connection.enable()
        self.connections[fd] = connection  # a descriptor used again is a new connection: replaced
        return connection, address

    def arrived(self, transport: Any) -> float | None:
        """The arrival time of the request being read on `transport`, or None if unknown."""
        sock = transport.get_extra_info("socket") if transport is not None else None
        if sock is None:
            return None
        connection = self.connections.get(sock.fileno())
        return connection.arrived if connection is not None else None
