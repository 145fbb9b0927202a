"""lesion_tool.measurement.raster's box round a result (``padded_box``, ``mask_in_box``,
``padded_mask``): the box a rule reads round a mask cropped at ``offset`` of an image, widened by
a margin and clipped to the image, with the mask placed in it. Checked on analytic cases (a
box at the image's edge, a mask touching the border, a margin larger than the image, a margin
of 0 on one axis) and against the plain reading of the definition: the mask pasted into an
all-False image of the full shape, then cut to the box."""

from __future__ import annotations

import numpy as np
import pytest

from lesion_tool.measurement.raster import mask_in_box, padded_box, padded_mask


def _reference(
    mask: np.ndarray, offset: tuple[int, ...], pad: tuple[int, ...], shape: tuple[int, ...]
) -> tuple[tuple[slice, ...], np.ndarray]:
    """The definition, written out: the whole image, the mask pasted in, the clipped box cut."""
    full = np.zeros(shape, dtype=bool)
    full[tuple(slice(o, o + n) for o, n in zip(offset, mask.shape, strict=True))] = mask
    box = tuple(
        slice(max(o - p, 0), min(o + n + p, s))
        for o, n, p, s in zip(offset, mask.shape, pad, shape, strict=True)
    )
    return box, full[box]


def test_box_at_the_images_edge_is_cut_there() -> None:
    mask = np.ones((3, 3), dtype=bool)
    box, placed = padded_mask(mask, (0, 7), 2, (10, 10))
    # Rows 0-2 padded by 2: -2 clipped to 0, 5; columns 7-9: 5, 12 clipped to 10.
    assert box == (slice(0, 5), slice(5, 10))
    assert placed.shape == (5, 5)
    assert placed[:3, 2:].all()
    assert placed.sum() == 9


def test_mask_touching_both_borders_keeps_every_pixel() -> None:
    mask = np.zeros((6, 4), dtype=bool)
    mask[0, :] = True
    mask[-1, :] = True
    mask[:, 0] = True
    box, placed = padded_mask(mask, (0, 0), (3, 3), (6, 4))
    assert box == (slice(0, 6), slice(0, 4))
    np.testing.assert_array_equal(placed, mask)


def test_padding_larger_than_the_image_gives_the_whole_image() -> None:
    mask = np.array([[True, False], [False, True]])
    box, placed = padded_mask(mask, (4, 5), (100, 50), (9, 12))
    assert box == (slice(0, 9), slice(0, 12))
    assert placed.shape == (9, 12)
    assert placed[4, 5] and placed[5, 6]
    assert placed.sum() == 2


def test_zero_margin_on_one_axis_keeps_that_axis_to_the_mask() -> None:
    mask = np.ones((2, 3, 3), dtype=bool)
    box, placed = padded_mask(mask, (4, 1, 5), (0, 2, 2), (10, 20, 8))
    assert box == (slice(4, 6), slice(0, 6), slice(3, 8))
    assert placed.shape == (2, 6, 5)
    assert placed[:, 1:4, 2:5].all()
    assert placed.sum() == mask.sum()


def test_padded_box_widens_slices_by_one_margin_or_one_per_axis() -> None:
    box = (slice(2, 5), slice(0, 3))
    assert padded_box(box, 1, (6, 6)) == (slice(1, 6), slice(0, 4))
    assert padded_box(box, (0, 4), (6, 6)) == (slice(2, 5), slice(0, 6))
    assert padded_box(box, np.int64(3), (6, 6)) == (slice(0, 6), slice(0, 6))
    with pytest.raises(ValueError):
        padded_box(box, (1, 2, 3), (6, 6))


def test_mask_in_a_smaller_box_is_cropped_and_outside_it_is_empty() -> None:
    mask = np.ones((4, 4), dtype=bool)
    placed = mask_in_box(mask, (2, 2), (slice(4, 8), slice(0, 4)))
    expected = np.zeros((4, 4), dtype=bool)
    expected[:2, 2:] = True
    np.testing.assert_array_equal(placed, expected)
    far = mask_in_box(mask, (2, 2), (slice(10, 12), slice(0, 3)))
    assert far.shape == (2, 3) and not far.any()


def test_non_boolean_mask_is_placed_as_its_non_zero_pixels() -> None:
    mask = np.array([[0, 3], [1, 0]], dtype=np.uint8)
    _, placed = padded_mask(mask, (1, 1), 1, (4, 4))
    assert placed.dtype == bool
    np.testing.assert_array_equal(
        placed, np.array([[0, 0, 0, 0], [0, 0, 1, 0], [0, 1, 0, 0], [0, 0, 0, 0]], bool)
    )


@pytest.mark.parametrize("ndim", [2, 3])
def test_random_masks_are_the_definition(ndim: int) -> None:
    rng = np.random.default_rng(11 + ndim)
    for _ in range(300):
        shape = tuple(int(v) for v in rng.integers(1, 25, size=ndim))
        size = tuple(int(rng.integers(1, n + 1)) for n in shape)
        offset = tuple(int(rng.integers(0, n - k + 1)) for n, k in zip(shape, size, strict=True))
        pad = tuple(int(v) for v in rng.integers(0, 30, size=ndim))
        mask = rng.random(size) < 0.4
        box, placed = padded_mask(mask, offset, pad, shape)
        ref_box, ref = _reference(mask, offset, pad, shape)
        assert box == ref_box
        np.testing.assert_array_equal(placed, ref)
