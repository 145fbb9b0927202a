"""Per-slice comparison of one-click results with the expert mask on a stress variant (issue 11).

For one IRCADb tumour on one variant of :mod:`bench_stress` (the same degradation, the same
seeded prompts), every prompt is measured and, slice by slice over the union of the expert's and
the result's slices, the expert's and the result's area (mm2), longest in-plane diameter (mm,
the expert masks' edge convention) and Dice are printed. It shows where a result stops through
the slices, on which slice its diameter is taken and whether it is too small or too large there
(w18-t04slice: IRCADb 04's texture outlines). No measurement is changed by it. Run:
``.venv/bin/python benchmarks/bench_texstack_slices.py --seed 3 --variant "noise 30 HU"
--tumour livertumor04 [--kind random] [--voxel Z Y X]``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_stress import VARIANTS, load_case

from lesion_tool.errors import LesionToolError
from lesion_tool.measurement import LesionPrompt, measure_lesion
from lesion_tool.measurement.diameter import (
    boundary_points,
    longest_axial_diameter,
)
from lesion_tool.measurement.evaluation import _prompts, expert_tumours
from lesion_tool.measurement.masks import mask_from_array
from lesion_tool.measurement.stress import degrade


def slice_diameter(mask2d: np.ndarray, z: int, volume) -> float:
    """Longest in-plane diameter (mm) of one slice of a mask (0 when empty)."""
    if not mask2d.any():
        return 0.0
    pts = boundary_points(mask2d[None])
    pts[:, 0] = z
    return longest_axial_diameter(pts, volume)[0].length_mm


def per_slice(volume, expert: np.ndarray, result: np.ndarray) -> list[str]:
    """One line per slice holding the expert's or the result's mask."""
    px = float(volume.spacing_mm[1] * volume.spacing_mm[2])
    zs = np.nonzero(expert.any(axis=(1, 2)) | result.any(axis=(1, 2)))[0]
    out = []
    for z in zs:
        e, r = expert[z], result[z]
        dice = 2.0 * float((e & r).sum()) / max(int(e.sum() + r.sum()), 1)
        out.append(
            f"  slice {z:3d}  expert {e.sum() * px:6.0f} mm2 {slice_diameter(e, z, volume):5.1f} mm"
            f"  | result {r.sum() * px:6.0f} mm2 {slice_diameter(r, z, volume):5.1f} mm"
            f"  Dice {dice:.2f}"
        )
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--variant", choices=list(VARIANTS), default="original")
    ap.add_argument("--tumour", default="livertumor04")
    ap.add_argument("--kind", choices=["deepest", "random", "line"], default=None)
    ap.add_argument("--clicks", type=int, default=2)
    ap.add_argument("--voxel", type=int, nargs=3, default=None, help="a click of your own")
    args = ap.parse_args()

    image, tumours, liver, vessels = load_case()
    kw = VARIANTS[args.variant]
    vol, masks, _ = degrade(image, tumours, liver, vessels, seed=args.seed, **kw)
    phase = "arterial" if kw.get("enhance") else "portal-venous"
    names = [f"livertumor0{i}" for i in range(1, 8)]
    mvs = [
        mask_from_array(m.astype(np.uint8), vol, names={1: n})
        for m, n in zip(masks, names, strict=True)
        if m.any()
    ]
    experts = [t for t in expert_tumours(mvs, vol) if t.diameter_mm >= 5.0]
    expert = np.asarray(masks[names.index(args.tumour)], dtype=bool)
    # The bench's prompts, drawn in the bench's order so that the seeded ones are the same.
    rng = np.random.default_rng(args.seed)
    prompts = []
    for t in experts:
        for kind, prompt in _prompts(t, args.clicks, True, rng, vol.spacing_mm):
            if t.name == args.tumour and args.kind in (None, kind):
                prompts.append((kind, prompt, t.diameter_mm))
    if args.voxel is not None:
        truth = next(t.diameter_mm for t in experts if t.name == args.tumour)
        prompts = [("voxel", LesionPrompt(seed=tuple(args.voxel)), truth)]
    for kind, prompt, truth in prompts:
        where = prompt.seed if prompt.line is None else prompt.line
        print(f"{args.tumour} {kind} {where} (expert {truth:.1f} mm)")
        try:
            r = measure_lesion(vol, prompt, phase=phase)
        except LesionToolError as err:
            print(f"  refused: {err}")
            continue
        print(f"  {r.whole.length_mm:.1f} mm on slice {r.whole.slice_index}")
        for f in r.flags:
            print(f"  flag: {f}")
        print("\n".join(per_slice(vol, expert, r.full_mask(vol.shape))))


if __name__ == "__main__":
    main()
