"""The slowest stress prompts, timed on this code and on an older commit, prompt by prompt
(issue 11: < 0.5 s per click; w18-speed).

The slowest clicks of ``bench_stress.py`` (``--times``) are IRCADb tumour 01's clicks on the
necrotic-core variant and a few others that the re-click chains (capclick.follow_cap,
necro_rimclick, offliver.from_cap, ...) measure again from 2-4 slices. This script measures
each of them (:data:`PROMPTS`; seeds 0, 1, 3 and 4 only: seeds 2 and 5 are held out) in two
worker processes, one importing this tree and one an older commit's tree (``--before REV``,
extracted with ``git archive`` into a temporary directory), alternately, best of ``--repeat``
CPU times (``time.process_time``) each, so that both see the same load. It prints a Markdown
table: CPU before, after, their ratio, and whether the results agree (diameters, mask hash,
flags, or the refusal's type and text); then the totals.

Run (from the repository root; about 2 x 1.5 GB of memory, 3-6 minutes on two idle cores):
``PYTHONPATH=$PWD:$PWD/plugins .venv/bin/python benchmarks/bench_memo_slowest.py --before 4a3ce79``
(``--only N`` times the first N prompts; ``--worker`` is internal).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

PROMPTS: list[tuple[str, int, str, str, object]] = [
    # (variant, seed, tumour, kind, click (z, y, x) or line ((z, y, x), (z, y, x)))
    # The slowest of the fourteenth pass's final code (4a3ce79; bench_stress --times, seeds 0,
    # 3 and 4; seed 1's two slowest of the pass before): w19-speed.
    ("necrotic core", 0, "01", "random", (68, 177, 188)),
    ("necrotic core", 3, "01", "deepest", (63, 157, 169)),
    ("necrotic core", 3, "01", "random", (73, 113, 180)),
    ("hyper", 3, "01", "random", (56, 173, 121)),
    ("noise 25 HU", 0, "01", "random", (68, 177, 188)),
    ("necrotic core", 4, "06", "random", (109, 175, 107)),
    ("necrotic core", 0, "06", "random", (111, 175, 108)),
    ("necrotic core", 4, "06", "random", (111, 174, 108)),
    ("2.5 mm", 0, "01", "random", (47, 131, 145)),
    ("hyper 2.5 mm 30 HU", 4, "02", "random", (50, 332, 193)),
    ("necrotic core", 1, "01", "random", (65, 155, 124)),
    ("necrotic core", 1, "01", "deepest", (63, 157, 169)),
]


def _worker() -> None:
    """Read prompt indices on stdin, measure each ``repeat`` times, answer one JSON line each."""
    sys.path.insert(0, str(Path.cwd() / "benchmarks"))
    import bench_stress as bs
    import numpy as np

    from lesion_tool.errors import LesionToolError
    from lesion_tool.measurement import LesionPrompt, measure_lesion
    from lesion_tool.measurement.stress import degrade

    case = bs.load_case()
    held: dict[tuple[str, int], tuple[object, str]] = {}
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        i, repeat = json.loads(line)
        name, seed, _t, kind, p = PROMPTS[i]
        if (name, seed) not in held:
            held.clear()
            kw = bs.VARIANTS[name]
            vol = degrade(*case, seed=seed, **kw)[0]
            held[(name, seed)] = (vol, "arterial" if kw.get("enhance") else "portal-venous")
        vol, phase = held[(name, seed)]
        if kind == "line":
            prompt = LesionPrompt(line=tuple(tuple(float(v) for v in q) for q in p))
        else:
            prompt = LesionPrompt(seed=tuple(int(v) for v in p))
        best = float("inf")
        for _ in range(repeat):
            c0 = time.process_time()
            try:
                r = measure_lesion(vol, prompt, phase=phase)
                mask = hashlib.sha1(np.ascontiguousarray(r.mask).tobytes()).hexdigest()[:12]
                out = [round(r.whole.length_mm, 9), mask, list(r.offset), list(r.flags)]
            except LesionToolError as e:
                out = [f"{type(e).__name__}: {e}"]
            best = min(best, time.process_time() - c0)
        print(json.dumps({"cpu": best, "out": out}), flush=True)


class _Worker:
    def __init__(self, tree: Path) -> None:
        env = dict(os.environ, PYTHONPATH=f"{tree}{os.pathsep}{tree / 'plugins'}")
        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--worker"],
            cwd=tree,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert json.loads(self._line()).get("ready")

    def _line(self) -> str:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("benchmark worker stopped")
        return line

    def ask(self, i: int, repeat: int) -> dict:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps([i, repeat]) + "\n")
        self.proc.stdin.flush()
        return json.loads(self._line())

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        self.proc.wait(timeout=60)


def _tree_at(rev: str, into: Path) -> Path:
    """The repository's files at ``rev`` (git archive), under ``into``; the data directory the
    stress bench reads (``../shared``) is linked beside it."""
    tree = into / "tree"
    tree.mkdir()
    tar = into / "tree.tar"
    subprocess.run(["git", "archive", "-o", str(tar), rev], cwd=ROOT, check=True)
    with tarfile.open(tar) as t:
        t.extractall(tree, filter="data")
    (into / "shared").symlink_to(ROOT.parent / "shared")
    return tree


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", default="4a3ce79", help="the older commit (default: 4a3ce79)")
    ap.add_argument("--repeat", type=int, default=2, help="best of N CPU times per prompt")
    ap.add_argument("--only", type=int, default=len(PROMPTS), help="the first N prompts")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        _worker()
        return
    with tempfile.TemporaryDirectory() as tmp:
        before = _Worker(_tree_at(args.before, Path(tmp)))
        after = _Worker(ROOT)
        try:
            print(f"| prompt | CPU s before ({args.before}) | after | ratio | same result |")
            print("|---|---|---|---|---|")
            tot_b = tot_a = 0.0
            same_all = True
            for i, (name, seed, t, kind, p) in enumerate(PROMPTS[: args.only]):
                b, a = before.ask(i, args.repeat), after.ask(i, args.repeat)
                tot_b += b["cpu"]
                tot_a += a["cpu"]
                same = b["out"] == a["out"]
                same_all &= same
                where = p if kind != "line" else "line"
                print(
                    f"| {name} s{seed}: {t} {kind} {where} | {b['cpu']:.2f} | {a['cpu']:.2f} | "
                    f"{b['cpu'] / max(a['cpu'], 1e-9):.2f} | {'yes' if same else 'NO'} |",
                    flush=True,
                )
            print(
                f"\n{min(args.only, len(PROMPTS))} prompts: {tot_b:.2f} -> {tot_a:.2f} s CPU "
                f"(ratio {tot_b / max(tot_a, 1e-9):.2f}); results "
                f"{'all the same' if same_all else 'DIFFER'}; load average {os.getloadavg()[0]:.1f}"
            )
        finally:
            before.close()
            after.close()


if __name__ == "__main__":
    main()
