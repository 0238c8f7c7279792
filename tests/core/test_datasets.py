"""Hidden labels on disk, in the Hackathon42 layout: what an organizer's data folder must hold."""

from __future__ import annotations

import numpy as np
import pytest

from bot.config import Dataset, load_event
from bot.core.datasets import DataError, DatasetRegistry, find_folder, load_hidden_labels
from tests.core.helpers import ROWS, write_event


def dataset(id: int = 3, name: str = "x") -> Dataset:
    return Dataset(id=id, name=name, points=1)


def make_folder(data_dir, folder: str, y=None, *, x_rows=None, y_labeled=None, y_txt: str | None = None):
    path = data_dir / folder
    path.mkdir(parents=True)
    if y is not None:
        np.save(path / "y_val.npy", np.asarray(y))
    if y_txt is not None:
        (path / "y_val.txt").write_text(y_txt)
    n = x_rows if x_rows is not None else (len(y) if y is not None else None)
    if n is not None:
        np.save(path / "X_val.npy", np.zeros((n, 4), dtype=np.float32))
    if y_labeled is not None:
        np.save(path / "y_labeled.npy", np.asarray(y_labeled))
    return path


def test_loads_the_hidden_labels_of_each_phase(tmp_path):
    config = load_event(write_event(tmp_path))
    registry = DatasetRegistry.load(config)
    assert len(registry) == 4 + 5  # mock: 0, 3, 5, 888; real: also 12
    for phase, data_dir in (("mock", "d1"), ("real", "d2")):
        hidden = registry.get(phase, 3)
        on_disk = np.load(tmp_path / data_dir / "03_three" / "y_val.npy")
        assert hidden.n == ROWS
        assert hidden.y.dtype == np.int64
        np.testing.assert_array_equal(hidden.y, on_disk)
        assert not hidden.y.flags.writeable
        assert hidden.groups is not None and hidden.groups.shape == (ROWS,)
    # the two phases hold different data (different seeds, as in Hackathon42)
    assert not np.array_equal(registry.get("mock", 3).y, registry.get("real", 3).y)
    np.testing.assert_array_equal(registry.get("mock", 5).labels, [4, 5, 6])
    assert registry.get("mock", 12) is None  # dataset 12 is only in phase "real"
    assert registry.get("real", 12).n == ROWS


def test_y_val_txt_variant(tmp_path):
    make_folder(tmp_path, "03_x", y_txt="4\n5\n6\n4\n", x_rows=4)
    hidden = load_hidden_labels(tmp_path, dataset(), "mock")
    np.testing.assert_array_equal(hidden.y, [4, 5, 6, 4])
    assert hidden.y.dtype == np.int64
    np.testing.assert_array_equal(hidden.labels, [4, 5, 6])


def test_single_line_y_val_txt(tmp_path):
    make_folder(tmp_path, "03_x", y_txt="7\n", x_rows=1)
    assert load_hidden_labels(tmp_path, dataset(), "mock").y.tolist() == [7]


def test_label_count_differing_from_x_val_rows_is_refused_with_both_numbers(tmp_path):
    make_folder(tmp_path, "03_x", y=np.arange(10) % 2, x_rows=9)
    with pytest.raises(DataError) as info:
        load_hidden_labels(tmp_path, dataset(), "mock")
    message = str(info.value)
    assert "10" in message and "9" in message and "X_val" in message
    assert "03_x" in message


def test_missing_folder_is_refused_naming_it(tmp_path):
    (tmp_path / "d1").mkdir()
    with pytest.raises(DataError) as info:
        load_hidden_labels(tmp_path / "d1", dataset(3, "three"), "mock")
    message = str(info.value)
    assert "03_three" in message and str(tmp_path / "d1") in message and "'mock'" in message


def test_missing_folder_refuses_the_whole_event_at_start(tmp_path):
    path = write_event(tmp_path)
    (tmp_path / "d2" / "12_late").rename(tmp_path / "d2" / "elsewhere")
    with pytest.raises(DataError) as info:
        DatasetRegistry.load(load_event(path))
    assert "12_late" in str(info.value) and "'real'" in str(info.value)


def test_missing_hidden_labels_are_refused(tmp_path):
    make_folder(tmp_path, "03_x", x_rows=3)
    with pytest.raises(DataError, match="y_val"):
        load_hidden_labels(tmp_path, dataset(), "mock")


@pytest.mark.parametrize("folder", ["3_x", "03_x", "003_anything"])
def test_folder_found_with_or_without_leading_zero(tmp_path, folder):
    make_folder(tmp_path, "13_other", y=[0, 0])
    make_folder(tmp_path, "30_other", y=[0, 0])
    path = make_folder(tmp_path, folder, y=[1, 0, 1])
    assert find_folder(tmp_path, 3) == path
    hidden = load_hidden_labels(tmp_path, dataset(3, "x"), "mock")
    assert hidden.folder == path and hidden.y.tolist() == [1, 0, 1]


def test_label_set_includes_the_labeled_values(tmp_path):
    # label 6 happens not to occur in the hidden labels, but is a label of the dataset
    make_folder(tmp_path, "03_x", y=[4, 5, 5, 4], y_labeled=[4, 5, 6, 6])
    hidden = load_hidden_labels(tmp_path, dataset(), "mock")
    np.testing.assert_array_equal(hidden.labels, [4, 5, 6])
    np.testing.assert_array_equal(hidden.y, [4, 5, 5, 4])  # y itself is unchanged


def test_integral_float_labels_are_accepted_and_fractions_refused(tmp_path):
    make_folder(tmp_path / "a", "03_x", y=np.array([1.0, 0.0, 2.0]))
    assert load_hidden_labels(tmp_path / "a", dataset(), "mock").y.tolist() == [1, 0, 2]
    make_folder(tmp_path / "b", "03_x", y=np.array([1.0, 0.5]))
    with pytest.raises(DataError, match="non-integer"):
        load_hidden_labels(tmp_path / "b", dataset(), "mock")


def test_repr_of_hidden_labels_never_shows_labels(tmp_path):
    secret = [987654, 123456, 987654, 555555]
    make_folder(tmp_path, "03_x", y=secret)
    hidden = load_hidden_labels(tmp_path, dataset(), "mock")
    for text in (repr(hidden), str(hidden), f"{hidden}", repr([hidden]), repr({"h": hidden})):
        for label in secret:
            assert str(label) not in text
    assert "n=4" in repr(hidden) and "dataset=3" in repr(hidden)


# --- hidden label files an organizer gets wrong ---------------------------------------------

@pytest.mark.parametrize(("name", "content"), [
    ("y_val.txt", b"label\n1\n0\n"),  # a header
    ("y_val.npy", b"not an npy file"),  # corrupt
])
def test_unreadable_hidden_labels_refused_naming_the_file(tmp_path, name, content):
    folder = tmp_path / "03_x"
    folder.mkdir()
    (folder / name).write_bytes(content)
    with pytest.raises(DataError) as info:
        load_hidden_labels(tmp_path, dataset(), "mock")
    assert name in str(info.value) and "03_x" in str(info.value)


def test_blank_line_in_y_val_txt_is_refused(tmp_path):
    folder = tmp_path / "03_x"
    folder.mkdir()
    (folder / "y_val.txt").write_text("1\n0\n\n2\n")  # images 0..3: the third one's label is missing
    with pytest.raises(DataError, match="line 3"):
        load_hidden_labels(tmp_path, dataset(), "mock")
