"""Where the expert's border lies on a tumour's edge profile (issue 11, w14-edge).

For each IRCADb patient 1 tumour (``../shared/data/ircadb/3Dircadb1.1``) and stress variant
(:mod:`lesion_tool.measurement.stress`, noise left out: it does not move a median), the median
HU at each 0.5 mm of in-plane signed distance to the expert mask's border (negative inside;
the middle half of the tumour's slices; outside, liver only, away from the other tumours and,
on the thin slices, from the vessels), and where that median profile crosses 50, 25, 10 and 5 %
of the contrast from the liver's value (mm; 0 is the expert's border). The lesion's value is the
median 3-6 mm inside, the liver's 5-8 mm outside.

Run: ``.venv/bin/python benchmarks/bench_edge_profile.py [VARIANT ...]`` (about a minute each).
"""

from __future__ import annotations

import argparse

import numpy as np
from bench_stress import VARIANTS, load_case
from scipy import ndimage

from lesion_tool.measurement.stress import degrade

BINS = np.arange(-6.0, 8.01, 0.5)
LEVELS = (0.5, 0.25, 0.10, 0.05)


def profile(arr, mask, liver, others, vessels, spacing) -> np.ndarray:
    """Median HU per BINS interval of signed in-plane distance to ``mask``'s border."""
    sy, sx = spacing[1:]
    vals: list[list[float]] = [[] for _ in range(len(BINS) - 1)]
    zs = np.nonzero(mask.any(axis=(1, 2)))[0]
    if len(zs) > 3:
        zs = zs[len(zs) // 4 : len(zs) - len(zs) // 4]
    for z in zs:
        m = mask[z]
        sd = np.where(
            m,
            -ndimage.distance_transform_edt(m, sampling=(sy, sx)) + sy / 2,
            ndimage.distance_transform_edt(~m, sampling=(sy, sx)) - sy / 2,
        )
        ok = (m | (liver[z] & ~others[z])) & (sd >= BINS[0]) & (sd < BINS[-1])
        if spacing[0] < 2.0:
            for v in vessels:
                ok &= ~v[z] | m
        b = np.digitize(sd[ok], BINS) - 1
        for k, v in zip(b, arr[z][ok], strict=True):
            vals[k].append(float(v))
    return np.array([np.median(v) if len(v) > 20 else np.nan for v in vals])


def crossings(med: np.ndarray) -> tuple[float, float, list[float]]:
    """Lesion and liver values and where the profile crosses each of LEVELS (mm)."""
    ctr = (BINS[:-1] + BINS[1:]) / 2
    deep = med[(ctr <= -3) & (ctr >= -6)]
    inner = float(np.nanmedian(deep)) if np.isfinite(deep).any() else float(np.nanmin(med))
    outer = float(np.nanmedian(med[ctr >= 5]))
    s = np.sign(inner - outer)
    out = []
    for f in LEVELS:
        lvl = outer + f * (inner - outer)
        x = float("nan")
        for i in range(len(ctr) - 1):
            if s * (med[i] - lvl) >= 0 and s * (med[i + 1] - lvl) < 0:
                x = float(ctr[i] + (med[i] - lvl) / (med[i] - med[i + 1]) * 0.5)
                break
        out.append(x)
    return inner, outer, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("variants", nargs="*", default=["original", "hyper", "5 mm"])
    args = ap.parse_args()
    image, tumours, liver, vessels = load_case()
    print("| variant | tumour | lesion HU | liver HU | 50 % | 25 % | 10 % | 5 % |")
    print("|---|---|---|---|---|---|---|---|")
    for name in args.variants:
        kw = {k: v for k, v in VARIANTS[name].items() if k != "noise_sd_hu"}
        vol, masks, liv = degrade(image, tumours, liver, vessels, seed=0, **kw)
        arr = np.asarray(vol.array, dtype=np.float32)
        ves = [np.asarray(v, dtype=bool) for v in vessels]
        for i, m in enumerate(masks):
            if not m.any():
                continue
            others = np.zeros_like(m)
            for j, o in enumerate(masks):
                if j != i:
                    others |= o
            med = profile(arr, m, liv, others, ves, vol.spacing_mm)
            inner, outer, xs = crossings(med)
            cells = " | ".join(f"{x:+.1f}" for x in xs)
            print(f"| {name} | {i + 1:02d} | {inner:.0f} | {outer:.0f} | {cells} |")


if __name__ == "__main__":
    main()
