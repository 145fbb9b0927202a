"""Register a follow-up (or another series of the patient) to the baseline series with SimpleITK.

Rigid, then affine, then a B-spline deformation, each multi-resolution with Mattes mutual
information (so an arterial baseline can be matched to a portal-venous series), on copies of the
images block-averaged to about :data:`DEFAULT_SPACING_MM` (speed: the full 512 x 512 x 300 grid
is never registered). The metric is restricted to a soft-tissue mask of the body estimated from
the baseline image (never an expert mask), narrowed to a box around the baseline targets when
their positions are given: the liver region, so the spine and the body wall, which do not follow
the liver's breathing, weigh less.

Speed and reproducibility: the metric samples few voxels at the finest level of each stage (a
fixed count for the B-spline stage, which dominates) and runs on one thread, so the same pair
always gives the same transform (a 512 x 512 x 300 follow-up: ~4 s CPU, see
``benchmarks/bench_propagate.py``).

The result maps baseline points to follow-up points: ``transform.TransformPoint(p_baseline)``
with ``p`` in LPS millimetres. Conventions: arrays ``(z, y, x)``; points LPS mm ``(L, P, S)``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Generator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import SimpleITK as sitk

from lesion_tool.io.sitk import to_sitk
from lesion_tool.io.volume import CTVolume

__all__ = [
    "DEFAULT_SPACING_MM",
    "STAGES",
    "Registration",
    "RegistrationSettings",
    "iter_register_series",
    "register_series",
    "soft_tissue_mask",
    "transform_from_dict",
    "transform_to_dict",
]

DEFAULT_SPACING_MM = 3.0
"""Voxel size (mm) the images are block-averaged to before registration."""

METHOD_VERSION = 2
"""Bumped when the registration changes, so cached results of an older method are not reused.
2: per-level metric sampling, one metric thread (reproducible), fewer rigid/affine samples."""


@dataclass(frozen=True)
class RegistrationSettings:
    """Knobs of :func:`register_series` (defaults tuned on synthetic and IRCADb cases).

    Speed (``benchmarks/bench_propagate.py``): the metric's cost is proportional to the
    number of voxels it samples, so the finest level of each stage samples the fewest.
    """

    spacing_mm: float = DEFAULT_SPACING_MM
    focus_margin_mm: float = 60.0
    """Margin around the targets' bounding box of the metric mask (mm)."""
    bspline_spacing_mm: float = 50.0
    """Control point spacing of the B-spline grid (mm)."""
    rigid_iterations: int = 60
    affine_iterations: int = 60
    bspline_iterations: int = 18
    sampling: tuple[float, ...] = (0.15, 0.08, 0.04)
    """Share of mask voxels the rigid stage's metric samples at each of its levels (coarse to
    fine; random, seeded); the affine stage uses the last two."""
    bspline_samples: tuple[int, ...] = (1500, 4000)
    """Voxels the B-spline stage's metric samples at each of its two levels (random, seeded,
    in the mask). A count, not a share: the stage's cost is ~10 microseconds a sample and
    evaluation (most of a registration's time) and its accuracy depends on the count, so a
    large series costs no more than a small one."""
    seed: int = 7
    threads: int = 1
    """ITK threads of each registration stage (0: ITK's default). One makes a registration
    reproducible to the last bit: with two, ITK's sums across threads (in the order they
    finish) differ in the last digits from run to run, and the optimisers amplify that into
    transforms a millimetre apart. The image preparation (deterministic) keeps ITK's default."""

    def __post_init__(self) -> None:
        # JSON (the cache) gives lists back: keep the tuples hashable and comparable
        for name, kind in (("sampling", float), ("bspline_samples", int)):
            value = getattr(self, name)
            if isinstance(value, (int, float)):
                value = (value,)
            object.__setattr__(self, name, tuple(kind(v) for v in value))

    def to_dict(self) -> dict[str, Any]:
        """The settings as JSON (stored with a cached result)."""
        return {
            k: list(v) if isinstance(v, tuple) else v
            for k in self.__dataclass_fields__
            for v in [getattr(self, k)]
        }


@dataclass
class Registration:
    """A baseline-to-follow-up mapping with what it was computed from.

    ``transform`` maps a baseline LPS point (mm) to the matching follow-up LPS point.
    """

    transform: sitk.Transform
    fixed_series_uid: str
    moving_series_uid: str
    metric: dict[str, float] = field(default_factory=dict)
    """Final metric value of each stage (Mattes MI, lower is better) and the cumulative seconds
    at the end of each (``t_prep``, ``t_rigid``, ...)."""
    seconds: float = 0.0
    settings: RegistrationSettings = field(default_factory=RegistrationSettings)

    def map_points(self, lps_mm: Sequence[Sequence[float]]) -> np.ndarray:
        """Follow-up LPS mm ``(n, 3)`` of baseline LPS mm points ``(n, 3)``."""
        return np.array(
            [self.transform.TransformPoint(tuple(float(v) for v in p)) for p in lps_mm],
            dtype=float,
        ).reshape(-1, 3)

    def map_points_back(
        self, lps_mm: Sequence[Sequence[float]], *, tol_mm: float = 0.01, max_iter: int = 30
    ) -> np.ndarray:
        """Baseline LPS mm ``(n, 3)`` of follow-up LPS mm points ``(n, 3)`` (the inverse map).

        The B-spline part has no closed-form inverse: each point is found by fixed-point
        iteration ``p <- p + (q - T(p))`` from ``q``, which converges for the smooth, small
        deformations registration gives (its step is the residual). Iteration stops at
        ``tol_mm`` residual or ``max_iter`` steps (the residual is then left, a fraction of a
        millimetre for any deformation the checks accept).
        """
        targets = np.asarray(lps_mm, dtype=float).reshape(-1, 3)
        out = targets.copy()
        for i, q in enumerate(targets):
            p = q.copy()
            for _ in range(max_iter):
                residual = q - np.asarray(self.transform.TransformPoint(tuple(p)))
                p = p + residual
                if float(np.abs(residual).max()) < tol_mm:
                    break
            out[i] = p
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (transform parameters included) for the sidecar cache."""
        return {
            "method": "sitk-rigid-affine-bspline",
            "method_version": METHOD_VERSION,
            "fixed_series_uid": self.fixed_series_uid,
            "moving_series_uid": self.moving_series_uid,
            "direction": "baseline LPS mm -> follow-up LPS mm",
            "metric": {k: round(v, 6) for k, v in self.metric.items()},
            "seconds": round(self.seconds, 2),
            "settings": self.settings.to_dict(),
            "transform": transform_to_dict(self.transform),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Registration:
        """Rebuild a registration written by :meth:`to_dict`."""
        return cls(
            transform=transform_from_dict(data["transform"]),
            fixed_series_uid=str(data.get("fixed_series_uid", "")),
            moving_series_uid=str(data.get("moving_series_uid", "")),
            metric={k: float(v) for k, v in data.get("metric", {}).items()},
            seconds=float(data.get("seconds", 0.0)),
            settings=RegistrationSettings(**data.get("settings", {})),
        )


# -- images and masks -------------------------------------------------------------------------


def _downsampled(volume: CTVolume, spacing_mm: float) -> sitk.Image:
    """The volume block-averaged (BinShrink: no aliasing, fast) to about ``spacing_mm``,
    clamped to -300..400 HU so air and bone do not dominate the histogram, float32.

    Shrunk before the cast to float (a 512 x 512 x 300 int16 series is not copied to float32
    whole); an integer series' block means are rounded to 1 HU, far below what matters here."""
    image = to_sitk(volume)
    factors = [max(1, round(spacing_mm / s)) for s in image.GetSpacing()]
    if any(f > 1 for f in factors):
        image = sitk.BinShrink(image, factors)
    image = sitk.Cast(image, sitk.sitkFloat32)
    return sitk.Clamp(image, sitk.sitkFloat32, -300.0, 400.0)


def soft_tissue_mask(image: sitk.Image) -> sitk.Image:
    """Soft tissue (-60..300 HU) inside the body (largest connected object above -400 HU),
    slightly dilated, as a uint8 mask. Estimated from the image alone."""
    body = sitk.BinaryThreshold(image, -400.0, 1e6, 1, 0)
    body = sitk.RelabelComponent(sitk.ConnectedComponent(body), sortByObjectSize=True) == 1
    body = sitk.BinaryErode(body, [2, 2, 0])  # keep off the skin-air edge (does not breathe)
    soft = sitk.BinaryThreshold(image, -60.0, 300.0, 1, 0) & body
    return sitk.Cast(sitk.BinaryDilate(soft, [1, 1, 1]), sitk.sitkUInt8)


def _focus(mask: sitk.Image, points_lps: np.ndarray | None, margin_mm: float) -> sitk.Image:
    """``mask`` restricted to the box around ``points_lps`` grown by ``margin_mm``."""
    if points_lps is None or len(points_lps) == 0:
        return mask
    lo = points_lps.min(axis=0) - margin_mm
    hi = points_lps.max(axis=0) + margin_mm
    corners = np.array(
        [[x, y, z] for x in (lo[0], hi[0]) for y in (lo[1], hi[1]) for z in (lo[2], hi[2])]
    )
    idx = np.array([mask.TransformPhysicalPointToContinuousIndex(tuple(c)) for c in corners])
    size = np.array(mask.GetSize())
    i0 = np.clip(np.floor(idx.min(axis=0)).astype(int), 0, size - 1)
    i1 = np.clip(np.ceil(idx.max(axis=0)).astype(int) + 1, 1, size)
    arr = sitk.GetArrayFromImage(mask)
    box = np.zeros_like(arr)
    box[i0[2] : i1[2], i0[1] : i1[1], i0[0] : i1[0]] = 1
    out = sitk.GetImageFromArray(arr * box)
    out.CopyInformation(mask)
    if int(out.GetNumberOfPixels()) and not (arr * box).any():
        return mask  # the targets lie outside the body mask (should not happen): use it all
    return out


# -- registration ------------------------------------------------------------------------------


def _crop_to_mask(image: sitk.Image, mask: sitk.Image) -> tuple[sitk.Image, sitk.Image]:
    """``image`` and ``mask`` cropped to the mask's bounding box plus two voxels: the metric only
    samples the mask, and the B-spline grid then covers just the region that matters."""
    stats = sitk.LabelShapeStatisticsImageFilter()
    stats.Execute(mask)
    if not stats.HasLabel(1):
        return image, mask
    box = stats.GetBoundingBox(1)
    lo = [max(0, box[i] - 2) for i in range(3)]
    hi = [min(image.GetSize()[i], box[i] + box[i + 3] + 2) for i in range(3)]
    size = [h - lo_ for lo_, h in zip(lo, hi, strict=True)]
    return sitk.RegionOfInterest(image, size, lo), sitk.RegionOfInterest(mask, size, lo)


def _method(settings: RegistrationSettings, mask: sitk.Image, sampling: Sequence[float]) -> Any:
    """A registration method: Mattes MI sampled at random (seeded) in ``mask``, ``sampling`` the
    share of mask voxels at each level."""
    reg = sitk.ImageRegistrationMethod()
    reg.SetMetricAsMattesMutualInformation(numberOfHistogramBins=32)
    reg.SetMetricSamplingStrategy(reg.RANDOM)
    reg.SetMetricSamplingPercentagePerLevel([float(v) for v in sampling], settings.seed)
    reg.SetMetricFixedMask(mask)
    reg.SetInterpolator(sitk.sitkLinear)
    return reg


_THREADS = threading.Lock()


def _execute(reg: Any, fixed: sitk.Image, moving: sitk.Image, threads: int) -> None:
    """Run a registration method with ITK's default thread count set to ``threads`` (0: left
    as is). The method's own ``SetNumberOfThreads`` does not reach every ITK object it makes
    (the runs still differed with it alone), so the process-wide default is set for the run
    and restored; a lock keeps two registrations from interleaving that. Other ITK filters
    started meanwhile in another thread run on that many threads too (slower, never wrong)."""
    if threads <= 0:
        reg.Execute(fixed, moving)
        return
    reg.SetNumberOfThreads(int(threads))
    with _THREADS:
        before = sitk.ProcessObject_GetGlobalDefaultNumberOfThreads()
        sitk.ProcessObject_SetGlobalDefaultNumberOfThreads(int(threads))
        try:
            reg.Execute(fixed, moving)
        finally:
            sitk.ProcessObject_SetGlobalDefaultNumberOfThreads(before)


def _levels(sampling: Sequence[float], n: int) -> list[float]:
    """The last ``n`` of the per-level samplings (the finest levels), the coarsest repeated
    when fewer are given."""
    values = [float(v) for v in sampling][-n:]
    return [values[0]] * (n - len(values)) + values


STAGES = ("prepare", "rigid", "affine", "bspline")
"""The stages :func:`iter_register_series` reports, in order."""


def register_series(
    baseline: CTVolume,
    follow_up: CTVolume,
    *,
    focus_lps: Sequence[Sequence[float]] | None = None,
    settings: RegistrationSettings | None = None,
) -> Registration:
    """Register ``follow_up`` to ``baseline``: rigid, affine, then B-spline (SimpleITK).

    See :func:`iter_register_series` (the same, reporting each stage as it starts).
    """
    stages = iter_register_series(baseline, follow_up, focus_lps=focus_lps, settings=settings)
    while True:
        try:
            next(stages)
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]


def iter_register_series(
    baseline: CTVolume,
    follow_up: CTVolume,
    *,
    focus_lps: Sequence[Sequence[float]] | None = None,
    settings: RegistrationSettings | None = None,
) -> Generator[str, None, Registration]:
    """Register ``follow_up`` to ``baseline``: rigid, affine, then B-spline (SimpleITK).

    A generator: it yields the name of each stage (:data:`STAGES`) as it starts, so a caller can
    show progress (the plugin's worker thread does), and returns the :class:`Registration`
    (``result = yield from iter_register_series(...)``).

    Parameters
    ----------
    baseline
        The fixed series (the baseline arterial series the targets were measured on).
    follow_up
        The moving series (a later visit, or another phase of the patient).
    focus_lps
        Baseline LPS mm points (e.g. the targets' seeds) the metric mask is centred on; the whole
        soft-tissue mask of the body when None.
    settings
        :class:`RegistrationSettings` (defaults when None).

    Returns
    -------
    Registration
        Its ``transform`` maps baseline LPS mm to follow-up LPS mm.
    """
    settings = settings or RegistrationSettings()
    t0 = time.perf_counter()
    yield STAGES[0]
    fixed = _downsampled(baseline, settings.spacing_mm)
    moving = _downsampled(follow_up, settings.spacing_mm)
    points = None if focus_lps is None else np.asarray(focus_lps, dtype=float).reshape(-1, 3)
    mask = _focus(soft_tissue_mask(fixed), points, settings.focus_margin_mm)
    fixed, mask = _crop_to_mask(fixed, mask)
    metric: dict[str, float] = {"t_prep": time.perf_counter() - t0}

    # 1. rigid: centre of rotation at the middle of the mask; start from identity in LPS (the
    #    series share the patient coordinate system, as a scanner's table coordinates do).
    stats = sitk.LabelShapeStatisticsImageFilter()
    stats.Execute(mask)
    centre = (
        stats.GetCentroid(1)
        if stats.HasLabel(1)
        else fixed.TransformContinuousIndexToPhysicalPoint([s / 2.0 for s in fixed.GetSize()])
    )
    yield STAGES[1]
    rigid = sitk.Euler3DTransform()
    rigid.SetCenter(centre)
    reg = _method(settings, mask, _levels(settings.sampling, 3))
    reg.SetOptimizerAsRegularStepGradientDescent(
        learningRate=4.0,
        minStep=0.05,
        numberOfIterations=settings.rigid_iterations,
        relaxationFactor=0.6,
    )
    reg.SetOptimizerScalesFromPhysicalShift()
    reg.SetShrinkFactorsPerLevel([4, 2, 1])
    reg.SetSmoothingSigmasPerLevel([2.0, 1.0, 0.0])
    reg.SmoothingSigmasAreSpecifiedInPhysicalUnitsOff()
    reg.SetInitialTransform(rigid, inPlace=True)
    _execute(reg, fixed, moving, settings.threads)
    metric["rigid"] = reg.GetMetricValue()
    metric["t_rigid"] = time.perf_counter() - t0

    # 2. affine from the rigid result (liver volume change, anisotropic breathing compression).
    yield STAGES[2]
    affine = sitk.AffineTransform(3)
    affine.SetCenter(rigid.GetCenter())
    affine.SetMatrix(rigid.GetMatrix())
    affine.SetTranslation(rigid.GetTranslation())
    reg = _method(settings, mask, _levels(settings.sampling, 2))
    reg.SetOptimizerAsRegularStepGradientDescent(
        learningRate=2.0,
        minStep=0.02,
        numberOfIterations=settings.affine_iterations,
        relaxationFactor=0.6,
    )
    reg.SetOptimizerScalesFromPhysicalShift()
    reg.SetShrinkFactorsPerLevel([2, 1])
    reg.SetSmoothingSigmasPerLevel([1.0, 0.0])
    reg.SmoothingSigmasAreSpecifiedInPhysicalUnitsOff()
    reg.SetInitialTransform(affine, inPlace=True)
    _execute(reg, fixed, moving, settings.threads)
    metric["affine"] = reg.GetMetricValue()
    metric["t_affine"] = time.perf_counter() - t0

    # 3. B-spline on top of the affine (the liver slides along the body wall with breathing).
    yield STAGES[3]
    extent = [sz * sp for sz, sp in zip(fixed.GetSize(), fixed.GetSpacing(), strict=True)]
    mesh = [max(1, round(e / settings.bspline_spacing_mm)) for e in extent]
    bspline = sitk.BSplineTransformInitializer(fixed, mesh, order=3)
    shrink = [2, 1]
    in_mask = float(sitk.GetArrayViewFromImage(mask).sum())
    samples = _levels(settings.bspline_samples, 2)
    sampling = [
        min(1.0, n * f**3 / max(in_mask, 1.0)) for n, f in zip(samples, shrink, strict=True)
    ]
    reg = _method(settings, mask, sampling)
    reg.SetMovingInitialTransform(affine)
    reg.SetInitialTransform(bspline, inPlace=True)
    reg.SetOptimizerAsLBFGSB(
        gradientConvergenceTolerance=1e-5,
        numberOfIterations=settings.bspline_iterations,
        maximumNumberOfCorrections=5,
        maximumNumberOfFunctionEvaluations=2 * settings.bspline_iterations,
        costFunctionConvergenceFactor=1e7,
    )
    reg.SetShrinkFactorsPerLevel(shrink)
    reg.SetSmoothingSigmasPerLevel([1.0, 0.0])
    reg.SmoothingSigmasAreSpecifiedInPhysicalUnitsOff()
    _execute(reg, fixed, moving, settings.threads)
    metric["bspline"] = reg.GetMetricValue()
    metric["t_bspline"] = time.perf_counter() - t0

    composite = sitk.CompositeTransform([affine, bspline])  # applied right to left: B, then A
    return Registration(
        transform=composite,
        fixed_series_uid=baseline.series_instance_uid,
        moving_series_uid=follow_up.series_instance_uid,
        metric=metric,
        seconds=time.perf_counter() - t0,
        settings=settings,
    )


# -- JSON form of transforms -------------------------------------------------------------------


def _leaf_to_dict(t: sitk.Transform) -> dict[str, Any]:
    name = t.GetName()
    if name.startswith("AffineTransform"):
        kind = "affine"
    elif name.startswith("BSplineTransform"):
        kind = "bspline"
    elif name.startswith("Euler3DTransform"):
        kind = "euler3d"
    elif name.startswith("TranslationTransform"):
        kind = "translation"
    else:
        raise ValueError(f"Cannot store a {name} as JSON.")
    return {
        "type": kind,
        "fixed_parameters": [float(v) for v in t.GetFixedParameters()],
        "parameters": [round(float(v), 5) for v in t.GetParameters()],
    }


def transform_to_dict(transform: sitk.Transform) -> dict[str, Any]:
    """A JSON-able description (ITK parameters) of an affine/B-spline/composite transform.

    ``components`` are listed in the order SimpleITK's CompositeTransform holds them (the last is
    applied first to a point).
    """
    if transform.GetName().startswith("CompositeTransform"):
        comp = sitk.CompositeTransform(transform)
        leaves = [comp.GetNthTransform(i).Downcast() for i in range(comp.GetNumberOfTransforms())]
    else:
        leaves = [transform.Downcast()]
    return {"type": "composite", "components": [_leaf_to_dict(t) for t in leaves]}


def transform_from_dict(data: dict[str, Any]) -> sitk.Transform:
    """Rebuild a transform written by :func:`transform_to_dict`."""
    leaves: list[sitk.Transform] = []
    for comp in data["components"]:
        kind = comp["type"]
        if kind == "affine":
            t: sitk.Transform = sitk.AffineTransform(3)
        elif kind == "euler3d":
            t = sitk.Euler3DTransform()
        elif kind == "translation":
            t = sitk.TranslationTransform(3)
        elif kind == "bspline":
            t = sitk.BSplineTransform(3, 3)
        else:
            raise ValueError(f"Unknown transform type {kind!r} in a stored registration.")
        t.SetFixedParameters(tuple(float(v) for v in comp["fixed_parameters"]))
        t.SetParameters(tuple(float(v) for v in comp["parameters"]))
        leaves.append(t)
    return sitk.CompositeTransform(leaves)
