"""Faults a test injects on a named route: the errors and delays of a bad day on Discord.

    sandbox.faults.forbid("POST /channels/{channel}/messages")          # 403 50013, once
    sandbox.faults.dms_closed()                                        # 403 50007 on the next DM
    sandbox.faults.rate_limit("POST /guilds/{guild}/roles", 0.5)       # a 429 with retry_after
    sandbox.faults.server_error("PUT /guilds/{guild}/members/{user}/roles/{role}", status=502)
    sandbox.faults.slow("POST /channels/{channel}/messages", 3.5)      # every time, until cleared

A route is named as the double names it: the method, then the path after /api/v10 with its
parameters in braces. `where` narrows a fault to paths containing that text (an id). What a
fault refuses is recorded as an injected refusal: the e2e fixtures leave those to the test.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Fault:
    route: str
    status: int = 0  # 0: only a delay
    code: int = 0
    message: str = ""
    delay: float = 0.0
    retry_after: float = 0.0
    global_: bool = False
    times: int | None = 1  # None: every time
    where: str | None = None

    def matches(self, route: str, path: str) -> bool:
        return self.route in (route, "*") and (self.where is None or self.where in path)


class Faults:
    def __init__(self) -> None:
        self.pending: list[Fault] = []

    def add(self, fault: Fault) -> Fault:
        self.pending.append(fault)
        return fault

    def clear(self) -> None:
        self.pending.clear()

    def take(self, route: str, path: str) -> Fault | None:
        for fault in self.pending:
            if fault.matches(route, path):
                if fault.times is not None:
                    fault.times -= 1
                    if fault.times <= 0:
                        self.pending.remove(fault)
                return fault
        return None

    # --- the usual ones --------------------------------------------------------------------------
    def refuse(self, route: str, status: int, code: int, message: str, *, times: int | None = 1,
               where: str | None = None) -> Fault:
        return self.add(Fault(route, status, code, message, times=times, where=where))

    def forbid(self, route: str, *, times: int | None = 1, where: str | None = None) -> Fault:
        return self.refuse(route, 403, 50013, "Missing Permissions", times=times, where=where)

    def dms_closed(self, *, times: int | None = 1, where: str | None = None) -> Fault:
        return self.refuse("POST /channels/{channel}/messages", 403, 50007, "Cannot send messages to this user",
                           times=times, where=where)

    def rate_limit(self, route: str, retry_after: float, *, global_: bool = False, times: int | None = 1,
                   where: str | None = None) -> Fault:
        return self.add(Fault(route, 429, 0, "You are being rate limited.", retry_after=retry_after,
                              global_=global_, times=times, where=where))

    def server_error(self, route: str, *, status: int = 502, times: int | None = 1, where: str | None = None) -> Fault:
        return self.refuse(route, status, 0, "Bad Gateway" if status == 502 else "Internal Server Error",
                           times=times, where=where)

    def slow(self, route: str, seconds: float, *, times: int | None = None, where: str | None = None) -> Fault:
        return self.add(Fault(route, delay=seconds, times=times, where=where))
