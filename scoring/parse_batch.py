"""Parse many label files of one dataset at once, deciding each exactly as ``parse_labels``.

Re-scoring reads back every stored file of a dataset.  Most files have fixed-width lines
("0\\n1\\n..." or "4\\r\\n5\\r\\n..."): those are laid side by side in one buffer, viewed as a
(files x rows x line) byte array, and checked and converted for all of them with a few numpy
operations.  A file that does not fit that layout, or fails any check, goes to
``parse_labels`` itself, which accepts it (variable widths, spaces, mixed line endings...)
or words its error.  So the accept/refuse decision, the values and the error of every file
are those of the live parser; the tests check it on arbitrary bytes.

A fixed-layout file, after an optional BOM: n lines that are all the same bytes but for
``w`` digits (1 <= w <= 18), e.g. "5\n", "05\r\n" or " 5 \r\n": the same spaces, tabs and
carriage returns before and after the digits on every line (``parse_labels`` strips
them), then LF; the last line's LF optional.  Files of labels of different widths ("5",
"12") are parsed one by one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from scoring.parse import BOM, MAX_DIGITS, LabelFileError, parse_labels

__all__ = ["Parsed", "label_dtype", "parse_many"]

# Bytes of files checked per numpy pass, so that the passes find them in the core's cache
# (measured on 1,000 x 10,000-row files: 1 MB chunks run 1.6x faster than 4 MB ones).
_CHUNK_BYTES = 1 << 20


@dataclass(frozen=True)
class Parsed:
    """``values[i]`` is file i's labels when ``ok[i]`` (rows of refused files are 0);
    ``errors[i]`` is why file i was refused."""

    values: np.ndarray  # (files, n), in label_dtype(allowed)
    ok: np.ndarray  # (files,) bool
    errors: dict[int, LabelFileError]


def label_dtype(allowed) -> np.dtype:
    """The narrowest integer dtype that holds every allowed label (comparisons and memory
    scale with it: uint8 for digit labels)."""
    allowed = np.asarray(allowed, dtype=np.int64)
    if allowed.size == 0:
        return np.dtype(np.uint8)
    for dtype in (np.uint8, np.uint16, np.int16, np.int32):
        info = np.iinfo(dtype)
        if info.min <= allowed.min() and allowed.max() <= info.max:
            return np.dtype(dtype)
    return np.dtype(np.int64)


def parse_many(files: Sequence[bytes], n: int, allowed, *, chunk_bytes: int = _CHUNK_BYTES) -> Parsed:
    """Parse every file as ``parse_labels(file, n, allowed)`` would, many at a time."""
    allowed = np.unique(np.asarray(allowed, dtype=np.int64))
    dtype = label_dtype(allowed)
    values = np.zeros((len(files), n), dtype=dtype)
    ok = np.zeros(len(files), dtype=bool)
    errors: dict[int, LabelFileError] = {}

    layouts: dict[tuple[bytes, int, bytes], list[tuple[int, list[bytes | memoryview]]]] = {}
    slow: list[int] = []
    for i, data in enumerate(files):
        found = _layout(data, n) if n > 0 and allowed.size else None
        if found is None:
            slow.append(i)
        else:
            before, width, after, parts = found
            layouts.setdefault((before, width, after), []).append((i, parts))

    for (before, width, after), members in layouts.items():
        line = len(before) + width + len(after) + 1
        step = max(1, chunk_bytes // (n * line))
        for start in range(0, len(members), step):
            chunk = members[start:start + step]
            rows = [i for i, _ in chunk]
            buf = np.frombuffer(b"".join(p for _, parts in chunk for p in parts), dtype=np.uint8)
            in_order = rows[-1] - rows[0] + 1 == len(rows)  # the usual case: write in place
            out = values[rows[0]:rows[-1] + 1] if in_order else np.empty((len(rows), n), dtype=dtype)
            fine = _check_fixed(buf.reshape(len(chunk), n, line), before, width, after, allowed, out)
            if not in_order:
                values[rows] = out
            ok[rows] = fine
            slow += [i for i, good in zip(rows, fine.tolist(), strict=True) if not good]

    for i in sorted(slow):
        try:
            values[i] = parse_labels(files[i], n, allowed)  # in the set, so lossless in dtype
            ok[i] = True
        except LabelFileError as exc:
            values[i] = 0
            errors[i] = exc
    return Parsed(values, ok, errors)


_WS = b" \t\r"


def _layout(data: bytes, n: int) -> tuple[bytes, int, bytes, list[bytes | memoryview]] | None:
    """(bytes before the digits, width, bytes after them, the pieces that make the file
    exactly n lines long) if the file's size and first line fit a fixed layout; the other
    lines are checked later, all files of a layout at once."""
    start = len(BOM) if data.startswith(BOM) else 0
    first_nl = data.find(b"\n", start, start + 64)
    if first_nl < 0:
        if n != 1 or len(data) - start > 64:
            return None
        first_nl = len(data)  # a single line without an ending
    first = data[start:first_nl]
    digits = first.strip(_WS)
    if not (digits.isdigit() and 1 <= len(digits) <= MAX_DIGITS):
        return None
    before = first[:len(first) - len(first.lstrip(_WS))]
    after = first[len(before) + len(digits):]
    line = len(first) + 1
    size = len(data) - start
    body = memoryview(data)[start:] if start else data
    if size == n * line and data.endswith(b"\n"):
        return before, len(digits), after, [body]
    if size == n * line - 1:  # the last line's ending left out
        return before, len(digits), after, [body, b"\n"]
    return None


def _check_fixed(rows: np.ndarray, before: bytes, width: int, after: bytes, allowed: np.ndarray,
                 out: np.ndarray) -> np.ndarray:
    """Acceptance of each file of a (files, n, line) byte array; its values go to ``out``
    (whatever a refused file leaves there is overwritten by the caller)."""
    files, n, line = rows.shape
    lo, hi = int(allowed[0]), int(allowed[-1])
    if line == 2:
        # One digit and LF: each line is one little-endian uint16, 0x0A30 + the digit, so a
        # file is valid and in [lo, hi] exactly when its smallest and largest lines are.
        words = rows.reshape(files, n * 2).view("<u2")
        fine = (words.min(axis=1) >= 0x0A30 + max(lo, 0)) & (words.max(axis=1) <= 0x0A30 + min(hi, 9))
        np.subtract(words, np.uint16(0x0A30), out=out, casting="unsafe")  # the digit, when valid
        values = out
    else:
        # XOR with the expected line (e.g. " 00\r\n") leaves 0 where the line must equal it
        # and the digit's value (high nibble 0) at a digit: one mask finds any other byte,
        # and the digits' low nibbles must still be <= 9.
        expected_line = before + b"0" * width + after + b"\n"
        expected = np.tile(np.frombuffer(expected_line, dtype=np.uint8), n)
        must_be_zero = np.tile(np.array([0xFF] * len(before) + [0xF0] * width + [0xFF] * (len(after) + 1),
                                        dtype=np.uint8), n)
        xored = rows.reshape(files, n * line) ^ expected
        fine = (xored & must_be_zero).max(axis=1) == 0
        digits = xored.reshape(files, n, line)[:, :, len(before):len(before) + width]
        fine &= digits.max(axis=(1, 2)) <= 9
        # the narrowest dtype that holds `width` digits: Horner's rule never overflows a valid file
        wide = np.uint8 if width <= 2 else np.uint16 if width <= 4 else np.uint32 if width <= 9 else np.int64
        values = digits[:, :, 0].astype(wide)
        for j in range(1, width):
            values *= wide(10)
            values += digits[:, :, j]
        fine &= (values.min(axis=1) >= lo) & (values.max(axis=1) <= hi)
        np.copyto(out, values, casting="unsafe")  # lossless for the files accepted
    if hi - lo + 1 != len(allowed) and fine.any():  # a set with holes, e.g. {0, 2}
        holes = np.setdiff1d(np.arange(lo, hi + 1), allowed) if hi - lo <= 64 else None
        if holes is not None and len(holes) <= 4:  # a pass per hole is faster than a lookup
            for hole in holes.tolist():
                fine &= ~(values == hole).any(axis=1)
        else:
            fine &= np.isin(values, allowed).all(axis=1)
    return fine
