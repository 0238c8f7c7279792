"""libical (Debian's libical3, the C library Evolution and many calendar servers read iCalendar
with), called through ctypes: its parser and its iTIP restriction check (RFC 5546), which is
where `METHOD:PUBLISH` without an ORGANIZER fails."""

from __future__ import annotations

import ctypes
import ctypes.util
import os

import pytest


def load() -> ctypes.CDLL:
    """libical, or a skip that says how to install it (a failure under CI=true)."""
    name = ctypes.util.find_library("ical") or "libical.so.3"
    try:
        lib = ctypes.CDLL(name)
    except OSError:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true and no libical (apt-get install libical3; `make test` installs it)")
        pytest.skip("libical is not installed (apt-get install libical3; `make test` installs it when it may)")
    lib.icalparser_parse_string.restype = ctypes.c_void_p
    lib.icalparser_parse_string.argtypes = [ctypes.c_char_p]
    lib.icalrestriction_check.argtypes = [ctypes.c_void_p]
    lib.icalcomponent_as_ical_string.restype = ctypes.c_char_p  # libical's own buffer: not freed here
    lib.icalcomponent_as_ical_string.argtypes = [ctypes.c_void_p]
    lib.icalcomponent_free.argtypes = [ctypes.c_void_p]
    return lib


def problems(lib: ctypes.CDLL, ics: bytes) -> list[str]:
    """What libical finds wrong with a calendar: the X-LIC-ERROR lines its parser and its
    restriction check add (empty when it passes both)."""
    comp = lib.icalparser_parse_string(ics)
    if not comp:
        return ["libical could not parse the calendar at all"]
    try:
        passed = lib.icalrestriction_check(comp)
        text = lib.icalcomponent_as_ical_string(comp).decode()
    finally:
        lib.icalcomponent_free(comp)
    unfolded = text.replace("\r\n ", "").replace("\n ", "")
    found = [line for line in unfolded.splitlines() if line.startswith("X-LIC-ERROR")]
    if not passed and not found:
        found.append("icalrestriction_check failed")
    return found
