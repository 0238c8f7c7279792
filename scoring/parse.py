"""Strict, fast parsing of a participant's label file.

Format: one integer label per line, no header, no index column.

Tolerated (each is something real editors and tools produce):
  * a UTF-8 byte-order mark at the start of the file (Excel / Notepad);
  * LF or CRLF line endings, mixed within one file;
  * one optional final newline;
  * spaces, tabs and carriage returns around a label: each line is
    ``line.strip(b" \\t\\r")``, so ``" 5 "`` is 5, but ``"1 0"`` is two columns;
  * leading zeros (``"05"`` is 5).

Refused, always with the 1-based line number and what to change: a header,
floats, a second column, blank lines (including a second trailing newline),
``+5``, labels longer than 18 digits (int64 safety), labels outside the
dataset's allowed set, NUL bytes, bytes that are not UTF-8, and a wrong
number of rows.

Design: ``_reference_parse`` is the specification, a plain per-line loop that
reports the *first* problem.  ``parse_labels`` runs a vectorized numpy pass
over the raw bytes and calls the reference only when that pass has found that
something is wrong, so the wording of errors and the accept/refuse decision
come from one place.  Tests check the two agree on arbitrary bytes.
"""

from __future__ import annotations

import re

import numpy as np

__all__ = ["LabelFileError", "ascii_int", "parse_labels"]

BOM = b"\xef\xbb\xbf"
MAX_DIGITS = 18  # 10**18 - 1 < 2**63 - 1: any 18-digit label fits in int64
_STRIP = b" \t\r"
_FORMAT = "the file must have no header: one integer label per line"

_INT = re.compile(rb"-?[0-9]+")
_ASCII_INT = re.compile(rb"-?[0-9]{1,%d}" % MAX_DIGITS)
_FLOAT = re.compile(rb"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_SEPARATORS = {b",": "commas", b";": "semicolons", b"\t": "tabs", b" ": "spaces", b"|": "'|'"}
# Strip spaces/tabs/CRs at both ends of every line without changing the line
# count; used only when such bytes sit somewhere other than a CRLF ending.
_EDGE_WS = re.compile(rb"[ \t\r]+(?=\n|\Z)|(?:(?<=\n)|\A)[ \t\r]+")


def ascii_int(token: bytes | str) -> int | None:
    """The integer `token` spells with ASCII digits only (an optional leading '-', 1 to 18 digits),
    else None. The one rule for a label in a file and for an id in an HTTP form field: Python's
    int() alone would also read "٠" (an Arabic-Indic zero), "0_0", " 0" and "+0"."""
    if isinstance(token, str):
        if not token.isascii():
            return None
        token = token.encode("ascii")
    return int(token) if _ASCII_INT.fullmatch(token) else None


class LabelFileError(ValueError):
    """A label file the participant must fix; ``str(err)`` says how."""

    def __init__(self, line: int | None, message: str):
        self.line = line
        self.message = message
        super().__init__(f"line {line}: {message}" if line is not None else message)

    def __reduce__(self):  # picklable, e.g. when parsing runs in a process pool
        return type(self), (self.line, self.message)


def parse_labels(data: bytes, n: int, allowed) -> np.ndarray:
    """Parse ``n`` integer labels, each in ``allowed``; int64 array of shape (n,).

    ``allowed``: the dataset's label values (any ints; sorted or not).
    Raises LabelFileError naming the first offending line.
    """
    allowed = np.unique(np.asarray(allowed, dtype=np.int64))
    body = _body(data)
    if not body.strip(_STRIP + b"\n"):
        raise _empty(n)
    values = _fast_parse(body)
    if values is None:
        # A line is not a plain label (or is unusual): let the reference find
        # and word the first problem.
        return _reference_parse(data, n, allowed)
    if len(values) == n and _all_allowed(values, allowed):
        return values
    # Every line is a well-formed integer, so the first problem is a label
    # outside the set or the row count: locate it without a per-line scan,
    # checking in the reference's order (a bad label on line n + 1 wins).
    bad = int(np.argmin(np.isin(values, allowed))) if not _all_allowed(values, allowed) else None
    if bad is not None and bad <= n:
        raise _not_allowed(bad + 1, int(values[bad]), allowed)
    raise _too_many(n, len(values)) if len(values) > n else _too_few(n, len(values))


def _body(data: bytes) -> bytes:
    """Drop the BOM and the single optional final newline."""
    data = bytes(data)
    if data.startswith(BOM):
        data = data[len(BOM):]
    return data[:-1] if data.endswith(b"\n") else data


def _empty(n: int) -> LabelFileError:
    return LabelFileError(None, f"the file is empty; expected {n} labels, one integer per line")


# -- vectorized path -----------------------------------------------------------

def _fast_parse(body: bytes) -> np.ndarray | None:
    """Values of a well-formed body, or None if any line is not ``-?\\d{1,18}``
    (after stripping spaces, tabs and CRs at both ends)."""
    buf = np.frombuffer(body, dtype=np.uint8)
    # Classify bytes by counting each class (one cheap vectorized comparison
    # each) rather than a 256-entry table lookup per byte, which is slower.
    n_nondigit = np.count_nonzero((buf - np.uint8(48)) > 9)
    n_nl = int(np.count_nonzero(buf == 10))
    n_cr = int(np.count_nonzero(buf == 13))
    n_minus = np.count_nonzero(buf == 45)
    n_ws = n_nondigit - n_nl - n_cr - n_minus
    if n_ws:
        if n_ws != np.count_nonzero(buf == 32) + np.count_nonzero(buf == 9):
            return None  # letters, dots, commas, non-ASCII...: an error
        return _fast_parse_stripped(body)
    n_lines = n_nl + 1
    if not n_minus:
        values = _fixed_width(buf, body.find(b"\n") if n_nl else len(buf), n_lines, n_cr)
        if values is not None:
            return values

    # Variable width: check the line structure with shifted byte comparisons,
    # then let numpy's C text parser compute the values (every line is then
    # known to be one plain integer, optionally followed by a CR).
    is_nl = buf == 10
    if is_nl[0] or is_nl[-1] or np.any(is_nl[1:] & is_nl[:-1]):
        return None  # a blank line
    if n_cr:
        is_cr = buf == 13
        if np.count_nonzero(is_cr[:-1] & is_nl[1:]) + is_cr[-1] != n_cr:
            return _fast_parse_stripped(body)  # a CR that does not end a line
        if is_cr[0] or np.any(is_nl[:-1] & is_cr[1:]):
            return None  # a line that is just a CR: blank
    if n_minus:
        is_minus = buf == 45
        if (is_minus[-1] or np.count_nonzero(is_nl[:-1] & is_minus[1:]) + is_minus[0] != n_minus
                or np.any(is_minus[:-1] & ((buf[1:] - np.uint8(48)) > 9))):
            return None  # a '-' that is not the sign of a label
    if not _all_lines_short(is_nl):
        lengths = np.diff(np.flatnonzero(is_nl), prepend=-1, append=len(buf)) - 1
        if lengths.max() > MAX_DIGITS and _max_digits(body) > MAX_DIGITS:
            return None
    try:
        values = np.fromstring(body, dtype=np.int64, sep="\n")
    except ValueError:  # cannot happen after the checks above; never leak it
        return None
    return values if len(values) == n_lines else None


def _all_lines_short(is_nl: np.ndarray) -> bool:
    """Cheap sufficient test that no line exceeds 14 bytes (so no label can
    exceed 18 digits): every aligned 8-byte block holds a newline.  Checked as
    one uint64 word per block instead of computing every line's length."""
    blocks = np.concatenate((is_nl, np.ones(-len(is_nl) % 8, dtype=bool)))
    return bool(np.all(blocks.view(np.uint64)))


def _max_digits(body: bytes) -> int:
    """Longest run of digits (only needed when some line is long)."""
    return max(map(len, re.findall(rb"[0-9]+", body)))


def _fixed_width(buf: np.ndarray, line_len: int, n_lines: int, n_cr: int) -> np.ndarray | None:
    """Fast path when every line has the same length (e.g. single-digit labels):
    view the bytes as a (lines x line_len) matrix and do Horner's rule over its
    columns.  None if the lines are not all that long."""
    if (line_len + 1) * n_lines != len(buf) + 1:
        return None
    # The n_lines - 1 sampled positions hold all n_lines - 1 newlines, so there
    # is no newline anywhere else.
    if not np.all(buf[line_len::line_len + 1] == 10):
        return None
    rows = np.lib.stride_tricks.as_strided(buf, shape=(n_lines, line_len),
                                           strides=(line_len + 1, 1), writeable=False)
    width = line_len
    if n_cr:
        if n_cr != n_lines or not np.all(rows[:, -1] == 13):
            return None
        width -= 1
    if not 1 <= width <= MAX_DIGITS:
        return None
    # Every byte left is a digit: the caller's counts account for all others.
    values = rows[:, 0].astype(np.int64) - 48
    for j in range(1, width):
        values *= 10
        values += rows[:, j] - 48
    return values


def _fast_parse_stripped(body: bytes) -> np.ndarray | None:
    """Whitespace around labels: drop it with one C-speed regex pass (the
    line count is unchanged), then parse again; None if that did not help."""
    stripped = _EDGE_WS.sub(b"", body)
    return None if stripped == body else _fast_parse(stripped)


def _all_allowed(values: np.ndarray, allowed: np.ndarray) -> bool:
    if len(values) == 0 or len(allowed) == 0:
        return len(values) == 0
    lo, hi = values.min(), values.max()
    if lo < allowed[0] or hi > allowed[-1]:
        return False
    if int(allowed[-1]) - int(allowed[0]) + 1 == len(allowed):  # a range, e.g. 0..9
        return True
    idx = np.searchsorted(allowed, values)
    return bool(np.all(allowed[np.minimum(idx, len(allowed) - 1)] == values))


# -- reference path: the specification, also used to word errors ---------------

def _reference_parse(data: bytes, n: int, allowed) -> np.ndarray:
    """Per-line parse; raises LabelFileError for the first problem."""
    allowed = np.unique(np.asarray(allowed, dtype=np.int64))
    allowed_set = set(allowed.tolist())
    body = _body(data)
    if not body.strip(_STRIP + b"\n"):
        raise _empty(n)
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise LabelFileError(1, "the file is UTF-16 encoded (e.g. written by PowerShell); "
                                "save it as UTF-8 / plain text; " + _FORMAT)
    lines = body.split(b"\n")
    values = []
    for i, raw in enumerate(lines, start=1):
        line = raw.strip(_STRIP)
        problem = _line_problem(line, i)
        if problem is not None:
            raise LabelFileError(i, problem)
        value = int(line)
        if value not in allowed_set:
            raise _not_allowed(i, value, allowed)
        if i > n:
            raise _too_many(n, len(lines))
        values.append(value)
    if len(values) < n:
        raise _too_few(n, len(values))
    return np.array(values, dtype=np.int64)


def _not_allowed(line: int, value: int, allowed: np.ndarray) -> LabelFileError:
    return LabelFileError(line, f"label {value} is not an allowed label for this dataset; "
                                f"allowed labels are {_describe(allowed)}")


def _too_many(n: int, got: int) -> LabelFileError:
    return LabelFileError(n + 1, f"too many rows: expected {n} labels, got {got}; line {n + 1} "
                                 f"is the first extra line (no header, no trailing summary)")


def _too_few(n: int, got: int) -> LabelFileError:
    return LabelFileError(None, f"too few rows: expected {n} labels, one per line, got {got}")


def _line_problem(line: bytes, i: int) -> str | None:
    """Why a stripped line is not a label (None if it is one)."""
    if ascii_int(line) is not None:
        return None
    if _INT.fullmatch(line):
        return (f"{_show(line)} has {len(line.lstrip(b'-'))} digits, too long to be a label "
                f"(at most {MAX_DIGITS}); write one class label per line")
    if not line:
        return "the line is blank; remove blank lines; " + _FORMAT
    if b"\0" in line:
        return ("the line contains NUL bytes, so this is a binary file (e.g. .npy or "
                "Excel); save it as plain text; " + _FORMAT)
    try:
        line.decode("utf-8")
    except UnicodeDecodeError:
        return ("the line is not valid UTF-8 text; save the file as UTF-8 / plain text; "
                + _FORMAT)
    if b"\r" in line:
        return ("the line contains a carriage return (\\r) inside it; save the file "
                "with LF or CRLF line endings (old Mac CR-only endings are not supported)")
    columns = _columns(line)
    if columns is not None:
        sep, fields = columns
        if i == 1 and not all(_FLOAT.fullmatch(f) for f in fields):
            return (f"{_show(line)} looks like a header with {len(fields)} columns; remove "
                    f"the header line and keep one column only, no index column; {_FORMAT}")
        return (f"{_show(line)} has {len(fields)} columns separated by {_SEPARATORS[sep]}; "
                f"write one column only, no index column; {_FORMAT}")
    if line.startswith(b"+") and _INT.fullmatch(line[1:]):
        return f"{_show(line)} has a '+' sign; write {_show(line[1:])}"
    if _FLOAT.fullmatch(line):
        f = float(line)
        if f.is_integer() and abs(f) < 10 ** MAX_DIGITS:
            return f"{_show(line)} is a float; labels are integers, write {int(f)}"
        return f"{_show(line)} is not an integer; labels are integers; " + _FORMAT
    if i == 1:
        return (f"{_show(line)} is not an integer label, it looks like a header; "
                f"remove the header line; {_FORMAT}")
    return f"{_show(line)} is not an integer label; {_FORMAT}"


def _columns(line: bytes) -> tuple[bytes, list[bytes]] | None:
    for sep in _SEPARATORS:
        fields = [f for f in (f.strip(_STRIP) for f in line.split(sep)) if f]
        if len(fields) >= 2:
            return sep, fields
    return None


def _show(b: bytes, limit: int = 40) -> str:
    s = b.decode("utf-8", "replace")
    return '"' + (s if len(s) <= limit else s[:limit] + "...") + '"'


def _describe(allowed: np.ndarray) -> str:
    if len(allowed) == 0:
        return "none (the dataset has no allowed labels)"
    if len(allowed) > 10 and int(allowed[-1]) - int(allowed[0]) + 1 == len(allowed):
        return f"the integers {allowed[0]} to {allowed[-1]}"
    shown = ", ".join(map(str, allowed[:10].tolist()))
    return "{" + shown + (", ..." if len(allowed) > 10 else "") + "}"
