"""How specific each flag is: raised on right results or on wrong ones (issue 11).

A flag that is always raised teaches the reader to ignore flags. For every flag *reason* (the
flags' texts grouped by what they say, :func:`reason`), this counts how often it is raised on
a result within tolerance (a false alarm), on one outside tolerance (of them, more than 30 % off)
and on a click where there is no tumour (plain liver, a vessel, an organ beside the liver).

Sources: IRCADb patient 1, original and every stress variant of ``bench_stress.py`` (deepest
point, 2 seeded random clicks and a rough line per tumour, and ``--negatives`` clicks in plain
liver and vessels), for each ``--seeds``; IRCADb clicks on the organs beside the liver and
HCC-TACE-Seg HCC_006 (nodule centre, interior clicks and lines against the readers' range, its
organ clicks and 40 plain-liver clicks; arterial), as the tests ask; and the synthetic cohort
(4 patients, arterial, truth masks).

Run: ``.venv/bin/python benchmarks/bench_flags.py --out DIR [--seeds 0 1] [--only NAME ...]
[--skip-hcc] [--skip-synthetic]`` writes one JSON file per source into DIR (a source already
there is not run again) and prints the table from all of DIR; ``--table-only`` just prints it.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "tests" / "core"))

REASONS: list[tuple[str, str]] = [
    ("may be the necrotic core", "dark region, enhancing tissue around (maybe a core)"),
    ("a dark (necrotic?) core", "necrotic core: whole measured"),
    ("surrounds the necrosis", "viable not across necrosis (note)"),
    ("delineated by texture", "delineated by texture"),
    ("delineated by its darker rim", "delineated by its darker rim"),
    ("lies inside a darker rim", "region inside a darker rim"),
    ("delineated by its enhancing rim", "delineated by a faint enhancing rim"),
    ("lies inside a brighter rim", "region inside a faint enhancing rim"),
    ("though it ends inside the liver", "partly outside the liver outline (kept by 3-D test)"),
    ("look like liver: at the liver", "surroundings < 80 % liver-like"),
    ("low contrast", "low contrast"),
    ("seen on", "seen on < 3 slices"),
    ("widest on its last slice", "widest on its last slice"),
    ("runs on through the slices", "runs on through the slices"),
    ("widens abruptly", "widens abruptly"),
    ("search limit", "search limit"),
    ("irregular outline", "irregular outline"),
    ("slices next to it only", "one-slice diameter"),
    ("tube-like outline", "tube-like outline"),
    ("elongated outline", "elongated outline"),
    ("times the line drawn", "disagrees with the line"),
    ("hyper-attenuating on a", "hyper on a non-arterial image"),
    ("this looks like a vessel", "tube in 3-D (vessel)"),
    ("click's slab holds its end", "slab re-levelled"),
    ("the region is flat", "flat: far less deep than wide"),
    ("measured again by texture", "texture re-clicked, median of three (note)"),
    ("the region stops where the lesion goes on", "stops on a wide end, lesion goes on"),
    ("the region is part of a larger area", "part of a larger area of its value"),
]


def reason(flag: str) -> str:
    """The reason a flag's text gives (one of REASONS' names, or "other: ...")."""
    for key, name in REASONS:
        if key in flag:
            return name
    return "other: " + flag[:40]


def _record(
    source: str, kind: str, measured, refused: str, flags, within, dangerous, seed=None, line=None
) -> dict:
    return {
        "source": source,
        "kind": kind,
        "seed": None if seed is None else [int(v) for v in seed],
        "line": None if line is None else [[float(v) for v in p] for p in line],
        "measured_mm": measured,
        "refused": refused,
        "flags": list(flags),
        "within": within,
        "dangerous": dangerous,
    }


def run_stress(name: str, seed: int, case, negatives: int) -> list[dict]:
    """One stress variant at one seed: the prompts on tumours and the clicks with none."""
    from bench_stress import run_variant

    row = run_variant(name, case, 2, seed, negatives)
    src = f"{name} s{seed}"
    out = [
        _record(
            src,
            f"{r.tumour} {r.kind}",
            r.measured_mm,
            r.refused,
            r.flags,
            None if r.refused else r.within,
            r.dangerous,
            r.seed,
            r.line,
        )
        for r in row["results"]
    ]
    out += [
        _record(src, f"negative {r.where}", r.measured_mm, r.refused, r.flags, False, True, r.seed)
        for r in row["negatives"]
    ]
    return out


def _measure(volume, prompt, phase: str):
    from lesion_tool.errors import LesionToolError
    from lesion_tool.measurement import measure_lesion

    try:
        r = measure_lesion(volume, prompt, phase=phase)
    except LesionToolError as err:
        return None, str(err), ()
    return r.whole.length_mm, "", r.flags


def run_offliver(case) -> list[dict]:
    """IRCADb clicks on the organs beside the liver (as ``test_measure_offliver`` places them)."""
    from test_measure_offliver import IRCADB_CLICKS, _ircadb_off_liver_points

    from lesion_tool.measurement import LesionPrompt

    image, _, liver, _ = case
    out = []
    for p in _ircadb_off_liver_points(image, liver, IRCADB_CLICKS):
        mm, refused, flags = _measure(image, LesionPrompt(seed=p), "arterial")
        out.append(
            _record("IRCADb off liver", "negative organ", mm, refused, flags, False, True, p)
        )
    return out


def run_hcc006(shared: Path) -> list[dict]:
    """HCC_006 (arterial): the nodule's prompts against the readers' range, and clicks with no
    lesion (organs beside the liver, plain liver)."""
    from _hcc006 import HCC_006_AP, INTERIOR_CLICKS, LINES, NODULE_CENTRE, plain_liver_clicks
    from test_measure_offliver import HCC_006_ORGANS
    from test_measure_tcia import _far_off, _within_readers

    from lesion_tool.io import load_series
    from lesion_tool.measurement import LesionPrompt

    vol = load_series(shared / HCC_006_AP)
    out = []
    prompts = [("centre", LesionPrompt(seed=NODULE_CENTRE))]
    prompts += [("interior", LesionPrompt(seed=p)) for p in INTERIOR_CLICKS]
    prompts += [("line", LesionPrompt(line=ln)) for ln in LINES]
    for kind, pr in prompts:
        mm, refused, flags = _measure(vol, pr, "arterial")
        ok = None if mm is None else _within_readers(mm)
        far = mm is not None and _far_off(mm)
        out.append(
            _record("HCC_006", f"nodule {kind}", mm, refused, flags, ok, far, pr.seed, pr.line)
        )
    for organ, p in HCC_006_ORGANS.items():
        mm, refused, flags = _measure(vol, LesionPrompt(seed=p), "arterial")
        out.append(
            _record("HCC_006", f"negative organ ({organ})", mm, refused, flags, False, True, p)
        )
    for p in plain_liver_clicks(vol, 40, 0):
        mm, refused, flags = _measure(vol, LesionPrompt(seed=p), "arterial")
        out.append(_record("HCC_006", "negative liver", mm, refused, flags, False, True, p))
    return out


def run_synthetic(patients: int = 4) -> list[dict]:
    """The synthetic cohort of ``bench_realdata.py`` (arterial, truth masks)."""
    from bench_realdata import synthetic_cohort

    from lesion_tool.measurement.evaluation import evaluate_clicks

    out = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, image, tumours in synthetic_cohort(Path(tmp), patients):
            res = evaluate_clicks(image, tumours, clicks=2, line=True, phase="arterial", seed=i)
            out += [
                _record(
                    "synthetic",
                    f"{r.tumour} {r.kind}",
                    r.measured_mm,
                    r.refused,
                    r.flags,
                    None if r.refused else r.within,
                    r.dangerous,
                )
                for r in res
            ]
    return out


def _volume_of(stem: str, case, shared: Path):
    """The image a source's records were measured on, and its phase."""
    from bench_stress import VARIANTS

    from lesion_tool.measurement.stress import degrade

    if stem.startswith("stress_"):
        name, seed = stem[len("stress_") :].rsplit("_s", 1)
        kw = VARIANTS[name.replace("_", " ")]
        image, tumours, liver, vessels = case
        vol = degrade(image, tumours, liver, vessels, seed=int(seed), **kw)[0]
        return vol, "arterial" if kw.get("enhance") else "portal-venous"
    if stem == "ircadb_offliver":
        return case[0], "arterial"
    if stem == "hcc006":
        from _hcc006 import HCC_006_AP

        from lesion_tool.io import load_series

        return load_series(shared / HCC_006_AP), "arterial"
    return None, ""


def recheck(before: Path, out: Path, reasons: list[str], case, shared: Path) -> None:
    """Copy ``before``'s records to ``out``, measuring again (with the code as it is now) every
    prompt that carried a flag of one of ``reasons``: a change that only makes those flags more
    specific leaves the others as they were. The synthetic cohort is run again whole."""
    from lesion_tool.measurement import LesionPrompt

    out.mkdir(parents=True, exist_ok=True)
    for path in sorted(before.glob("*.json")):
        target = out / path.name
        if target.exists():
            continue
        recs = json.loads(path.read_text())
        if path.stem == "synthetic":
            recs = run_synthetic()
        else:
            todo = [r for r in recs if any(reason(f) in reasons for f in r["flags"])]
            vol, phase = _volume_of(path.stem, case, shared) if todo else (None, "")
            for r in todo:
                line = None if r["line"] is None else tuple(tuple(p) for p in r["line"])
                seed = None if r["seed"] is None else tuple(r["seed"])
                mm, refused, flags = _measure(vol, LesionPrompt(seed=seed, line=line), phase)
                if mm != r["measured_mm"] or refused != r["refused"]:
                    print(f"  {path.stem} {r['kind']}: measured {r['measured_mm']} -> {mm}")
                gone = [reason(f) for f in r["flags"] if f not in flags]
                if gone:
                    print(f"  {path.stem} {r['kind']} {r['measured_mm']:.1f} mm: no longer {gone}")
                r["flags"] = list(flags)
        target.write_text(json.dumps(recs, indent=0))
        print(f"{path.stem}: rechecked", flush=True)


def _counts(records: list[dict]) -> dict[str, list[int]]:
    """Per reason: [within, outside, of them > 30 % off, no tumour, the only flag needed]."""
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    for r in records:
        if r["refused"]:
            continue
        names = sorted({reason(f) for f in r["flags"]})
        negative = r["kind"].startswith("negative")
        for name in names:
            c = counts[name]
            if negative:
                c[3] += 1
            elif r["within"]:
                c[0] += 1
            else:
                c[1] += 1
                c[2] += bool(r["dangerous"])
            c[4] += len(names) == 1 and (r["dangerous"] or negative)
    return counts


def compare(before: list[dict], after: list[dict]) -> str:
    """The table before -> after (the same prompts, measured by two versions of the code)."""
    b, a = _counts(before), _counts(after)

    def prec(c: list[int]) -> str:
        n = c[0] + c[1] + c[3]
        return f"{100 * (c[1] + c[3]) / n:.0f} %" if n else "-"

    out = [
        (
            "| flag reason | on results within | outside tolerance (> 30 % off) | no tumour | "
            "precision | only flag where needed |"
        ),
        "|---|---|---|---|---|---|",
    ]
    for name in sorted(b, key=lambda k: -(b[k][0] + b[k][1] + b[k][3])):
        x, y = b[name], a.get(name, [0, 0, 0, 0, 0])

        def ba(u: str, v: str) -> str:
            return u if u == v else f"{u} -> **{v}**"

        out.append(
            f"| {name} | {ba(str(x[0]), str(y[0]))} | {ba(f'{x[1]} ({x[2]})', f'{y[1]} ({y[2]})')}"
            f" | {ba(str(x[3]), str(y[3]))} | {ba(prec(x), prec(y))} | {ba(str(x[4]), str(y[4]))} |"
        )
    return "\n".join(out)


def table(records: list[dict]) -> str:
    """Per reason: raised on results within tolerance, outside it (> 30 % off), on clicks where
    there is no tumour; and the share of its raisings that were on a wrong result or no tumour
    (its precision)."""
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    for r in records:
        if r["refused"]:
            continue
        names = sorted({reason(f) for f in r["flags"]})
        for name in names:
            c = counts[name]
            if r["kind"].startswith("negative"):
                c[3] += 1
            elif r["within"]:
                c[0] += 1
            else:
                c[1] += 1
                c[2] += bool(r["dangerous"])
            # The only flag on a dangerous result or a click with no tumour: without it, an
            # unflagged one.
            alone = len(names) == 1 and (r["dangerous"] or r["kind"].startswith("negative"))
            c[4] += alone
    rows = sorted(counts.items(), key=lambda kv: -(kv[1][0] + kv[1][1] + kv[1][3]))
    out = [
        (
            "| flag reason | on results within | on results outside tolerance (> 30 % off) | "
            "on clicks with no tumour | precision | the only flag where one is needed |"
        ),
        "|---|---|---|---|---|---|",
    ]
    for name, (ok, bad, far, neg, alone) in rows:
        n = ok + bad + neg
        prec = 100 * (bad + neg) / n
        out.append(f"| {name} | {ok} | {bad} ({far}) | {neg} | {prec:.0f} % | {alone} |")
    measured = [r for r in records if not r["refused"] and not r["kind"].startswith("negative")]
    within = [r for r in measured if r["within"]]
    wrong = [r for r in measured if not r["within"]]
    negs = [r for r in records if not r["refused"] and r["kind"].startswith("negative")]
    unflagged_far = [r for r in measured if r["dangerous"] and not r["flags"]]
    out.append("")
    n_ok = sum(bool(r["flags"]) for r in within)
    out.append(
        f"Results within tolerance: {len(within)}, flagged {n_ok}; "
        f"outside: {len(wrong)}, flagged {sum(bool(r['flags']) for r in wrong)}; > 30 % off "
        f"unflagged: {len(unflagged_far)}; clicks with no tumour returned: {len(negs)}, "
        f"unflagged {sum(not r['flags'] for r in negs)}"
    )
    return "\n".join(out)


def main() -> None:
    from bench_stress import IRCADB, VARIANTS, load_case

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True, help="directory of per-source JSON")
    ap.add_argument("--seeds", type=int, nargs="*", default=[0, 1])
    ap.add_argument("--only", nargs="*", choices=list(VARIANTS), default=None)
    ap.add_argument("--negatives", type=int, default=40)
    ap.add_argument("--skip-stress", action="store_true")
    ap.add_argument("--skip-hcc", action="store_true")
    ap.add_argument("--skip-synthetic", action="store_true")
    ap.add_argument("--table-only", action="store_true")
    ap.add_argument("--source", nargs="*", default=None, help="tabulate only these files' stems")
    ap.add_argument("--compare", type=Path, default=None, help="print DIR -> --out, per reason")
    ap.add_argument("--recheck-from", type=Path, default=None, help="a --out of the code before")
    ap.add_argument("--reasons", nargs="*", default=[], help="the reasons --recheck-from redoes")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    shared = ROOT.parent / "shared" / "data"
    if args.compare is not None:
        stems = sorted(p.name for p in args.out.glob("*.json"))
        bef = [r for n in stems for r in json.loads((args.compare / n).read_text())]
        aft = [r for n in stems for r in json.loads((args.out / n).read_text())]
        print(compare(bef, aft))
        print()
        print(table(bef).splitlines()[-1])
        print(table(aft).splitlines()[-1])
        return
    if args.recheck_from is not None:
        recheck(args.recheck_from, args.out, args.reasons, load_case(), shared)
        args.table_only = True

    def once(stem: str, run) -> None:
        path = args.out / f"{stem}.json"
        if path.exists():
            return
        recs = run()
        path.write_text(json.dumps(recs, indent=0))
        print(f"{stem}: {len(recs)} records", flush=True)

    if not args.table_only:
        case = load_case() if IRCADB.is_dir() else None
        if case is not None and not args.skip_stress:
            for seed in args.seeds:
                for name in args.only or VARIANTS:
                    stem = f"stress_{name.replace(' ', '_')}_s{seed}"
                    once(stem, lambda n=name, s=seed: run_stress(n, s, case, args.negatives))
            once("ircadb_offliver", lambda: run_offliver(case))
        if not args.skip_hcc and shared.is_dir():
            once("hcc006", lambda: run_hcc006(shared))
        if not args.skip_synthetic:
            once("synthetic", run_synthetic)
    records = []
    for path in sorted(args.out.glob("*.json")):
        if args.source is None or path.stem in args.source:
            records += json.loads(path.read_text())
    print(table(records))


if __name__ == "__main__":
    main()
