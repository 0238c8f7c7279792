import numpy as np
import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from scoring import LabelFileError, ascii_int, parse_labels
from scoring.parse import _reference_parse

BINARY = [0, 1]
ABC = [4, 5, 6]


def refused(data: bytes, n: int, allowed=BINARY) -> LabelFileError:
    with pytest.raises(LabelFileError) as info:
        parse_labels(data, n, allowed)
    return info.value


# -- accepted -------------------------------------------------------------------

@pytest.mark.parametrize("data", [
    b"1\n0\n1",
    b"1\n0\n1\n",
    b"1\r\n0\r\n1\r\n",
    b"1\r\n0\n1",  # mixed endings
    b"\xef\xbb\xbf1\n0\n1\n",
    b" 1\n0\t\n 1 \r\n",  # surrounding spaces/tabs are tolerated
])
def test_accepts_common_variants(data):
    result = parse_labels(data, 3, BINARY)
    assert result.dtype == np.int64
    assert result.tolist() == [1, 0, 1]


def test_accepts_labels_from_a_non_zero_based_set():
    assert parse_labels(b"4\n6\n5\n", 3, ABC).tolist() == [4, 6, 5]


def test_accepts_multi_digit_negative_and_leading_zero_labels():
    allowed = [-345, 7, 12, 999_999_999_999_999_999]
    data = b"12\r\n-345\n07\n999999999999999999\n"
    assert parse_labels(data, 4, allowed).tolist() == [12, -345, 7, 999_999_999_999_999_999]


# -- refused, one case at a time ------------------------------------------------

def test_header_line():
    err = refused(b"label\n1\n0\n", 2)
    assert err.line == 1
    assert "remove the header line" in str(err)
    assert str(err).startswith("line 1: ")


def test_csv_header_with_index_column():
    err = refused(b"id,label\n0,1\n1,0\n", 2)
    assert err.line == 1
    assert "header" in str(err) and "one column only" in str(err)


def test_float_label_says_which_integer_to_write():
    err = refused(b"1\n3.0\n", 2, [1, 3])
    assert err.line == 2
    assert "labels are integers, write 3" in str(err)


def test_non_integral_float():
    err = refused(b"1\n0.5\n", 2)
    assert err.line == 2 and "integer" in str(err)


@pytest.mark.parametrize("sep, name", [(b",", "commas"), (b";", "semicolons"), (b"\t", "tabs")])
def test_second_column(sep, name):
    err = refused(b"1\n0" + sep + b"1\n1\n", 3)
    assert err.line == 2
    assert "one column only, no index column" in str(err)
    assert name in str(err)


@pytest.mark.parametrize("data", [b"", b"\xef\xbb\xbf", b"\n", b"\r\n", b"  \n"])
def test_empty_file(data):
    err = refused(data, 3)
    assert err.line is None
    assert "empty" in str(err) and "expected 3 labels" in str(err)


def test_blank_line_in_the_middle():
    err = refused(b"1\n0\n\n1\n", 3)
    assert err.line == 3
    assert "remove blank lines" in str(err)


def test_second_final_newline_is_a_blank_line():
    err = refused(b"1\n0\n1\n\n", 3)
    assert err.line == 4 and "blank" in str(err)


def test_too_few_rows():
    err = refused(b"1\n0\n", 3)
    assert err.line is None
    assert "expected 3" in str(err) and "got 2" in str(err)


def test_too_many_rows_names_first_extra_line():
    err = refused(b"1\n0\n1\n1\n0\n", 3)
    assert err.line == 4
    assert "expected 3" in str(err) and "got 5" in str(err) and "line 4" in str(err)


def test_label_outside_allowed_set():
    err = refused(b"4\n5\n7\n6\n", 4, ABC)
    assert err.line == 3
    assert "label 7" in str(err) and "{4, 5, 6}" in str(err)


def test_negative_label_not_in_set():
    err = refused(b"1\n-1\n", 2)
    assert err.line == 2 and "label -1" in str(err)


def test_non_utf8_bytes():
    err = refused(b"1\n0\n\xff\xfe\n", 3)
    assert err.line == 3
    assert "UTF-8" in str(err)


def test_valid_utf8_non_digit_is_not_an_encoding_problem():
    err = refused("1\n٣\n".encode(), 2)  # Arabic-Indic digit three
    assert err.line == 2
    assert "not an integer label" in str(err) and "UTF-8" not in str(err)


def test_utf16_file():
    err = refused("1\n0\n".encode("utf-16"), 2)
    assert err.line == 1 and "UTF-16" in str(err)


def test_nul_bytes():
    err = refused(b"1\n0\x00\n", 2)
    assert err.line == 2 and "plain text" in str(err)


def test_more_than_18_digits():
    err = refused(b"1\n" + b"1" * 19 + b"\n", 2)
    assert err.line == 2 and "18" in str(err)


def test_plus_sign():
    err = refused(b"+1\n0\n", 2)
    assert err.line == 1 and 'write "1"' in str(err)


def test_old_mac_line_endings():
    err = refused(b"1\r0\r1\r", 3)
    assert err.line == 1 and "line endings" in str(err)


def test_first_error_wins_over_row_count():
    # A header makes the row count wrong too; the header is what to fix.
    err = refused(b"label\n1\n0\n1\n", 3)
    assert err.line == 1 and "header" in str(err)


# -- properties -----------------------------------------------------------------

ALLOWED_SETS = st.sampled_from([[0, 1], [4, 5, 6], list(range(0, 1000, 7)), [-3, 12, 10**17]])


@st.composite
def valid_files(draw):
    allowed = draw(ALLOWED_SETS)
    labels = draw(st.lists(st.sampled_from(allowed), min_size=1, max_size=60))
    endings = draw(st.lists(st.sampled_from([b"\n", b"\r\n"]), min_size=len(labels),
                            max_size=len(labels)))
    final = draw(st.booleans())
    bom = draw(st.booleans())
    lines = [str(v).encode() for v in labels]
    data = b"".join(line + end for line, end in zip(lines, endings, strict=True))
    if not final:
        data = data[:-len(endings[-1])]
    return (b"\xef\xbb\xbf" if bom else b"") + data, labels, allowed, endings, final


@given(valid_files())
def test_valid_files_round_trip(case):
    data, labels, allowed, _, _ = case
    result = parse_labels(data, len(labels), allowed)
    assert result.tolist() == labels


NOT_A_LABEL = st.one_of(
    st.text(alphabet="abcxyzXYZ_", min_size=1, max_size=8),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.just("a,b"), st.just("1,0"), st.just("1;0"), st.just("1\t0"), st.just("1 0"),
    st.just(""), st.just("   "), st.just("+1"), st.just("-"), st.just("1-"),
    st.just("9" * 19), st.just("\x00"), st.just("é"),
    st.integers(-10**6, 10**6).map(str),  # mostly out of the set
)


@given(valid_files(), st.data())
def test_corrupting_one_line_is_reported_on_that_line(case, data):
    raw, labels, allowed, endings, final = case
    k = data.draw(st.integers(0, len(labels) - 1), label="corrupted index")
    text = data.draw(NOT_A_LABEL, label="replacement")
    stripped = text.strip(" \t")
    assume(not (stripped.lstrip("-").isdigit() and int(stripped) in allowed))
    lines = [str(v).encode() for v in labels]
    lines[k] = text.encode()
    body = b"".join(line + end for line, end in zip(lines, endings, strict=True))
    if not final:
        body = body[:-len(endings[-1])]
    err = refused(body, len(labels), allowed)
    if stripped == "" and len(labels) == 1:
        assert err.line is None and "empty" in str(err)
    elif text == "" and k == len(labels) - 1 and not final:
        # "1\n0\n" + "" is just a shorter file with a final newline.
        assert err.line is None and "too few rows" in str(err)
    else:
        assert err.line == k + 1, str(err)


def outcome(fn, data, n, allowed):
    try:
        return fn(data, n, allowed).tolist()
    except LabelFileError as err:
        return (err.line, str(err))


ODD_TOKENS = st.sampled_from([b"0", b"1", b"-", b"-1", b"12", b"007", b"", b" ", b"\t", b"\r",
                              b"a", b".", b",", b"0" * 19, b"\xff", b"\xc3\xa9", b"\x00"])
SETS = [[0, 1], [1, 5, 12], [-1, 0, 7, 999_999_999_999_999_999]]


@st.composite
def near_valid_files(draw):
    """Files of mostly valid labels (of unequal widths) with some odd lines:
    exercises each check of the vectorized path, including wrong acceptance."""
    allowed = draw(st.sampled_from(SETS))
    label = st.sampled_from(allowed).map(lambda v: str(v).encode())
    odd = st.lists(ODD_TOKENS, max_size=3).map(b"".join)
    lines = draw(st.lists(st.one_of(label, label, label, odd), min_size=1, max_size=12))
    end = draw(st.sampled_from([b"\n", b"\r\n"]))
    data = end.join(lines) + draw(st.sampled_from([b"", b"\n", b"\r\n"]))
    data = (b"\xef\xbb\xbf" if draw(st.booleans()) else b"") + data
    n = len(lines) + draw(st.sampled_from([0, 0, 0, -1, 1]))
    return data, max(n, 1), allowed


def random_bytes():
    return st.tuples(st.binary(max_size=60), st.integers(1, 6), st.sampled_from(SETS))


@settings(max_examples=1000)
@given(st.one_of(near_valid_files(), random_bytes()))
@example((b"1\r\r\n0", 2, [0, 1]))
@example((b"1\n0\r \n", 2, [0, 1]))
@example((b"\r1\n0", 2, [0, 1]))
@example((b"5\n12", 2, [1, 5, 12]))
@example((b"0\n1\n7", 2, [0, 1]))  # out-of-set label on the first extra line
@example((b"0\n1\n1\n7", 2, [0, 1]))
@example((b"0000000000000000001\n1", 2, [0, 1]))
@example((b"0000000000000000001\n0000000000000000000", 2, [0, 1]))
def test_fast_path_agrees_with_reference_on_any_bytes(case):
    """Arbitrary bytes only ever raise LabelFileError, with a plausible line, and
    the vectorized parser decides exactly like the line-by-line reference."""
    data, n, allowed = case
    got = outcome(parse_labels, data, n, allowed)
    assert got == outcome(_reference_parse, data, n, allowed)
    if isinstance(got, tuple):
        line, message = got
        assert line is None or 1 <= line <= data.count(b"\n") + 1
        assert message
    else:
        assert len(got) == n and set(got) <= set(allowed)


def test_large_file_matches_reference():
    rng = np.random.default_rng(0)
    labels = rng.choice([3, 40, 512, 7], size=50_000)
    data = "\r\n".join(map(str, labels.tolist())).encode()
    assert np.array_equal(parse_labels(data, len(labels), [3, 7, 40, 512]), labels)
    bad = data + b"\r\n41"
    assert outcome(parse_labels, bad, 50_001, [3, 7, 40, 512])[0] == 50_001


# -- one integer rule for files and for the HTTP API's id fields ------------------------

@given(st.one_of(
    st.text(alphabet=st.characters(blacklist_characters="\n\r \t"), max_size=22),
    st.from_regex(r"-?[0-9]{1,20}", fullmatch=True),
    st.sampled_from(["\u0660", "\uff15", "0_0", "+0", "1e3", "0x1", "\u00b2", "\u0e51"]),
))
@example("\u0660")
@example("0_0")
@example("9" * 18)
@example("9" * 19)
def test_ascii_int_is_the_rule_of_a_label_line(token):
    """A token ascii_int reads is exactly a line parse_labels takes, with the same value; a token
    it refuses is refused in a file too (Python's int() would read '\u0660', '0_0' and '+0')."""
    value = ascii_int(token)
    line = token.encode("utf-8", "surrogatepass")
    if value is None:
        with pytest.raises(LabelFileError):
            parse_labels(line + b"\n", 1, [0, 1])
        if token.strip():
            with pytest.raises(LabelFileError):
                _reference_parse(line + b"\n", 1, [0, 1])
    else:
        assert token.isascii() and value == int(token)
        assert parse_labels(line + b"\n", 1, [value]).tolist() == [value]
