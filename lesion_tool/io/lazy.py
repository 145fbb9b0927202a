"""A series' pixels decoded slice by slice on first access, for work that reads a few slices.

One click reads the slices around the lesion, not the 300 slices of a thin-slice abdomen:
:func:`~lesion_tool.io.series.load_series` with ``lazy=True`` checks the whole series' headers
and geometry exactly as the eager load does and returns a volume whose ``array`` is a
:class:`LazySlices`. Indexing it (``array[z, y0:y1, x0:x1]``, ``array[z0:z1]``) decodes only the
slices asked for, with :func:`~lesion_tool.io.series.read_frame`, so their values are exactly
those of the eager load; ``numpy.asarray(array)`` decodes everything.

The corruption check of :mod:`lesion_tool.io.plausibility` runs on what is decoded: a slice is
screened against its neighbours (which are decoded with it) before its values are returned, and
a suspect slice raises the same :class:`~lesion_tool.errors.PixelDataWarning` as the eager load
(at access rather than at load) and is listed in ``metadata["suspect_slices"]``. Each slice's
verdict is the one the eager load gives it, because the check compares a slice only with its two
neighbours. Slices never read are never decoded nor screened, and a damaged file among them is
not noticed: that is the point.
"""

from __future__ import annotations

import operator
import threading
import warnings
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from lesion_tool.errors import PixelDataWarning
from lesion_tool.io.plausibility import (
    MIN_SIZE_PX,
    MIN_SLICES,
    SuspectSlice,
    describe_suspects,
    find_inconsistent_slices,
)

if TYPE_CHECKING:
    from lesion_tool.io.series import FrameRef

__all__ = ["LazySlices"]

READ_AHEAD = 4
"""Slices decoded (and screened) on each side of a slice asked for: a measurement walks from its
click slice up and down, so its next slices are then ready, and each screening pass of
:func:`find_inconsistent_slices` covers several slices."""


class LazySlices:
    """The ``(z, y, x)`` pixels in HU of a checked slice stack, decoded on first access.

    Parameters
    ----------
    frames
        The stack's slices in array order (``StackGeometry.frames``).
    dtype
        :func:`~lesion_tool.io.series.output_dtype` of the stack (int16 or float32). Becomes
        float32 when a decoded slice's rescaled values do not fit int16, as the eager load's whole
        volume then does (the values are the same integers either way).
    name
        How warnings and errors name the series.
    suspect_labels
        A list that receives the labels of suspect slices, in array order
        (``metadata["suspect_slices"]`` of the volume).
    """

    def __init__(
        self,
        frames: Sequence[FrameRef],
        dtype: np.dtype | str,
        name: str,
        suspect_labels: list[str] | None = None,
    ) -> None:
        first = frames[0].header
        self._frames = tuple(frames)
        self._labels = [f.label for f in self._frames]
        self._name = name
        self._dtype = np.dtype(dtype)
        self.shape: tuple[int, int, int] = (
            len(frames),
            int(first.rows or 0),
            int(first.columns or 0),
        )
        self._slices: dict[int, np.ndarray] = {}
        self._screened: set[int] = set()
        self._suspects: list[SuspectSlice] = []
        self._suspect_labels = suspect_labels if suspect_labels is not None else []
        self._lock = threading.RLock()  # the plugin measures in worker threads

    # --- the numpy-like surface a measurement uses ---------------------------------------------

    @property
    def dtype(self) -> np.dtype:
        """int16, or float32 once any decoded slice needed it (as the eager load)."""
        return self._dtype

    @property
    def ndim(self) -> int:
        return 3

    @property
    def size(self) -> int:
        return int(np.prod(self.shape))

    def __len__(self) -> int:
        return self.shape[0]

    @property
    def decoded(self) -> frozenset[int]:
        """Indices of the slices decoded so far."""
        return frozenset(self._slices)

    @property
    def suspects(self) -> tuple[SuspectSlice, ...]:
        """The decoded slices found inconsistent with their neighbours so far (array order)."""
        return tuple(self._suspects)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        out = self[:]
        return out if dtype is None else out.astype(dtype, copy=False)

    def __getitem__(self, key: Any) -> np.ndarray:
        key = key if isinstance(key, tuple) else (key,)
        if not key or any(k is Ellipsis or k is None for k in key):
            return self[:][key]
        first, rest = key[0], key[1:]
        n = self.shape[0]
        if isinstance(first, (int, np.integer)):
            k = operator.index(first)
            if not -n <= k < n:
                raise IndexError(f"index {k} is out of bounds for axis 0 with size {n}")
            k %= n
            self._ensure([k])
            return self._slices[k][rest]
        indices = np.arange(n)[first]
        if indices.ndim != 1:
            raise IndexError(f"unsupported index {first!r} along z")
        self._ensure(indices.tolist())
        rows, cols = self.shape[1:]
        out = np.empty((len(indices), rows, cols), dtype=self._dtype)
        for i, k in enumerate(indices.tolist()):
            out[i] = self._slices[k]
        return out[(slice(None), *rest)]

    # --- decoding and screening ----------------------------------------------------------------

    def _ensure(self, indices: Iterable[int]) -> None:
        """Decode and screen ``indices`` (and the neighbours their screening needs)."""
        with self._lock:
            wanted = sorted(set(indices) - self._screened)
            if not wanted:
                missing = [k for k in indices if k not in self._slices]
                self._decode(missing)
                return
            n = self.shape[0]
            for lo, hi in _runs(wanted):
                # Decode the run with READ_AHEAD slices around it (at least MIN_SLICES in all).
                a, b = max(lo - READ_AHEAD, 0), min(hi + READ_AHEAD, n)
                while b - a < min(MIN_SLICES, n):
                    a, b = max(a - 1, 0), min(b + 1, n)
                self._decode(range(a, b))
                self._screen(a, b)

    def _decode(self, indices: Iterable[int]) -> None:
        from lesion_tool.io.series import read_frame

        for k in indices:
            if k in self._slices:
                continue
            plane = read_frame(self._frames[k], self._dtype, self._name)
            if plane.dtype != self._dtype:
                # Values beyond int16: the whole volume is float32, as in the eager load.
                self._dtype = np.dtype(np.float32)
                self._slices = {j: s.astype(np.float32) for j, s in self._slices.items()}
            self._slices[k] = plane

    def _screen(self, a: int, b: int) -> None:
        """Screen the not yet screened slices that the decoded block ``[a, b)`` can decide.

        :func:`find_inconsistent_slices` compares an inner slice with its two neighbours and an
        end slice of its input with the next two; inside a block that is the whole volume's
        comparison for all but the block's ends, and for those only where they are the volume's
        own ends.
        """
        n = self.shape[0]
        if n < MIN_SLICES or min(self.shape[1:]) < MIN_SIZE_PX:
            self._screened.update(range(n))  # the eager load does not screen these either
            return
        lo = a if a == 0 else a + 1
        hi = b if b == n else b - 1
        todo = [k for k in range(lo, hi) if k not in self._screened]
        for u0, u1 in _runs(todo):
            c, d = max(u0 - 1, 0), min(u1 + 1, n)
            while d - c < MIN_SLICES:
                c, d = max(c - 1, a), min(d + 1, b)
            self._screen_block(c, d, u0, u1)

    def _screen_block(self, a: int, b: int, lo: int, hi: int) -> None:
        """Run :func:`find_inconsistent_slices` on decoded ``[a, b)``, keeping ``[lo, hi)``."""
        block = np.stack([self._slices[k] for k in range(a, b)])
        found = [
            SuspectSlice(a + s.index, s.slice_ratio, s.bad_blocks, s.blocks, s.max_block_ratio)
            for s in find_inconsistent_slices(block)
            if lo <= a + s.index < hi
        ]
        new = [s for s in found if s.index not in self._screened]
        self._screened.update(range(lo, hi))
        if not new:
            return
        self._suspects = sorted([*self._suspects, *new], key=lambda s: s.index)
        self._suspect_labels[:] = [self._labels[s.index] for s in self._suspects]
        text = describe_suspects(new, self._labels, self._name)
        warnings.warn(text, PixelDataWarning, stacklevel=5)


def _runs(indices: Sequence[int]) -> list[tuple[int, int]]:
    """Sorted indices as maximal runs ``[lo, hi)`` of consecutive values."""
    runs: list[tuple[int, int]] = []
    for k in indices:
        if runs and runs[-1][1] == k:
            runs[-1] = (runs[-1][0], k + 1)
        else:
            runs.append((k, k + 1))
    return runs
