"""Semi-automatic measurement of viable (arterially enhancing) HCC from one click.

mRECIST measures the longest axial diameter of the *viable* tumour: the part that enhances in the
arterial phase. Given the arterial volume and a voxel inside a lesion, :func:`measure_viable`:

1. works in a cube of ``settings.box_mm`` around the click (never the whole volume), smoothed
   in-plane with a small Gaussian (noise down, straight edges unmoved);
2. estimates the surrounding liver parenchyma from the neighbourhood: first the mode of the
   soft-tissue histogram of the cube, then (second pass) the median of a shell 2-6 mm outside the
   lesion; and the noise from the same shell (first pass: neighbour differences);
3. classes voxels as viable when they enhance clearly above the parenchyma,
   ``threshold = parenchyma + max(min_enhancement_hu, noise_k * noise_sd)`` (noise of the
   smoothed image), and as necrotic when they are as clearly hypo-attenuating (but not fat or
   air); removes one-pixel specks and rims (opening); keeps the candidate region connected to the
   click (bridging the one-pixel partial-volume seam between viable and necrotic tissue);
4. whole lesion = that region with its holes filled; viable = the viable voxels inside it;
5. measures both on sub-pixel boundaries: the generator and real scanners blur edges by partial
   volume, so each boundary is put half-way between the two tissues it separates. Viable tissue
   is measured against whatever lies next to it (parenchyma outside, necrosis inside: a local
   background map from distance transforms), the whole lesion against parenchyma with its local
   content (viable or necrotic). The half-way contours come from marching squares and the longest
   axial diameter from :func:`lesion_tool.measurement.diameter.longest_axial_diameter`.

Everything the decision rests on is returned as :class:`ViableEvidence` so the reader can accept,
adjust or redraw. No enhancement left means a viable diameter of 0 (mRECIST complete response of
that lesion) while the whole lesion is still measured.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy import ndimage
from skimage.measure import find_contours

from lesion_tool.errors import MeasurementError
from lesion_tool.io.volume import CTVolume
from lesion_tool.measurement.diameter import (
    Geometry,
    contour_points,
    fill_holes_per_slice,
    longest_axial_diameter,
)
from lesion_tool.measurement.models import (
    Diameter,
    ViableEvidence,
    ViableMeasurement,
    ViableSettings,
)
from lesion_tool.measurement.raster import padded_box

__all__ = ["measure_viable"]

_PLANE = np.zeros((3, 3, 3), dtype=bool)
_PLANE[1] = [[0, 1, 0], [1, 1, 1], [0, 1, 0]]
_PLANE_FULL = np.zeros((3, 3, 3), dtype=bool)
_PLANE_FULL[1] = True
_FACES = ndimage.generate_binary_structure(3, 1)


def robust_sd(values: np.ndarray) -> float:
    """The SD (HU) of ``values`` read from their median absolute deviation (1.4826 x MAD), so
    that a few vessels or specks among them do not count; NaN when there are none."""
    if values.size == 0:
        return float("nan")
    med = np.median(values)
    return float(1.4826 * np.median(np.abs(values - med)))


def _mode_hu(values: np.ndarray, lo: float = -50.0, hi: float = 250.0) -> float:
    """Most frequent value (2 HU bins, lightly smoothed histogram) within ``[lo, hi]``."""
    v = values[(values > lo) & (values < hi)]
    if v.size < 50:
        raise MeasurementError(
            "No soft tissue around the click to estimate the parenchyma from; click inside "
            "a liver lesion."
        )
    hist, edges = np.histogram(v, bins=np.arange(lo, hi + 2.0, 2.0))
    hist = ndimage.gaussian_filter1d(hist.astype(float), 2.0)
    k = int(np.argmax(hist))
    return float(0.5 * (edges[k] + edges[k + 1]))


def _smoothing_factor(sigma: float) -> float:
    """Noise SD reduction of an in-plane Gaussian of ``sigma`` pixels on white noise."""
    if sigma <= 0:
        return 1.0
    delta = np.zeros(int(8 * sigma) * 2 + 1)
    delta[len(delta) // 2] = 1.0
    k = ndimage.gaussian_filter1d(delta, sigma)
    return float((k**2).sum())  # (sum k^2)^(1/2) per axis, two axes


class _Pass:
    """Classification and lesion masks of one pass over a region."""

    def __init__(
        self,
        sm: np.ndarray,
        seed: tuple[int, int, int],
        parenchyma: float,
        noise_sd_smoothed: float,
        settings: ViableSettings,
        spacing: tuple[float, float, float],
    ) -> None:
        margin = max(settings.min_enhancement_hu, settings.noise_k * noise_sd_smoothed)
        self.threshold = parenchyma + margin
        self.necrosis_threshold = parenchyma - margin
        viable_c = (sm > self.threshold) & (sm < settings.viable_max_hu)
        necro_c = (sm < self.necrosis_threshold) & (sm > settings.necrosis_min_hu)
        # Isolated noise voxels go from the viable class (an opening would erase a thin viable
        # cap); one-pixel partial-volume rims (e.g. fat/liver edges) go from the necrotic class.
        viable_c = _drop_small(viable_c, 4)
        # Voxels next to fat or air are the partial-volume rim of the organ's surface, not
        # necrosis (two in-plane pixels: the rim of a Gaussian-smoothed edge).
        dark = _grow(sm <= settings.necrosis_min_hu, 2)
        necro_c = _drop_small(necro_c & ~dark, 4)
        cand = viable_c | necro_c
        self.seed = _nearest_candidate(cand, seed, spacing, settings.seed_search_mm)
        if self.seed is None:
            self.whole = None
            return
        core = _lesion_core(viable_c, necro_c, self.seed, spacing)
        # Close and fill only around the component (1 pixel of room for the closing).
        (box,) = ndimage.find_objects(core.view(np.uint8))
        box = padded_box(box, 1, core.shape)
        part = core[box]
        whole = np.zeros_like(core)
        whole[box] = fill_holes_per_slice(_shrink(_grow(part, 1), 1) | part)
        self.whole = whole
        self.viable = viable_c & whole
        self.necrotic = necro_c & whole


def _grow(mask: np.ndarray, pixels: int) -> np.ndarray:
    """In-plane dilation by a ``(2 pixels + 1)`` square (separable maximum filter, fast)."""
    size = (1, 2 * pixels + 1, 2 * pixels + 1)
    return ndimage.maximum_filter(mask.view(np.uint8), size=size, mode="constant").view(bool)


def _shrink(mask: np.ndarray, pixels: int) -> np.ndarray:
    """In-plane erosion by a ``(2 pixels + 1)`` square; outside the array counts as background."""
    size = (1, 2 * pixels + 1, 2 * pixels + 1)
    return ndimage.minimum_filter(mask.view(np.uint8), size=size, mode="constant").view(bool)


def _lesion_core(
    viable_c: np.ndarray,
    necro_c: np.ndarray,
    seed: tuple[int, int, int],
    spacing: Sequence[float],
) -> np.ndarray:
    """The clicked tissue's component plus the components of the other tissue it touches, and
    once more back (viable - necrosis - viable).

    Viable and necrotic tissue meet across a partial-volume seam whose voxels look like
    parenchyma, so "touching" means within one in-plane pixel (or a face in z). Necrosis
    touching the clicked viable part is always added (it may be far larger than the viable
    rest); any other component only if it lies within the lesion found so far grown by
    max(10 mm, half its extent) on every axis: an enhancing organ (kidney, vessel) a few pixels
    from a necrotic part touches it but reaches far beyond, and stays out.
    """
    lab_v, _ = ndimage.label(viable_c, _FACES)
    lab_n, _ = ndimage.label(necro_c, _FACES)
    if lab_v[seed]:
        core = lab_v == lab_v[seed]
        order = [(lab_n, False), (lab_v, True)]
    else:
        core = lab_n == lab_n[seed]
        order = [(lab_v, True), (lab_n, True)]
    near_z = np.zeros((3, 3, 3), dtype=bool)
    near_z[:, 1, 1] = True
    for lab, constrained in order:
        (box,) = ndimage.find_objects(core.view(np.uint8))
        rooms = [
            math.ceil(max(10.0, 0.5 * ((b.stop - b.start) * s)) / s)
            for b, s in zip(box, spacing, strict=True)
        ]
        room = padded_box(box, rooms, core.shape)
        reach = _grow(core, 1) | ndimage.binary_dilation(core, near_z)
        ids = np.unique(lab[reach])
        ids = ids[ids > 0]
        if ids.size == 0:
            continue
        boxes = ndimage.find_objects(lab)
        for i in ids:
            b = boxes[i - 1]
            if b is not None and (
                not constrained
                or all(
                    r.start <= a.start and a.stop <= r.stop for a, r in zip(b, room, strict=True)
                )
            ):
                core |= lab == i
    return core


def _drop_small(mask: np.ndarray, min_voxels: int) -> np.ndarray:
    """``mask`` without its connected components (3-D, faces) smaller than ``min_voxels``."""
    lab, n = ndimage.label(mask, _FACES)
    if n == 0:
        return mask
    sizes = np.bincount(lab.ravel())
    keep = sizes >= min_voxels
    keep[0] = False
    return keep[lab]


def _nearest_candidate(
    cand: np.ndarray, seed: tuple[int, int, int], spacing: Sequence[float], radius_mm: float
) -> tuple[int, int, int] | None:
    if cand[seed]:
        return seed
    r = [max(math.ceil(radius_mm / s), 0) for s in spacing]
    lo = [max(seed[i] - r[i], 0) for i in range(3)]
    hi = [min(seed[i] + r[i] + 1, cand.shape[i]) for i in range(3)]
    win = cand[lo[0] : hi[0], lo[1] : hi[1], lo[2] : hi[2]]
    idx = np.argwhere(win)
    if idx.size == 0:
        return None
    d = ((idx + lo - np.asarray(seed)) * np.asarray(spacing)) ** 2
    dist = np.sqrt(d.sum(axis=1))
    k = int(np.argmin(dist))
    if dist[k] > radius_mm:
        return None
    return tuple(int(v) for v in idx[k] + lo)  # type: ignore[return-value]


def _core_value(
    sm: np.ndarray, mask: np.ndarray, spacing: Sequence[float], *, high: bool
) -> float | None:
    """The tissue value of a part away from its partial-volume edges: the median of voxels at
    least 1.5 pixels inside it in-plane; a thin part (no such voxel) gives its 80th (viable) or
    20th (necrotic) percentile instead."""
    if not mask.any():
        return None
    depth = _edt_in_plane(~mask, spacing) / min(spacing[1], spacing[2])
    core = mask & (depth >= 2.0)
    if core.sum() >= 5:
        return float(np.median(sm[core]))
    return float(np.percentile(sm[mask], 80.0 if high else 20.0))


def _keep_connected(membership: np.ndarray, seed_mask: np.ndarray) -> np.ndarray:
    """``membership`` with the parts above 0.5 that touch no voxel of ``seed_mask`` zeroed
    (stray partial-volume pixels near the lesion must not extend its outline)."""
    above = membership >= 0.5
    lab, _ = ndimage.label(above, _FACES)
    ids = np.unique(lab[seed_mask & above])
    ids = ids[ids > 0]
    kept = np.isin(lab, ids)
    ring = _grow(kept, 1)
    out = np.where(ring, membership, 0.0)
    out[above & ~kept] = 0.0
    return out


def _touches(whole: np.ndarray, lo: Sequence[int], hi: Sequence[int], shape: Sequence[int]) -> bool:
    """Whether a mask of the region ``lo:hi`` of a volume reaches a region border that is not
    the volume's border (the lesion may go on beyond it)."""
    return bool(
        (whole[0].any() and lo[0] > 0)
        or (whole[-1].any() and hi[0] < shape[0])
        or (whole[:, 0].any() and lo[1] > 0)
        or (whole[:, -1].any() and hi[1] < shape[1])
        or (whole[:, :, 0].any() and lo[2] > 0)
        or (whole[:, :, -1].any() and hi[2] < shape[2])
    )


def _edt_in_plane(mask: np.ndarray, spacing: Sequence[float]) -> np.ndarray:
    """In-plane distance (mm) of every voxel to the nearest True voxel of its own slice."""
    if not mask.any():
        return np.full(mask.shape, np.inf)
    # A huge z spacing keeps the nearest feature in-slice wherever the slice has one.
    d = ndimage.distance_transform_edt(~mask, sampling=(1e6, spacing[1], spacing[2]))
    d[d >= 1e5] = np.inf
    return d


def _transitions(arc_len: np.ndarray, values: np.ndarray, level: float) -> list[tuple[float, int]]:
    """Arc-length positions along a closed polyline where ``values`` cross ``level``, with the
    direction (+1: becomes viable)."""
    v = values - level
    nxt = np.roll(v, -1)
    s_next = np.roll(arc_len, -1)
    s_next[-1] = arc_len[-1] + np.linalg.norm(0)  # replaced below by the closing segment
    out = []
    for i in np.nonzero((v < 0) != (nxt < 0))[0]:
        t = v[i] / (v[i] - nxt[i]) if v[i] != nxt[i] else 0.5
        out.append((float(i + t), 1 if nxt[i] >= 0 else -1))
    return out


def _arc_mask(corners: list[tuple[float, int]], n: int) -> np.ndarray:
    """Vertices of a closed ``n``-vertex outline between each +1 corner and the next corner
    (the viable arcs); ``corners`` sorted by position."""
    keep = np.zeros(n, dtype=bool)
    for j, (pos, sign) in enumerate(corners):
        if sign != 1:
            continue
        stop = corners[(j + 1) % len(corners)][0]
        if stop <= pos:
            stop += n
        idx = np.arange(int(np.floor(pos)) + 1, int(np.floor(stop)) + 1) % n
        keep[idx] = True
    return keep


def _viable_outline_points(
    m_whole_z: np.ndarray,
    sm_z: np.ndarray,
    level: float,
    depths: tuple[float, float] = (0.75, 1.5),
) -> np.ndarray | None:
    """Points ``(n, 2)`` (y, x) of the lesion outline bordering viable tissue on one slice, with
    the viable/necrotic corners placed on the outline.

    The tissue just inside the outline is read at two depths along the inward normal; where it
    changes from viable to necrotic is found at each depth (in vertex units along the outline)
    and extrapolated linearly to depth 0, which extends the viable/necrotic interface to the
    outline along its own direction. Returns None when no outline vertex borders viable tissue.
    """
    outlines = [c for c in find_contours(m_whole_z, 0.5) if len(c) >= 6]
    if not outlines:
        return None
    gy, gx = np.gradient(ndimage.gaussian_filter(m_whole_z.astype(float), 1.0))
    out = []
    for poly in outlines:
        coords = poly.T
        ny_ = ndimage.map_coordinates(gy, coords, order=1)
        nx_ = ndimage.map_coordinates(gx, coords, order=1)
        norm = np.hypot(ny_, nx_)
        norm[norm == 0] = 1.0
        normal = np.stack([ny_ / norm, nx_ / norm], axis=1)  # towards the inside
        samples = []
        for d in depths:
            pts = poly + d * normal
            values = ndimage.map_coordinates(sm_z, pts.T, order=1, mode="nearest")
            # A median along the outline keeps single noisy vertices from flipping the tissue.
            samples.append(ndimage.median_filter(values, size=5, mode="wrap"))
        n = len(poly)
        cls1 = samples[0] >= level
        if not cls1.any():
            continue
        if cls1.all():
            out.append(poly)
            continue
        t1 = _transitions(np.arange(n, dtype=float), samples[0], level)
        t2 = _transitions(np.arange(n, dtype=float), samples[1], level)
        ratio = depths[0] / (depths[1] - depths[0])
        extrapolated = []
        for pos1, sign in t1:
            cands = [p for p, s in t2 if s == sign]
            pos0 = pos1
            if cands:
                diffs = [((p - pos1 + n / 2) % n) - n / 2 for p in cands]
                k = int(np.argmin(np.abs(diffs)))
                if abs(diffs[k]) <= 4.0:
                    pos0 = pos1 - float(np.clip(diffs[k] * ratio, -4.0, 4.0))
            extrapolated.append((pos0 % n, sign))
        keep1 = _arc_mask(sorted(t1), n)
        corners = sorted(extrapolated)
        keep = _arc_mask(corners, n)
        if abs(int(keep.sum()) - int(keep1.sum())) > 4 * len(corners):
            # Extrapolation crossed two corners (the viable part barely reaches the outline):
            # keep the positions read at the first depth.
            corners = sorted(t1)
            keep = keep1
        pts = [poly[keep]]
        for pos, _ in corners:
            i = int(np.floor(pos)) % n
            t = pos - np.floor(pos)
            pts.append((poly[i] * (1 - t) + poly[(i + 1) % n] * t)[None, :])
        out.append(np.concatenate(pts))
    if not out:
        return None
    return np.concatenate(out)


def _refine_viable_points(
    pts_v: np.ndarray,
    m_whole: np.ndarray,
    s_sm: np.ndarray,
    s_viable: np.ndarray,
    level: float,
    offset: Sequence[int],
) -> np.ndarray:
    """Viable boundary points with the outline part taken from the whole-lesion outline and
    corners extrapolated (:func:`_viable_outline_points`); interior interface points kept."""
    off = np.asarray(offset, dtype=float)
    out = []
    for z in np.nonzero(s_viable.any(axis=(1, 2)))[0]:
        own = pts_v[pts_v[:, 0] == z + off[0]]
        arc = _viable_outline_points(m_whole[z], s_sm[z], level)
        if arc is None:
            out.append(own)
            continue
        # Interface points well inside the lesion (the outline itself comes from the arc).
        inner = ndimage.map_coordinates(m_whole[z], (own[:, 1:] - off[1:]).T, order=1) >= 0.95
        out.append(own[inner])
        out.append(np.column_stack([np.full(len(arc), float(z)), arc]) + off)
    return np.concatenate(out) if out else pts_v


def measure_viable(
    volume: CTVolume,
    seed_zyx: Sequence[float],
    settings: ViableSettings | None = None,
) -> ViableMeasurement:
    """Delineate and measure the viable and the whole lesion around a clicked voxel.

    Parameters
    ----------
    volume
        The arterial-phase volume (HU, ``(z, y, x)``) with its geometry.
    seed_zyx
        The clicked voxel ``(z, y, x)`` (fractional indices are rounded), inside the lesion:
        in its viable part, or anywhere in it when nothing is viable.
    settings
        Thresholds and region size (:class:`ViableSettings`; defaults when None).

    Returns
    -------
    ViableMeasurement
        Masks (with their offset in the volume), longest axial diameters and perpendiculars of
        the viable part (0 mm when nothing enhances) and of the whole lesion, volumes and the
        evidence (parenchyma, noise, thresholds, lesion and viable HU).

    Raises
    ------
    MeasurementError
        The click is outside the volume, or not in a lesion (its surroundings look like
        parenchyma, fat, air or bone), or the region grown from it is not a lesion (it reaches
        the border of the analysed region even after enlarging it: a vessel or an organ).
    """
    settings = settings or ViableSettings()
    seed_f = np.asarray(seed_zyx, dtype=float)
    if seed_f.shape != (3,) or not np.all(np.isfinite(seed_f)):
        raise MeasurementError(f"Seed {seed_zyx!r} is not three finite voxel indices (z, y, x).")
    seed = tuple(round(v) for v in seed_f)
    if any(not 0 <= s < n for s, n in zip(seed, volume.shape, strict=True)):
        raise MeasurementError(f"Seed voxel {seed} is outside the volume of shape {volume.shape}.")
    box = settings.box_mm
    for attempt in range(2):
        result, touches = _measure_in_box(volume, seed, box, settings)  # type: ignore[arg-type]
        if not touches:
            return result
        if attempt == 0:
            box *= 2.0
    raise MeasurementError(
        f"The region grown from voxel {seed} reaches the border of a {box:.0f} mm region around "
        "the click: it is not a lesion (a vessel or an organ?) or it is larger than "
        f"{box:.0f} mm. Click inside the lesion, or draw the diameter by hand."
    )


def _measure_in_box(
    volume: CTVolume, seed: tuple[int, int, int], box_mm: float, settings: ViableSettings
) -> tuple[ViableMeasurement, bool]:
    spacing = volume.spacing_mm
    half = [max(math.ceil(box_mm / 2.0 / s), 1) for s in spacing]
    lo = [max(seed[i] - half[i], 0) for i in range(3)]
    hi = [min(seed[i] + half[i] + 1, volume.shape[i]) for i in range(3)]
    raw = np.asarray(volume.array[lo[0] : hi[0], lo[1] : hi[1], lo[2] : hi[2]], dtype=np.float32)
    sigma = settings.smoothing_sigma_px
    sm = ndimage.gaussian_filter(raw, (0, sigma, sigma), mode="nearest") if sigma > 0 else raw
    local_seed = tuple(seed[i] - lo[i] for i in range(3))
    seed_hu = float(
        np.median(
            sm[
                local_seed[0],
                max(local_seed[1] - 1, 0) : local_seed[1] + 2,
                max(local_seed[2] - 1, 0) : local_seed[2] + 2,
            ]
        )
    )

    # First pass: parenchyma = histogram mode, noise from neighbour differences.
    # (A few slices around the click and every other voxel are plenty for these estimates.)
    near = raw[max(local_seed[0] - 3, 0) : local_seed[0] + 4]
    diffs = np.diff(near, axis=2)
    soft = (near[:, :, 1:] > -50) & (near[:, :, 1:] < 250)
    soft &= (near[:, :, :-1] > -50) & (near[:, :, :-1] < 250)
    noise_raw = robust_sd(diffs[soft]) / math.sqrt(2.0) if soft.any() else 0.0
    parenchyma = _mode_hu(sm[::2, ::2, ::2])
    noise_sm = noise_raw * _smoothing_factor(sigma)
    first = _Pass(sm, local_seed, parenchyma, noise_sm, settings, spacing)  # type: ignore[arg-type]
    if first.whole is None:
        raise MeasurementError(
            f"No lesion at voxel {seed}: its smoothed value {seed_hu:.0f} HU does not differ "
            f"from the surrounding parenchyma ({parenchyma:.0f} HU) by more than "
            f"{first.threshold - parenchyma:.0f} HU within {settings.seed_search_mm:g} mm. Click "
            "inside the lesion."
        )

    touches = _touches(first.whole, lo, hi, volume.shape)
    w = first.whole
    if (w[:, 0].any() and w[:, -1].any()) or (w[:, :, 0].any() and w[:, :, -1].any()):
        # Wall to wall across the region: wider than the box, no need to look further.
        raise MeasurementError(
            f"The region grown from voxel {seed} spans the whole {box_mm:.0f} mm region around "
            "the click: it is not a lesion (a vessel or an organ?). Click inside the lesion, "
            "or draw the diameter by hand."
        )
    if touches:
        # The caller retries with a larger box; the rest is not worth computing.
        placeholder = Diameter.empty()
        empty = np.zeros((1, 1, 1), dtype=bool)
        evidence = ViableEvidence(
            parenchyma,
            noise_raw,
            first.threshold,
            first.necrosis_threshold,
            float("nan"),
            None,
            None,
            seed_hu,
            box_mm,
        )
        return (
            ViableMeasurement(
                empty,
                empty,
                (0, 0, 0),
                placeholder,
                placeholder,
                placeholder,
                placeholder,
                0.0,
                0.0,
                seed,
                evidence,
                settings,
            ),
            True,
        )

    # The rest works in a sub-box: the lesion and 10 mm around it.
    zz, yy, xx = np.nonzero(first.whole)
    margin = [math.ceil(10.0 / sp) + 2 for sp in spacing]
    own = tuple(slice(int(c.min()), int(c.max()) + 1) for c in (zz, yy, xx))
    box3 = padded_box(own, margin, sm.shape)
    sub_lo = [b.start for b in box3]
    raw, sm, first_whole = raw[box3], sm[box3], first.whole[box3]
    local_seed = tuple(local_seed[i] - sub_lo[i] for i in range(3))
    lo = [lo[i] + sub_lo[i] for i in range(3)]
    hi = [lo[i] + sm.shape[i] for i in range(3)]

    # Second pass: parenchyma and noise from a shell 2-6 mm around the lesion.
    dist_out = ndimage.distance_transform_edt(~first_whole, sampling=spacing)
    ring = (dist_out > 2.0) & (dist_out <= 6.0)
    shell = ring & (np.abs(sm - parenchyma) < 50.0)
    notes: list[str] = []
    if ring.any() and shell.sum() < 0.4 * ring.sum():
        # A liver lesion is mostly surrounded by parenchyma; a region grown from a click on fat,
        # muscle or an organ boundary is not.
        raise MeasurementError(
            f"No lesion at voxel {seed}: only {100.0 * shell.sum() / ring.sum():.0f}% of the "
            f"surroundings of the region grown from it look like parenchyma "
            f"({parenchyma:.0f} HU); click inside a liver lesion."
        )
    if shell.sum() >= 30:
        parenchyma = float(np.median(sm[shell]))
        noise_raw = robust_sd(raw[shell])
        noise_sm = robust_sd(sm[shell])
    else:
        notes.append("too little parenchyma around the lesion; parenchyma from the histogram")
    second = _Pass(sm, local_seed, parenchyma, noise_sm, settings, spacing)  # type: ignore[arg-type]
    if second.whole is None:
        # The refined parenchyma lost the click: keep the first pass (on this sub-box).
        second = _Pass(
            sm,
            local_seed,
            first.threshold - (first.threshold - first.necrosis_threshold) / 2,
            noise_sm,
            settings,
            spacing,
        )
    lesion = second
    if lesion.whole is None or lesion.seed is None:
        raise MeasurementError(
            f"No lesion at voxel {seed}: with the parenchyma measured around it "
            f"({parenchyma:.0f} HU) the click is not in tissue that differs from it."
        )
    whole = lesion.whole

    # Drop viable islands below the minimum volume.
    voxel_ml = Geometry.of(volume).voxel_volume_ml
    viable = lesion.viable
    if viable.any():
        lab, n = ndimage.label(viable, _FACES)
        sizes = ndimage.sum_labels(viable, lab, index=np.arange(1, n + 1)) * voxel_ml
        keep = np.zeros(n + 1, dtype=bool)
        keep[1:] = sizes >= settings.min_viable_ml
        viable = keep[lab]
    necrotic = lesion.necrotic & ~viable

    # Sub-box around the lesion for the contours (2 px margin in-plane, 1 slice).
    zz, yy, xx = np.nonzero(whole)
    sub = (
        slice(max(zz.min() - 1, 0), zz.max() + 2),
        slice(max(yy.min() - 3, 0), yy.max() + 4),
        slice(max(xx.min() - 3, 0), xx.max() + 4),
    )
    offset = tuple(lo[i] + sub[i].start for i in range(3))
    s_sm = sm[sub]
    s_whole = whole[sub]
    s_viable = viable[sub]
    s_necro = necrotic[sub]
    # Tissue values away from partial volume: the cores of the viable and necrotic parts.
    viable_hu = _core_value(sm, viable, spacing, high=True)
    necrotic_hu = _core_value(sm, necrotic, spacing, high=False)
    lesion_hu = float(np.median(raw[whole]))

    d_out = _edt_in_plane(~s_whole, spacing)  # distance to parenchyma (outside the lesion)
    d_necro = _edt_in_plane(s_necro, spacing)
    d_viable = _edt_in_plane(s_viable, spacing)
    near_whole = _grow(s_whole, 2)
    interior = _shrink(s_whole, 2)

    # Whole lesion: half-way between parenchyma and its local content (viable or necrotic).
    if viable_hu is None and necrotic_hu is None:
        content = np.full(s_sm.shape, lesion_hu, dtype=np.float32)
    elif necrotic_hu is None:
        content = np.full(s_sm.shape, viable_hu, dtype=np.float32)
    elif viable_hu is None:
        content = np.full(s_sm.shape, necrotic_hu, dtype=np.float32)
    else:
        content = np.where(d_viable <= d_necro, viable_hu, necrotic_hu).astype(np.float32)
    denom = content - parenchyma
    denom = np.where(np.abs(denom) < 1.0, 1.0, denom)
    m_whole = (s_sm - parenchyma) / denom
    # Beyond the lesion's own value the membership falls again: fat or air next to necrosis, or
    # an artery next to viable tumour, is not lesion.
    far = np.where(
        content < parenchyma,
        settings.necrosis_min_hu - content,
        settings.viable_max_hu - content,
    )
    far = np.where(np.abs(far) < 1.0, 1.0, far)
    taper = 1.0 - (s_sm - content) / far
    m_whole = np.clip(np.minimum(m_whole, taper), 0.0, 1.0)
    m_whole[interior] = 1.0
    # The partial-volume rim of an organ surface (fat next to parenchyma) passes through
    # necrosis values: outside the lesion found above it is not lesion.
    m_whole[_grow(s_sm <= settings.necrosis_min_hu, 2) & ~s_whole] = 0.0
    # Where viable and necrotic tissue meet, their mixture can look like parenchyma: inside the
    # lesion (not on its outermost pixel ring) such a seam is lesion.
    px = min(spacing[1], spacing[2])
    seam = s_whole & (d_viable <= 2.0 * px) & (d_necro <= 2.0 * px) & (d_out > 1.0 * px)
    m_whole[seam] = 1.0
    m_whole[~near_whole] = 0.0
    m_whole = _keep_connected(m_whole, s_whole)
    pts = contour_points(m_whole, 0.5, offset, mask=s_whole)
    whole_d, whole_p = longest_axial_diameter(pts, volume)
    whole_mask = (m_whole >= 0.5) & near_whole
    whole_ml = float(m_whole.sum()) * voxel_ml

    # Viable: half-way between viable tissue and what lies next to it (parenchyma or necrosis).
    if viable_hu is not None and s_viable.any():
        background = np.where(
            d_necro < d_out, necrotic_hu if necrotic_hu is not None else parenchyma, parenchyma
        ).astype(np.float32)
        denom_v = viable_hu - background
        denom_v = np.where(denom_v < 1.0, 1.0, denom_v)
        m_viable = np.clip((s_sm - background) / denom_v, 0.0, 1.0)
        near_viable = _grow(s_viable, 2)
        m_viable[~near_viable] = 0.0
        m_viable = _keep_connected(m_viable, s_viable)
        pts_v = contour_points(m_viable, 0.5, offset, mask=s_viable)
        if necrotic_hu is not None:
            pts_v = _refine_viable_points(
                pts_v, m_whole, s_sm, s_viable, 0.5 * (viable_hu + necrotic_hu), offset
            )
        viable_d, viable_p = longest_axial_diameter(pts_v, volume)
        viable_mask = (m_viable >= 0.5) & near_viable
        viable_ml = float(m_viable.sum()) * voxel_ml
    else:
        viable_d, viable_p = Diameter.empty(), Diameter.empty()
        viable_mask = np.zeros(s_sm.shape, dtype=bool)
        viable_ml = 0.0

    if viable_d.length_mm > whole_d.length_mm:
        # The whole lesion contains its viable part, so its longest diameter cannot be shorter;
        # the two outlines are placed independently to sub-pixel precision and may disagree by a
        # fraction of a pixel. Report the viable diameter as the whole lesion's too, and say so.
        notes.append(
            f"whole-lesion outline measured {whole_d.length_mm:.2f} mm, under the viable "
            f"{viable_d.length_mm:.2f} mm: whole diameter set to the viable one"
        )
        whole_d = viable_d
    evidence = ViableEvidence(
        parenchyma_hu=parenchyma,
        noise_sd_hu=noise_raw,
        threshold_hu=lesion.threshold,
        necrosis_threshold_hu=lesion.necrosis_threshold,
        lesion_hu=lesion_hu,
        viable_hu=viable_hu,
        necrotic_hu=necrotic_hu,
        seed_hu=seed_hu,
        box_mm=box_mm,
        notes=tuple(notes),
    )
    result = ViableMeasurement(
        viable_mask=viable_mask,
        whole_mask=whole_mask,
        offset=tuple(int(v) for v in offset),  # type: ignore[arg-type]
        viable=viable_d,
        whole=whole_d,
        viable_perpendicular=viable_p,
        whole_perpendicular=whole_p,
        viable_volume_ml=viable_ml,
        whole_volume_ml=whole_ml,
        seed_voxel=tuple(lesion.seed[i] + lo[i] for i in range(3)),  # type: ignore[arg-type]
        evidence=evidence,
        settings=settings,
    )
    return result, touches
