"""parse_many decides every file exactly as parse_labels does, many files at a time."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scoring import LabelFileError, parse_labels
from scoring.parse_batch import label_dtype, parse_many
from tests.scoring.test_parse import near_valid_files, random_bytes


def one_by_one(files, n, allowed):
    """What the live path decides for each file."""
    out = []
    for data in files:
        try:
            out.append(parse_labels(data, n, allowed).tolist())
        except LabelFileError as err:
            out.append((err.line, str(err)))
    return out


def batch(files, n, allowed, **kwargs):
    parsed = parse_many(files, n, allowed, **kwargs)
    assert parsed.values.shape == (len(files), n)
    assert parsed.values.dtype == label_dtype(allowed)
    assert set(parsed.errors) == {i for i in range(len(files)) if not parsed.ok[i]}
    return [parsed.values[i].tolist() if parsed.ok[i] else (parsed.errors[i].line, str(parsed.errors[i]))
            for i in range(len(files))]


WIDTHS = st.sampled_from([[0, 1], [0, 2], [4, 5, 6], [10, 11, 99], [3, 40, 512, 7], [123456789012, 5]])


@st.composite
def files_of_one_dataset(draw):
    """Several files for the same n and label set: fixed-width ones of every layout (LF, CRLF,
    spaces, tabs or CRs around the labels, with or without a final ending, BOM, leading
    zeros) mixed with near-valid and broken ones."""
    allowed = draw(WIDTHS)
    n = draw(st.integers(1, 12))
    files = []
    for _ in range(draw(st.integers(1, 8))):
        kind = draw(st.sampled_from(["fixed", "fixed", "fixed", "near", "bytes"]))
        if kind == "fixed":
            labels = draw(st.lists(st.sampled_from(allowed), min_size=n, max_size=n))
            width = max(len(str(v)) for v in labels) + draw(st.integers(0, 1))
            end = draw(st.sampled_from([b"\n", b"\r\n"]))
            before = draw(st.sampled_from([b"", b"", b" ", b"\t", b"  ", b"\r"]))
            after = draw(st.sampled_from([b"", b"", b" ", b"\t ", b"\r"]))
            data = end.join(before + str(v).zfill(width).encode() + after for v in labels)
            data += draw(st.sampled_from([b"", end, end + end, b"\r"]))
            if draw(st.booleans()):
                data = b"\xef\xbb\xbf" + data
            if draw(st.integers(0, 4)) == 0 and data:  # one corrupted byte
                k = draw(st.integers(0, len(data) - 1))
                data = data[:k] + draw(st.sampled_from([b"x", b"\n", b"\r", b" ", b"9", b"-"])) + data[k + 1:]
            files.append(data)
        elif kind == "near":
            files.append(draw(near_valid_files())[0])
        else:
            files.append(draw(random_bytes())[0])
    return files, n, allowed


@settings(max_examples=600, deadline=None)
@given(files_of_one_dataset(), st.sampled_from([1, 64, 1 << 22]))
def test_every_file_is_decided_as_parse_labels_decides_it(case, chunk_bytes):
    files, n, allowed = case
    assert batch(files, n, allowed, chunk_bytes=chunk_bytes) == one_by_one(files, n, allowed)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(near_valid_files(), random_bytes()), min_size=1, max_size=6))
def test_near_valid_and_random_bytes_agree_too(cases):
    _, n, allowed = cases[0]
    files = [data for data, _, _ in cases]
    assert batch(files, n, allowed) == one_by_one(files, n, allowed)


def test_a_large_batch_of_the_usual_files_goes_through_the_fast_path(monkeypatch):
    import scoring.parse_batch
    sent_to_parse_labels = []

    def counting(data, n, allowed):
        sent_to_parse_labels.append(data)
        return parse_labels(data, n, allowed)

    monkeypatch.setattr(scoring.parse_batch, "parse_labels", counting)
    rng = np.random.default_rng(0)
    n = 1000
    labels = rng.integers(0, 2, (50, n))
    files = [b"\n".join(str(v).encode() for v in row) + b"\n" for row in labels]
    files[7] = files[7].replace(b"\n", b"\r\n")            # CRLF
    files[8] = b"\xef\xbb\xbf" + files[8][:-1]              # BOM, no final newline
    files[9] = files[9].replace(b"1\n", b" 1\n", 1)        # one line unlike the others: one by one
    files[12] = files[12].replace(b"\n", b" \n")            # spaces after every label: a layout too
    files[10] = files[10].replace(b"0\n", b"2\n", 1)       # a label outside the set
    files[11] = b"label\n" + files[11]                     # a header
    parsed = parse_many(files, n, [0, 1], chunk_bytes=8 * n)
    assert parsed.ok.tolist() == [i not in (10, 11) for i in range(50)]
    good = [i for i in range(50) if parsed.ok[i]]
    np.testing.assert_array_equal(parsed.values[good], labels[good])
    assert parsed.values.dtype == np.uint8
    assert "label 2 is not an allowed label" in str(parsed.errors[10])
    assert parsed.errors[11].line == 1 and "header" in str(parsed.errors[11])
    assert not parsed.values[[10, 11]].any()
    # only the file with a space, and the refused ones (for their wording), went one by one
    assert sent_to_parse_labels == [files[9], files[10], files[11]]


@pytest.mark.parametrize("allowed, dtype", [
    ([0, 1], np.uint8), ([4, 5, 6], np.uint8), ([0, 999], np.uint16), ([-3, 12], np.int16),
    ([-1, 70000], np.int32), ([0, 10**17], np.int64),
])
def test_label_dtype_is_the_narrowest_that_holds_the_labels(allowed, dtype):
    assert label_dtype(allowed) == dtype
