"""Real anatomy degraded the way other scans differ, with the expert masks transformed alike.

A stress evaluation of the semi-automatic measurement: a real expert-masked CT (IRCADb: 1.6 mm
slices, portal venous, hypo-attenuating tumours) is turned into what arterial-phase HCC studies
look like, one property at a time and combined, so that the method can be judged on what it has
never been tuned on:

- :func:`thick_slices`: slabs of 2.5-5 mm (each output slice the overlap-weighted mean of the
  input slices it covers: partial volume); the masks are resampled with the same weights and
  kept where at least half of the slab is tumour, and truth diameters are recomputed from them.
- :func:`add_noise`: white Gaussian noise that brings the parenchyma's voxel SD to a target
  (added in quadrature to the image's own, measured by :func:`liver_noise_sd`).
- :func:`enhance_tumours`: a semi-synthetic arterial look. Each hypo-attenuating tumour's voxels
  are reflected around the local liver value (``liver + k * (liver - value)``): its real shape
  and texture, hyper-enhancing. With ``core_fraction`` the deep part of each tumour keeps its
  original (darker) values: a necrotic core inside an enhancing rim.

Arrays are ``(z, y, x)``; masks boolean on the volume's grid; lengths in millimetres, values HU.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace

import numpy as np
from scipy import ndimage

from lesion_tool.io.volume import CTVolume
from lesion_tool.measurement.enhancement import robust_sd
from lesion_tool.measurement.raster import padded_box

__all__ = [
    "add_noise",
    "degrade",
    "enhance_tumours",
    "liver_noise_sd",
    "parenchyma",
    "thick_slices",
]

VESSEL_MARGIN_MM = 2.0
"""Vessels (and tumours) are dilated by this before the parenchyma is sampled."""
SHELL_MM = (2.0, 10.0)
"""The local liver value of a tumour: median parenchyma this far outside its mask."""


def _check(volume: CTVolume, masks: Sequence[np.ndarray]) -> None:
    for m in masks:
        if tuple(m.shape) != tuple(volume.shape):
            raise ValueError(
                f"A mask of shape {tuple(m.shape)} is not on the volume's grid {volume.shape}."
            )


def parenchyma(
    volume: CTVolume, liver: np.ndarray, others: Sequence[np.ndarray] = ()
) -> np.ndarray:
    """Liver voxels away from the tumours and vessels in ``others`` (each dilated by
    VESSEL_MARGIN_MM) and from the liver's surface (eroded by the same)."""
    _check(volume, [liver, *others])
    sp = volume.spacing_mm
    box = ndimage.find_objects(liver.view(np.uint8))
    keep = np.zeros(liver.shape, dtype=bool)
    if not box:
        return keep
    pad = [math.ceil(VESSEL_MARGIN_MM / s) + 1 for s in sp]
    sl = padded_box(box[0], pad, liver.shape)
    other = np.zeros(liver[sl].shape, dtype=bool)
    for m in others:
        other |= m[sl]
    inner = ndimage.distance_transform_edt(liver[sl], sampling=sp) > VESSEL_MARGIN_MM
    if other.any():
        inner &= ndimage.distance_transform_edt(~other, sampling=sp) > VESSEL_MARGIN_MM
    keep[sl] = inner
    return keep


def liver_noise_sd(volume: CTVolume, parenchyma_mask: np.ndarray) -> float:
    """Voxel SD (HU) of the parenchyma, robust (1.4826 x MAD, vessels and specks do not count):
    the figure a reader's ROI in the liver gives."""
    v = np.asarray(volume.array, dtype=np.float32)[parenchyma_mask]
    if v.size < 100:
        raise ValueError("Too few parenchyma voxels to measure the noise.")
    return robust_sd(v)


def add_noise(
    volume: CTVolume, target_sd_hu: float, own_sd_hu: float, *, seed: int = 0
) -> CTVolume:
    """``volume`` with white Gaussian noise of ``sqrt(target^2 - own^2)`` HU added (unchanged
    when its own noise already reaches the target)."""
    add = math.sqrt(max(target_sd_hu**2 - own_sd_hu**2, 0.0))
    arr = np.asarray(volume.array, dtype=np.float32)
    if add > 0:
        rng = np.random.default_rng(seed)
        arr = arr + rng.normal(0.0, add, size=arr.shape).astype(np.float32)
    return replace(volume, array=arr)


def _slab_weights(n_in: int, spacing_in: float, thickness: float) -> np.ndarray:
    """``(n_out, n_in)`` overlap weights (rows sum to 1) of contiguous slabs of ``thickness``
    over input slices of ``spacing_in`` (each covering its own spacing)."""
    extent = n_in * spacing_in
    n_out = max(1, int(extent // thickness))
    start = (extent - n_out * thickness) / 2.0
    lo_in = np.arange(n_in) * spacing_in
    hi_in = lo_in + spacing_in
    lo_out = start + np.arange(n_out) * thickness
    hi_out = lo_out + thickness
    w = np.clip(
        np.minimum(hi_out[:, None], hi_in[None, :]) - np.maximum(lo_out[:, None], lo_in[None, :]),
        0.0,
        None,
    )
    return w / w.sum(axis=1, keepdims=True)


def thick_slices(
    volume: CTVolume, masks: Sequence[np.ndarray], thickness_mm: float
) -> tuple[CTVolume, list[np.ndarray]]:
    """Contiguous slabs of ``thickness_mm`` (spacing = thickness), each the overlap-weighted
    mean of the input slices it covers; each mask resampled with the same weights and kept
    where at least half of the slab is inside it.

    Raises
    ------
    ValueError
        ``thickness_mm`` is thinner than the input's slices, or a mask is off the grid.
    """
    _check(volume, masks)
    dz = volume.spacing_mm[0]
    if thickness_mm < dz:
        raise ValueError(f"Slabs of {thickness_mm} mm are thinner than the {dz} mm slices.")
    w = _slab_weights(volume.shape[0], dz, thickness_mm).astype(np.float32)
    arr = np.asarray(volume.array, dtype=np.float32)
    out = np.tensordot(w, arr, axes=(1, 0))
    new_masks = [np.tensordot(w, m.astype(np.float32), axes=(1, 0)) >= 0.5 for m in masks]
    # Input slice j covers [j, j + 1) * dz from the first slice's lower face; slab 0 is
    # centred at start + thickness / 2 on that scale, index (that - dz / 2) / dz.
    extent = volume.shape[0] * dz
    start = (extent - w.shape[0] * thickness_mm) / 2.0
    origin = volume.index_to_patient(np.array([(start + thickness_mm / 2.0) / dz - 0.5, 0, 0]))
    vol = replace(
        volume,
        array=out,
        spacing_mm=(float(thickness_mm), *volume.spacing_mm[1:]),
        origin_mm=tuple(float(v) for v in origin),
        slice_thickness_mm=float(thickness_mm),
        sop_instance_uids=(),
    )
    return vol, new_masks


def enhance_tumours(
    volume: CTVolume,
    tumours: Sequence[np.ndarray],
    parenchyma_mask: np.ndarray,
    *,
    k: float = 1.0,
    core_fraction: float = 0.0,
) -> CTVolume:
    """Hyper-enhancing tumours from hypo-attenuating ones: inside each mask, ``liver + k *
    (liver - value)`` with ``liver`` the median parenchyma SHELL_MM outside it, so its shape and
    texture stay real. A tumour already brighter than its liver is left as it is.

    With ``core_fraction`` > 0 the voxels deeper than that share of the tumour's greatest depth
    (3-D, mm) keep their original values: a hypo-attenuating (necrotic) core inside an enhancing
    rim.
    """
    _check(volume, [*tumours, parenchyma_mask])
    sp = volume.spacing_mm
    arr = np.asarray(volume.array, dtype=np.float32).copy()
    for m in tumours:
        box = ndimage.find_objects(m.view(np.uint8))
        if not box:
            continue
        pad = [math.ceil(SHELL_MM[1] / s) + 1 for s in sp]
        sl = padded_box(box[0], pad, volume.shape)
        mb = m[sl]
        dist_out = ndimage.distance_transform_edt(~mb, sampling=sp)
        shell = (dist_out >= SHELL_MM[0]) & (dist_out <= SHELL_MM[1]) & parenchyma_mask[sl]
        if shell.sum() < 30:
            continue
        sub = arr[sl]
        liver = float(np.median(sub[shell]))
        if float(np.median(sub[mb])) >= liver:
            continue
        change = mb.copy()
        if core_fraction > 0:
            depth = ndimage.distance_transform_edt(np.pad(mb, 1), sampling=sp)[1:-1, 1:-1, 1:-1]
            change &= depth <= core_fraction * float(depth.max())
        sub[change] = liver + k * (liver - sub[change])
        arr[sl] = sub
    return replace(volume, array=arr)


NECROTIC_CORE_FRACTION = 0.5
"""The necrotic variant: voxels deeper than half the tumour's greatest depth keep their values."""


def degrade(
    volume: CTVolume,
    tumours: Sequence[np.ndarray],
    liver: np.ndarray,
    vessels: Sequence[np.ndarray] = (),
    *,
    enhance: str | None = None,
    thickness_mm: float | None = None,
    noise_sd_hu: float | None = None,
    seed: int = 0,
) -> tuple[CTVolume, list[np.ndarray], np.ndarray]:
    """One stress variant, in the order a scanner produces it: contrast (``enhance``:
    ``"hyper"`` or ``"necrotic"``), then slabs (``thickness_mm``), then noise bringing the
    parenchyma's voxel SD to ``noise_sd_hu``. Returns the image, the tumour masks and the
    liver mask on its grid."""
    par = parenchyma(volume, liver, [*tumours, *vessels])
    if enhance is not None:
        if enhance not in ("hyper", "necrotic"):
            raise ValueError(f'Argument "enhance" must be "hyper" or "necrotic", got {enhance!r}.')
        core = NECROTIC_CORE_FRACTION if enhance == "necrotic" else 0.0
        volume = enhance_tumours(volume, tumours, par, core_fraction=core)
    masks = [np.asarray(m, dtype=bool) for m in tumours]
    if thickness_mm is not None:
        volume, resampled = thick_slices(volume, [*masks, liver, par], thickness_mm)
        masks, liver, par = resampled[:-2], resampled[-2], resampled[-1]
    if noise_sd_hu is not None:
        volume = add_noise(volume, noise_sd_hu, liver_noise_sd(volume, par), seed=seed)
    return volume, masks, liver
