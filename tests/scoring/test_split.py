from fractions import Fraction
from math import ceil, floor

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scoring.split import mask_digest, private_mask, splitmix64


def within_one(count: int, size: int, f: Fraction) -> bool:
    """count is the floor or the ceiling of f * size"""
    return floor(f * size) <= count <= ceil(f * size)


def check_stratified(y, groups, mask, f: Fraction):
    y, mask = np.asarray(y), np.asarray(mask)
    g = np.zeros_like(y) if groups is None else np.asarray(groups)
    assert within_one(int(mask.sum()), len(y), f)
    for label in np.unique(y):
        rows = y == label
        assert within_one(int(mask[rows].sum()), int(rows.sum()), f), f"label {label}"
        for group in np.unique(g):
            cell = rows & (g == group)
            assert within_one(int(mask[cell].sum()), int(cell.sum()), f), f"cell {label}, {group}"
    for group in np.unique(g):
        rows = g == group
        assert within_one(int(mask[rows].sum()), int(rows.sum()), f), f"group {group}"


def test_splitmix64_matches_the_reference_outputs():
    # SplitMix64 seeded with 0 (Vigna's splitmix64.c): the first three outputs
    assert splitmix64(0, 3).tolist() == [0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4, 0x06C45D188009454F]
    assert splitmix64(0, 2, start=1).tolist() == splitmix64(0, 3)[1:].tolist()


def test_a_tenth_of_hackathon42_sized_labels_is_exactly_stratified():
    rng = np.random.default_rng(1)
    y = rng.choice([4, 5, 6], size=1206)
    groups = rng.integers(0, 2, size=1206)
    mask = private_mask(y, groups, private_fraction=0.3, seed=12345)
    assert mask.dtype == bool and mask.shape == (1206,)
    check_stratified(y, groups, mask, Fraction(3, 10))


def test_the_fraction_is_the_decimal_the_organizer_wrote():
    # 0.3 as a binary float is slightly below 3/10; 10 rows must still give exactly 3
    y = np.zeros(10, dtype=int)
    assert private_mask(y, private_fraction=0.3, seed=1).sum() == 3
    assert private_mask(np.zeros(100, dtype=int), private_fraction=0.07, seed=1).sum() == 7


@settings(max_examples=300, deadline=None)
@given(
    y=st.lists(st.integers(0, 3), min_size=1, max_size=200),
    data=st.data(),
    f=st.fractions(min_value=0, max_value=1, max_denominator=40),
    seed=st.integers(0, 2**64 - 1),
)
def test_every_cell_label_group_and_the_total_are_within_one_row(y, data, f, seed):
    with_groups = data.draw(st.booleans(), label="groups")
    groups = data.draw(st.lists(st.integers(0, 2), min_size=len(y), max_size=len(y))) if with_groups else None
    mask = private_mask(y, groups, private_fraction=f, seed=seed)
    check_stratified(y, groups, mask, f)
    assert np.array_equal(mask, private_mask(y, groups, private_fraction=f, seed=seed))


def test_same_seed_same_mask_different_seed_different_mask():
    rng = np.random.default_rng(0)
    y, groups = rng.integers(0, 2, 2000), rng.integers(0, 3, 2000)
    masks = [private_mask(y, groups, private_fraction=0.5, seed=s) for s in range(20)]
    again = private_mask(y.copy(), groups.copy(), private_fraction=0.5, seed=7)
    assert np.array_equal(masks[7], again)
    assert len({m.tobytes() for m in masks}) == 20
    # different seeds share about half of their private rows, as independent draws would
    overlap = (masks[0] & masks[1]).sum() / masks[0].sum()
    assert 0.4 < overlap < 0.6


def test_fraction_zero_and_one():
    y = np.array([0, 1, 1, 0, 2])
    assert not private_mask(y, private_fraction=0, seed=3).any()
    assert private_mask(y, [0, 0, 1, 1, 1], private_fraction=1, seed=3).all()
    assert private_mask(np.array([], dtype=int), private_fraction=0.5, seed=3).shape == (0,)


def test_rounding_is_unbiased_across_seeds():
    """Cells whose share is 1.5 rows get 2 rows about half the time: the extra row is not
    always given to the same cell."""
    y = np.repeat([0, 1, 2, 3], 3)  # four cells of 3 rows; f = 1/2 -> 1.5 rows each
    got_two = np.zeros(4)
    for seed in range(400):
        mask = private_mask(y, private_fraction=0.5, seed=seed)
        counts = np.bincount(y[mask], minlength=4)
        assert set(counts.tolist()) <= {1, 2} and counts.sum() == 6
        got_two += counts == 2
    assert np.all((got_two > 140) & (got_two < 260)), got_two


def test_every_row_can_be_private():
    y = np.zeros(50, dtype=int)
    seen = np.zeros(50, dtype=bool)
    for seed in range(100):
        seen |= private_mask(y, private_fraction=0.2, seed=seed)
    assert seen.all()


def test_refuses_bad_arguments():
    with pytest.raises(ValueError, match="between 0 and 1"):
        private_mask([0, 1], private_fraction=1.5, seed=0)
    with pytest.raises(ValueError, match="seed"):
        private_mask([0, 1], private_fraction=0.5, seed=-1)
    with pytest.raises(ValueError, match="seed"):
        private_mask([0, 1], private_fraction=0.5, seed=2**64)
    with pytest.raises(ValueError, match="one entry per row"):
        private_mask([0, 1], [0], private_fraction=0.5, seed=0)


def test_mask_digest_tells_masks_apart():
    a = np.array([True, False, True])
    assert mask_digest(a) == mask_digest([1, 0, 1])
    assert mask_digest(a) != mask_digest([True, True, False])
    assert mask_digest(a) != mask_digest([True, False, True, False])  # length counts too
    assert len(mask_digest(a)) == 64
