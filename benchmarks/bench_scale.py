"""Benchmark core-lab scale as whole commands (issue 17), side by side in one run.

Every figure is a whole command in a fresh process, the way a core lab runs it, best of
``--repeat`` (default 3) with the compared commands interleaved, so that a noisy shared machine
slows both sides of a ratio alike. Wall seconds, and CPU seconds (user + system of the process
and its workers, from ``wait4``) which load on the machine disturbs much less. Rows:

1. **Start-up**: ``lesion-tool --help`` against bare ``python -c pass``.
2. **Re-scoring** 10,000 patients x 8 timepoints stored as format-v1 files (3 targets,
   2 non-targets, occasional new lesions, ``bench_response.generate_cohort``): ``lesion-tool
   rescore`` under the three presets to both CSVs;
   against the floor of reading the same files with ``json.loads`` in a loop, and against pyrecist
   0.1.0 (``Reader`` + ``Evaluator.evaluate_recist`` on the same cohort in its CSV format,
   RECIST 1.1 targets only) compared with ``rescore --criteria recist-1.1``; the same command
   on ``--workers 2``. Peak memory (RSS; with workers, the largest process's).
3. **Folder scan** of a synthetic tree (``lesion-tool synth --patients 4``: 1,544 files, 48
   series): default ``scan`` with an empty phase cache, the re-scan with the cache filled,
   ``scan --no-pixels`` and the empty-cache scan on ``--workers 2``, against SimpleITK's GDCM
   series discovery (``GetGDCMSeriesIDs`` + ``GetGDCMSeriesFileNames`` per folder). In that
   tree the portal venous and delayed series have a description and a contrast timing that
   agree, so their pixels are not read (24 of the 48 stacks); the same tree written with
   ``--neutral-descriptions`` (same files, no phase in any description) has every stack
   pixel-checked, and its empty-cache scan is a row of its own.
5. **Executor**: ``rescore`` in process, with ``--workers 2`` and on a 2-worker Dask
   ``LocalCluster`` (``--scheduler``); checks the CSVs are byte-identical.
4. **One click**: ``lesion-tool measure --image SERIES --seed Z,Y,X`` (``measure_lesion``, the
   default method) on a 512 x 512 x 300 synthetic arterial series with one lesion (its truth
   seed), as installed (each module's bytecode compiled once, in a cache of this run:
   ``PYTHONPYCACHEPREFIX``) and from source (``PYTHONDONTWRITEBYTECODE``: every lesion-tool
   module compiled at each start, as in a sandbox that forbids writing bytecode); against the
   same ``load_series(lazy=True)`` + ``measure_lesion`` timed inside one process (and the eager
   ``load_series``). With ``../shared/data`` present, the same click command on the real HCC_006
   arterial series (109 slices) and IRCADb patient 1 (129 slices).

With ``--baseline DIR`` (another checkout, e.g. the main branch before issue 17) the same
commands run from DIR too, interleaved with this checkout's, and each gets a "before" row.

Run: ``.venv/bin/python benchmarks/bench_scale.py [--patients 10000] [--repeat 3] [--keep DIR]
[--baseline DIR]``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
PY = sys.executable
ENV = {
    **os.environ,
    "PYTHONPATH": os.pathsep.join(
        [str(ROOT), str(ROOT / "plugins"), os.environ.get("PYTHONPATH", "")]
    ),
}
LESION_TOOL = [PY, "-m", "lesion_tool"]
BASELINE: dict[str, str] | None = None
"""The environment running the ``--baseline`` checkout, when given."""


def with_baseline(
    commands: dict[str, tuple[list[str], dict[str, str] | None]], names: tuple[str, ...]
) -> dict[str, tuple[list[str], dict[str, str] | None]]:
    """``commands`` plus a ``before-NAME`` twin of each of ``names`` run from the baseline."""
    if BASELINE is None:
        return commands
    out = dict(commands)
    for name in names:
        cmd, env = commands[name]
        out[f"before-{name}"] = (cmd, {**(env or ENV), "PYTHONPATH": BASELINE["PYTHONPATH"]})
    return out


def before(label: str, t: dict[str, Timing], name: str) -> list[str]:
    """The "before" row of ``name`` (and after / before), when a baseline ran."""
    if f"before-{name}" not in t:
        return []
    now, then = t[name], t[f"before-{name}"]
    ratio = (
        f"  {'':<46} after / before: {now.best / then.best:.2f}x wall, "
        f"{now.best_cpu / then.best_cpu:.2f}x cpu"
    )
    return [row(f"  before: {label}", then), ratio]


class Timing:
    """Best wall and CPU seconds and the largest peak RSS over the repeats of one command."""

    def __init__(self) -> None:
        self.wall: list[float] = []
        self.cpu: list[float] = []
        self.rss_mib = 0.0

    @property
    def best(self) -> float:
        return min(self.wall)

    @property
    def best_cpu(self) -> float:
        return min(self.cpu)


def run_once(
    cmd: list[str], env: dict[str, str] | None = None, timing: Timing | None = None
) -> Timing:
    """Run ``cmd`` (output discarded) and record its wall time, CPU time and peak RSS."""
    timing = timing or Timing()
    env = env or ENV
    # ``python -m`` imports from the working folder first: run in the checkout being measured.
    cwd = env["PYTHONPATH"].split(os.pathsep)[0]
    # stderr to a file, not a pipe: rescore's findings fill a pipe and the child would block.
    with tempfile.TemporaryFile("w+") as err_file:
        start = time.perf_counter()
        proc = subprocess.Popen(
            cmd, stdout=subprocess.DEVNULL, stderr=err_file, env=env, text=True, cwd=cwd
        )
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode not in (0, 1):
            err_file.seek(0)
            err = err_file.read()[-2000:]
            raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}): {err}")
    timing.wall.append(wall)
    timing.cpu.append(usage.ru_utime + usage.ru_stime)
    timing.rss_mib = max(timing.rss_mib, usage.ru_maxrss / 1024)
    return timing


def side_by_side(
    commands: dict[str, tuple[list[str], dict[str, str] | None]],
    repeat: int,
    before_each: Callable[[str], None] | None = None,
) -> dict[str, Timing]:
    """Each command ``repeat`` times, interleaved (a, b, c, a, b, c, ...)."""
    timings = {name: Timing() for name in commands}
    for _ in range(repeat):
        for name, (cmd, env) in commands.items():
            if before_each is not None:
                before_each(name)
            run_once(cmd, env, timings[name])
    return timings


def row(
    label: str, t: Timing, ref: Timing | None = None, ref_name: str = "", extra: str = ""
) -> str:
    ratio = (
        f"{t.best / ref.best:5.2f}x ({t.best_cpu / ref.best_cpu:5.2f}x cpu) {ref_name}"
        if ref is not None
        else ""
    )
    return (
        f"  {label:<46} {t.best:7.2f} s  cpu {t.best_cpu:6.2f} s  {t.rss_mib:6.0f} MiB  "
        f"{ratio}{extra}"
    )


# --- data -----------------------------------------------------------------------------------------


def write_cohort(folder: Path, n_patients: int) -> int:
    """The benchmark cohort as format-v1 files (no fsync: this is set-up, not the measurement)."""
    from bench_response import generate_cohort

    from lesion_tool.storage import assessment_to_dict

    folder.mkdir(parents=True, exist_ok=True)
    timepoints = 0
    for a in generate_cohort(n_patients):
        (folder / f"{a.patient_id}.json").write_text(json.dumps(assessment_to_dict(a), indent=2))
        timepoints += len(a.timepoints)
    return timepoints


def write_pyrecist_csv(folder: Path, n_patients: int) -> Path:
    from bench_response import export_pyrecist_csv, generate_cohort

    path = folder / "pyrecist.csv"
    export_pyrecist_csv(generate_cohort(n_patients), path)
    return path


def warm(folder: Path) -> None:
    for dirpath, _, files in os.walk(folder):
        for name in files:
            with open(os.path.join(dirpath, name), "rb") as handle:
                while handle.read(1 << 20):
                    pass


JSON_FLOOR = """
import json, os, sys
for d, _, fs in os.walk(sys.argv[1]):
    for f in fs:
        if f.endswith('.json'):
            with open(os.path.join(d, f), 'rb') as h:
                json.loads(h.read())
"""

PYRECIST = """
import sys
sys.path.insert(0, sys.argv[2])
from bench_response import run_pyrecist
run_pyrecist(sys.argv[1])
"""

SITK_DISCOVERY = """
import os, sys
import SimpleITK as sitk
sitk.ProcessObject_SetGlobalWarningDisplay(False)
n = 0
for d, _, _ in os.walk(sys.argv[1]):
    for sid in sitk.ImageSeriesReader.GetGDCMSeriesIDs(d):
        n += len(sitk.ImageSeriesReader.GetGDCMSeriesFileNames(d, sid))
"""

IN_PROCESS_CLICK = """
import json, sys, time
from lesion_tool.io import load_series
from lesion_tool.measurement import LesionPrompt, measure_lesion
prompt = LesionPrompt(seed=tuple(float(v) for v in sys.argv[2].split(',')))
best = best_eager = best_measure = 1e9
for _ in range(int(sys.argv[3])):
    t = time.perf_counter()
    volume = load_series(sys.argv[1], lazy=True)
    measure_lesion(volume, prompt)
    best = min(best, time.perf_counter() - t)
    t = time.perf_counter()
    volume = load_series(sys.argv[1])
    t_load = time.perf_counter() - t
    t = time.perf_counter()
    measure_lesion(volume, prompt)
    best_measure = min(best_measure, time.perf_counter() - t)
    best_eager = min(best_eager, t_load + best_measure)
print(json.dumps({"lazy": best, "eager": best_eager, "measure": best_measure}))
"""


# --- sections -------------------------------------------------------------------------------------


def bench_startup(repeat: int) -> list[str]:
    t = side_by_side(
        with_baseline(
            {
                "python": ([PY, "-c", "pass"], None),
                "help": ([*LESION_TOOL, "--help"], None),
                "import": ([PY, "-c", "import lesion_tool"], None),
            },
            ("help",),
        ),
        repeat,
    )
    return [
        "Start-up (whole command)",
        row("python -c pass", t["python"]),
        row("python -c 'import lesion_tool'", t["import"], t["python"], "python"),
        row("lesion-tool --help", t["help"], t["python"], "python", "   target < 0.5 s"),
        *before("lesion-tool --help", t, "help"),
    ]


def bytecode_env(work: Path) -> dict[str, str]:
    """:data:`ENV` with bytecode as an installed package has it.

    With PYTHONDONTWRITEBYTECODE set (as on this machine) every run compiled each module of the
    checkout again (about 0.1 s of a 0.5 s scan, 0.2 s of CPU of a rescore). Written outside
    both checkouts (``--baseline`` runs get the same); the first of the repeats writes it.
    """
    base = {k: v for k, v in ENV.items() if k != "PYTHONDONTWRITEBYTECODE"}
    base["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
    return base


def bench_rescore(work: Path, n_patients: int, repeat: int) -> list[str]:
    cohort = work / "cohort"
    if not cohort.is_dir():
        print(f"writing {n_patients} assessment files ...", file=sys.stderr)
        write_cohort(cohort, n_patients)
    n_timepoints = sum(1 for _ in cohort.glob("*.json")) * 8
    csv_path = work / "pyrecist.csv"
    if not csv_path.exists():
        write_pyrecist_csv(work, n_patients)
    warm(cohort)
    out = work / "out"
    out.mkdir(exist_ok=True)

    def rescore(criteria: str, *extra: str) -> list[str]:
        return [
            *LESION_TOOL, "rescore", str(cohort), "--criteria", criteria, *extra,
            "--timepoints-csv", str(out / "tp.csv"), "--patients-csv", str(out / "pt.csv"),
        ]  # fmt: skip

    three = "mrecist,mrecist-1.1,recist-1.1"
    env = bytecode_env(work)
    t = side_by_side(
        with_baseline({
            "json": ([PY, "-c", JSON_FLOOR, str(cohort)], env),
            "plain": (rescore(three, "--workers", "1"), env),
            "workers": (rescore(three, "--workers", "2"), env),
            "auto": (rescore(three), env),
            "recist-1": (rescore("recist-1.1"), env),
            "pyrecist": ([PY, "-c", PYRECIST, str(csv_path), str(HERE)], env),
        }, ("plain",)),
        repeat,
    )  # fmt: skip
    speed = n_timepoints / t["plain"].best
    return [
        f"Re-scoring {n_timepoints // 8:,} patients x 8 timepoints, stored files (whole command)",
        row("json.loads of every file (floor)", t["json"]),
        row("rescore, 3 presets, --workers 1", t["plain"], t["json"], "floor",
            f"   {speed:,.0f} patient-timepoints/s "
            f"({n_timepoints / t['plain'].best_cpu:,.0f} per CPU second); target >= 8,000"),
        row("rescore, 3 presets, --workers 2", t["workers"], t["plain"], "1 process",
            f"   {n_timepoints / t['workers'].best:,.0f} patient-timepoints/s"),
        row("rescore, 3 presets (default --workers auto)", t["auto"], t["plain"], "1 process",
            f"   {n_timepoints / t['auto'].best:,.0f} patient-timepoints/s; load average "
            f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"),
        *before("rescore, 3 presets, --workers 1", t, "plain"),
        *(
            [f"  {'':<46} before: {n_timepoints / t['before-plain'].best:,.0f} pt-timepoints/s"]
            if "before-plain" in t
            else []
        ),
        row("pyrecist 0.1.0 (RECIST 1.1 targets only)", t["pyrecist"]),
        row("rescore --criteria recist-1.1", t["recist-1"], t["pyrecist"], "pyrecist"),
    ]  # fmt: skip


def bench_scan(work: Path, repeat: int) -> list[str]:
    tree = work / "synth"
    if not tree.is_dir():
        print("writing the synthetic scan tree ...", file=sys.stderr)
        subprocess.run(
            [*LESION_TOOL, "synth", str(tree), "--patients", "4"],
            env=ENV, check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
    neutral = work / "synth-neutral"
    if not neutral.is_dir():
        print("writing the same tree with neutral descriptions ...", file=sys.stderr)
        subprocess.run(
            [*LESION_TOOL, "synth", str(neutral), "--patients", "4", "--neutral-descriptions"],
            env=ENV, check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
    n_files = sum(len(files) for _, _, files in os.walk(tree))
    warm(tree)
    warm(neutral)
    cold_cache = work / "cache-cold"
    warm_cache = work / "cache-warm"
    shutil.rmtree(warm_cache, ignore_errors=True)
    base = bytecode_env(work)
    cold_env = {**base, "LESION_TOOL_CACHE_DIR": str(cold_cache)}
    warm_env = {**base, "LESION_TOOL_CACHE_DIR": str(warm_cache)}
    subprocess.run([*LESION_TOOL, "scan", str(tree)], env=warm_env, stdout=subprocess.DEVNULL)

    cold2_cache = work / "cache-cold-2"
    cold2_env = {**base, "LESION_TOOL_CACHE_DIR": str(cold2_cache)}

    def empty_cold_cache(name: str) -> None:
        # The baseline's cold runs are cold too.
        if name in ("cold", "before-cold", "cold-all", "before-cold-all"):
            shutil.rmtree(cold_cache, ignore_errors=True)
        if name == "cold2":
            shutil.rmtree(cold2_cache, ignore_errors=True)

    t = side_by_side(
        with_baseline(
            {
                "sitk": ([PY, "-c", SITK_DISCOVERY, str(tree)], base),
                "cold": ([*LESION_TOOL, "scan", str(tree)], cold_env),
                "cold2": ([*LESION_TOOL, "scan", str(tree), "--workers", "2"], cold2_env),
                "warm": ([*LESION_TOOL, "scan", str(tree)], warm_env),
                "headers": ([*LESION_TOOL, "scan", str(tree), "--no-pixels"], cold_env),
                "cold-all": ([*LESION_TOOL, "scan", str(neutral)], cold_env),
            },
            ("cold", "headers", "cold-all"),
        ),
        repeat,
        before_each=empty_cold_cache,
    )
    return [
        f"Folder scan, {n_files:,} files in 48 series (whole command)",
        row("SimpleITK GDCM series discovery", t["sitk"]),
        row("scan (pixel phase check, empty cache)", t["cold"], t["sitk"], "SimpleITK",
            "   target <= 1.5x"),
        row("scan --workers 2 (pixel check, empty cache)", t["cold2"], t["sitk"], "SimpleITK"),
        row("scan (pixel phase check, cache filled)", t["warm"], t["sitk"], "SimpleITK"),
        row("scan --no-pixels", t["headers"], t["sitk"], "SimpleITK", "   target <= 0.5x"),
        row("scan, neutral descriptions (48 stacks checked)", t["cold-all"], t["sitk"],
            "SimpleITK"),
        *before("scan (pixel phase check)", t, "cold"),
        *before("scan --no-pixels", t, "headers"),
        *before("scan, neutral descriptions", t, "cold-all"),
    ]  # fmt: skip


def bench_click(work: Path, repeat: int) -> list[str]:
    big = work / "big"
    if not big.is_dir():
        print("writing the 512 x 512 x 300 series ...", file=sys.stderr)
        subprocess.run(
            [
                *LESION_TOOL, "synth", str(big), "--size", "512x512x300", "--spacing",
                "0.8x0.8x1", "--timepoints", "1", "--phases", "arterial", "--lesions", "1",
            ],
            env=ENV, check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
    truth = json.loads(next(big.rglob("truth.json")).read_text())
    series = next(p.parent for p in big.rglob("*.dcm"))
    seed = _truth_seed(truth)
    warm(big)
    seed_text = ",".join(str(v) for v in seed)
    click = [*LESION_TOOL, "measure", "--image", str(series), "--seed", seed_text]
    # As installed: bytecode compiled once (pip does it at install) in a cache of this run, so
    # that no checkout (this one or the baseline) gets __pycache__ folders written into it.
    cached = {
        **{k: v for k, v in ENV.items() if k != "PYTHONDONTWRITEBYTECODE"},
        "PYTHONPYCACHEPREFIX": str(work / "pycache"),
    }
    source = {**ENV, "PYTHONDONTWRITEBYTECODE": "1"}
    commands = {"click": (click, cached), "click-source": (click, source)}
    real = _real_clicks()
    commands.update({name: (cmd, cached) for name, (cmd, _) in real.items()})
    commands = with_baseline(commands, ("click", *real))  # (the baseline with the same cache)
    for cmd, env in commands.values():  # compile the bytecode cache: not timed
        run_once(cmd, env)
    t = side_by_side(commands, repeat)
    done = subprocess.run(
        [PY, "-c", IN_PROCESS_CLICK, str(series), seed_text, str(repeat)],
        env=cached, check=True, capture_output=True, text=True,
    )  # fmt: skip
    inside = json.loads(done.stdout.strip().splitlines()[-1])
    lines = [
        "One click (measure_lesion) on a 512 x 512 x 300 series",
        row("lesion-tool measure --image --seed", t["click"], extra="   target < 1.0 s"),
        row("  the same from source (no bytecode cache)", t["click-source"]),
        (
            f"  {'in process: load_series(lazy) + measure_lesion':<46} {inside['lazy']:7.2f} s  "
            f"(eager load_series + measure_lesion {inside['eager']:.2f} s, measure_lesion alone "
            f"{inside['measure']:.2f} s; whole command {t['click'].best / inside['lazy']:.2f}x "
            "in process)"
        ),
        *before("lesion-tool measure --image --seed", t, "click"),
    ]
    for name, (_, label) in real.items():
        lines += [row(label, t[name]), *before(label.strip(), t, name)]
    return lines


def _real_clicks() -> dict[str, tuple[list[str], str]]:
    """The click command on the real series of ../shared/data, where present: name -> (command,
    row label)."""
    data = ROOT.parent / "shared" / "data"
    hcc = data / "hcc-tace-seg/HCC_006/08-06-1999-NA-ABDPEL LIVER-65146"
    hcc = hcc / "103.000000-LIVER 3 PHASE AP-45033"
    ircad = data / "ircadb/3Dircadb1.1"
    out: dict[str, tuple[list[str], str]] = {}
    if hcc.is_dir():
        cmd = [*LESION_TOOL, "measure", "--image", str(hcc), "--seed", "72,330,172"]
        out["click-hcc006"] = (
            [*cmd, "--phase", "arterial"],
            "  real: HCC_006 arterial, 109 slices",
        )
    if (ircad / "truth.json").is_file():
        tumour = json.loads((ircad / "truth.json").read_text())["tumours"]["livertumor01"]
        point = ",".join(str(int(v)) for v in tumour["deepest_point_zyx"])
        cmd = [*LESION_TOOL, "measure", "--image", str(ircad / "PATIENT_DICOM"), "--seed", point]
        out["click-ircadb"] = (cmd, "  real: IRCADb patient 1, 129 slices")
    return out


def _truth_seed(truth: dict) -> tuple[int, int, int]:
    """The first lesion's seed voxel in the truth file (the generator's click)."""
    stack = [truth]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key, value in item.items():
                if "seed" in key and isinstance(value, list) and len(value) == 3:
                    return tuple(round(v) for v in value)  # type: ignore[return-value]
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    raise SystemExit("no seed voxel in truth.json")


def bench_cluster(work: Path, n_patients: int, repeat: int) -> list[str]:
    """``rescore`` (3 presets) in process, on ``--workers 2`` and on a 2-worker Dask LocalCluster
    on loopback; the CSVs must be byte-identical. The cluster's CPU is not the command's (its
    workers are not children of the command), so compare wall times here."""
    from distributed import LocalCluster

    cohort = work / "cohort"
    if not cohort.is_dir():
        print(f"writing {n_patients} assessment files ...", file=sys.stderr)
        write_cohort(cohort, n_patients)
    n_timepoints = sum(1 for _ in cohort.glob("*.json")) * 8
    warm(cohort)

    def rescore(name: str, *extra: str) -> list[str]:
        out = work / f"out-{name}"
        out.mkdir(exist_ok=True)
        return [
            *LESION_TOOL, "rescore", str(cohort), *extra,
            "--timepoints-csv", str(out / "tp.csv"), "--patients-csv", str(out / "pt.csv"),
        ]  # fmt: skip

    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    ) as cluster:
        t = side_by_side(
            {
                "serial": (rescore("serial"), None),
                "workers": (rescore("workers", "--workers", "2"), None),
                "dask": (rescore("dask", "--scheduler", cluster.scheduler_address), None),
            },
            repeat,
        )
    same = all(
        (work / f"out-{name}" / csv).read_bytes() == (work / "out-serial" / csv).read_bytes()
        for name in ("workers", "dask")
        for csv in ("tp.csv", "pt.csv")
    )
    return [
        (
            f"Executor: rescore of {n_timepoints // 8:,} patients x 8 timepoints, 3 presets "
            f"(CSVs identical: {'yes' if same else 'NO'})"
        ),
        row("in process", t["serial"], extra=f"   {n_timepoints / t['serial'].best:,.0f} pt-tp/s"),
        row("--workers 2", t["workers"], t["serial"], "in process"),
        row("--scheduler (LocalCluster, 2 workers)", t["dask"], t["serial"], "in process"),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="keep (and reuse) the generated data here")
    parser.add_argument(
        "--baseline", type=Path, help="also run every command from this checkout ('before' rows)"
    )
    parser.add_argument(
        "--only", choices=("startup", "rescore", "scan", "click", "cluster"), action="append",
        help="run only these sections (repeatable)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    global BASELINE
    if args.baseline is not None:
        base = args.baseline.resolve()
        BASELINE = {"PYTHONPATH": os.pathsep.join([str(base), str(base / "plugins")])}
    sections = args.only or ["startup", "rescore", "scan", "click", "cluster"]
    work = args.keep.resolve() if args.keep else Path(tempfile.mkdtemp(prefix="bench-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        print(
            f"bench_scale: best of {args.repeat}, whole commands, "
            f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}"
        )
        print(f"  {'':<46} {'wall':>9}  {'cpu':>12}  {'peak RSS':>10}  ratio")
        for name in sections:
            if name == "startup":
                lines = bench_startup(args.repeat)
            elif name == "rescore":
                lines = bench_rescore(work, args.patients, args.repeat)
            elif name == "scan":
                lines = bench_scan(work, args.repeat)
            elif name == "cluster":
                lines = bench_cluster(work, args.patients, args.repeat)
            else:
                lines = bench_click(work, args.repeat)
            print("\n".join(lines), flush=True)
        print(f"load average at the end {os.getloadavg()[0]:.1f}")
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
