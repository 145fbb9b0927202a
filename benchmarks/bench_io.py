"""Benchmark lesion-tool's DICOM I/O against SimpleITK (GDCM) and plain per-file pydicom.

Generates, in a temporary folder,

- a 512 x 512 x 300 CT series (int16 stored values, explicit VR little endian), and
- a 2,000-file multi-series folder (10 patients x 1 study x 4 series x 50 slices, 128 x 128,
  one folder per series as PACS exports lay them out),

and also scans the real TCIA export in ``../shared/data/hcc-tace-seg`` when present (real
512 x 512 CT headers), then measures

- folder scan (discovery) in files per second: :func:`lesion_tool.io.scan_folders` headers only
  (``use_pixels=False``) and with its pixel-sampled phase check; SimpleITK's GDCM discovery
  (``ImageSeriesReader.GetGDCMSeriesIDs`` + ``GetGDCMSeriesFileNames`` per folder, as one uses it
  on an export; it is not recursive); plain ``pydicom.dcmread(stop_before_pixels=True)`` per file;
- series load in seconds and peak memory: :func:`lesion_tool.io.load_series`; SimpleITK
  ``ImageSeriesReader`` (``GetGDCMSeriesFileNames`` + ``Execute``); plain pydicom (read every file,
  sort by position, stack ``pixel_array`` with rescale).

Each measurement runs in its own child process (scans after a warm-up on one series folder, so
one-time initialisation is not counted for any method); peak memory is the child's peak RSS
(``resource.getrusage``) minus its RSS just before the work (after imports), compared with the
volume's size. Files are read once beforehand so every method meets a warm page cache.

Targets (issue 3): scanning >= 3x faster than SimpleITK's series discovery; loading no slower
than ImageSeriesReader; peak memory < 2x the volume's size.

Run: ``.venv/bin/python benchmarks/bench_io.py [--keep DIR] [--repeat N]``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

SERIES_SHAPE = (300, 512, 512)
REAL_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "hcc-tace-seg"
MULTI = {"patients": 10, "series": 4, "slices": 50, "size": 128}


# --- data generation ------------------------------------------------------------------------------


def _template(rows: int, cols: int):
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian

    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = CTImageStorage
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = CTImageStorage
    ds.Modality = "CT"
    ds.StudyDate = "20240105"
    ds.StudyTime = "101500"
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    ds.PixelSpacing = [0.75, 0.75]
    ds.SliceThickness = 1.0
    ds.RescaleSlope = 1
    ds.RescaleIntercept = -1024
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows, ds.Columns = rows, cols
    ds.BitsAllocated = 16
    ds.BitsStored = 12
    ds.HighBit = 11
    ds.PixelRepresentation = 0
    return ds


def write_stack(
    folder: Path,
    *,
    n: int,
    size: int,
    patient: str,
    study_uid: str,
    series_uid: str,
    description: str,
    number: int,
    seed: int,
) -> None:
    """Write one series fast: one template dataset, per-slice fields and pixel bytes swapped."""
    from pydicom.uid import generate_uid

    folder.mkdir(parents=True, exist_ok=True)
    ds = _template(size, size)
    ds.PatientID = patient
    ds.PatientName = patient
    ds.StudyInstanceUID = study_uid
    ds.SeriesInstanceUID = series_uid
    ds.FrameOfReferenceUID = generate_uid(entropy_srcs=[study_uid, "for"])
    ds.SeriesDescription = description
    ds.SeriesNumber = number
    rng = np.random.default_rng(seed)
    base = rng.integers(900, 1200, size=(size, size), dtype=np.uint16)
    for k in range(n):
        uid = generate_uid(entropy_srcs=[series_uid, str(k)])
        ds.SOPInstanceUID = uid
        ds.file_meta.MediaStorageSOPInstanceUID = uid
        ds.InstanceNumber = n - k  # deliberately opposite to position
        ds.ImagePositionPatient = [-192.0, -192.0, -150.0 + k * 1.0]
        ds.PixelData = (base + np.uint16(k % 50)).tobytes()
        ds.save_as(folder / f"{k:05d}", enforce_file_format=True)


def write_big_series(big: Path) -> None:
    """The 512 x 512 x 300 arterial series of the benchmarks (also used by bench_plugin.py)."""
    from pydicom.uid import generate_uid

    n, size, _ = SERIES_SHAPE
    write_stack(
        big,
        n=n,
        size=size,
        patient="BENCH",
        study_uid=generate_uid(entropy_srcs=["bench-study"]),
        series_uid=generate_uid(entropy_srcs=["bench-series"]),
        description="LIVER ARTERIAL 1mm",
        number=3,
        seed=0,
    )


def generate(root: Path) -> tuple[Path, Path]:
    """The big series and the multi-series folder under ``root``."""
    from pydicom.uid import generate_uid

    big = root / "big_series"
    write_big_series(big)
    multi = root / "multi"
    names = ("PRE", "ARTERIAL", "PORTAL VENOUS", "DELAYED")
    for p in range(MULTI["patients"]):
        study = generate_uid(entropy_srcs=["study", str(p)])
        for s in range(MULTI["series"]):
            write_stack(
                multi / f"P{p:02d}" / "ST1" / f"SE{s + 1}",
                n=MULTI["slices"],
                size=MULTI["size"],
                patient=f"P{p:02d}",
                study_uid=study,
                series_uid=generate_uid(entropy_srcs=["series", str(p), str(s)]),
                description=f"LIVER {names[s]}",
                number=s + 1,
                seed=p * 10 + s,
            )
    return big, multi


def warm(folder: Path) -> int:
    """Read every file once (page cache), return the count."""
    count = 0
    for dirpath, _, files in os.walk(folder):
        for f in files:
            with open(os.path.join(dirpath, f), "rb") as fh:
                while fh.read(1 << 20):
                    pass
            count += 1
    return count


# --- child-process measurements -------------------------------------------------------------------


def _rss_kb() -> int:
    with open("/proc/self/statm") as fh:
        pages = int(fh.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") // 1024


def _scan_lesion(folder: Path, pixels: bool) -> int:
    from lesion_tool.io import scan_folders

    result = scan_folders(folder, use_pixels=pixels)
    return len(result.stacks)


def _scan_sitk(folder: Path) -> int:
    import SimpleITK as sitk

    found = 0
    for dirpath, _, files in os.walk(folder):
        if not files:
            continue
        for sid in sitk.ImageSeriesReader.GetGDCMSeriesIDs(dirpath):
            sitk.ImageSeriesReader.GetGDCMSeriesFileNames(dirpath, sid)
            found += 1
    return found


def _scan_pydicom(folder: Path) -> int:
    import pydicom

    series: dict[str, list[str]] = {}
    for dirpath, _, files in os.walk(folder):
        for f in files:
            path = os.path.join(dirpath, f)
            try:
                ds = pydicom.dcmread(path, stop_before_pixels=True)
            except pydicom.errors.InvalidDicomError:
                continue  # licences, spreadsheets beside the images
            series.setdefault(ds.SeriesInstanceUID, []).append(path)
    return len(series)


def _load_lesion(folder: Path) -> tuple[int, ...]:
    from lesion_tool.io import load_series

    return load_series(folder).shape


def _load_sitk(folder: Path) -> tuple[int, ...]:
    import SimpleITK as sitk

    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(reader.GetGDCMSeriesFileNames(str(folder)))
    image = reader.Execute()
    return tuple(image.GetSize()[::-1])


def _load_pydicom(folder: Path) -> tuple[int, ...]:
    import pydicom

    datasets = [pydicom.dcmread(p) for p in sorted(folder.iterdir())]
    datasets.sort(key=lambda d: float(d.ImagePositionPatient[2]))
    volume = np.stack(
        [d.pixel_array * float(d.RescaleSlope) + float(d.RescaleIntercept) for d in datasets]
    )
    return volume.shape


CHILD_TASKS = {
    "scan-lesion": lambda p: _scan_lesion(p, False),
    "scan-lesion-pixels": lambda p: _scan_lesion(p, True),
    "scan-sitk": _scan_sitk,
    "scan-pydicom": _scan_pydicom,
    "load-lesion": _load_lesion,
    "load-sitk": _load_sitk,
    "load-pydicom": _load_pydicom,
}
IMPORTS = {
    "lesion": "import lesion_tool.io",
    "sitk": "import SimpleITK",
    "pydicom": "import pydicom, pydicom.errors, pydicom.pixels",
}


def child(task: str, folder: Path) -> None:
    """Run one task in this process; print JSON with seconds and peak memory increase."""
    exec(IMPORTS[task.split("-")[1]])
    import pydicom.pixels  # noqa: F401 - decoders loaded before the baseline

    if task.startswith("scan"):
        # Warm up on one series folder so one-time initialisation (GDCM's dictionary, regex
        # compilation, lazy imports) is not counted for any method.
        first = min(p for p in folder.rglob("*") if p.is_dir() and not any(p.glob("*/")))
        CHILD_TASKS[task](first)
    before = _rss_kb()
    t0 = time.perf_counter()
    out = CHILD_TASKS[task](folder)
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"seconds": seconds, "peak_delta_mb": (peak - before) / 1024, "out": out}))


def run_child(task: str, folder: Path, repeat: int) -> dict[str, float]:
    """Best (fastest) of ``repeat`` child runs; memory from the same runs (max)."""
    best: dict[str, float] = {}
    for _ in range(repeat):
        proc = subprocess.run(
            [sys.executable, __file__, "--child", task, str(folder)],
            check=True,
            capture_output=True,
            text=True,
        )
        res = json.loads(proc.stdout.strip().splitlines()[-1])
        if not best or res["seconds"] < best["seconds"]:
            best = {**res, "peak_delta_mb": max(res["peak_delta_mb"], best.get("peak_delta_mb", 0))}
    return best


def main() -> int:
    """Generate the data, run every measurement, print figures and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--child", nargs=2, metavar=("TASK", "FOLDER"), help=argparse.SUPPRESS)
    parser.add_argument("--keep", type=Path, help="generate into (or reuse) this folder")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement (best kept)")
    parser.add_argument("--only", choices=("scan", "load"), help="run one half of the benchmark")
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]))
        return 0

    root = args.keep or Path(tempfile.mkdtemp(prefix="bench_io_"))
    try:
        big, multi = root / "big_series", root / "multi"
        if not (big.is_dir() and multi.is_dir()):
            t0 = time.perf_counter()
            big, multi = generate(root)
            print(f"generated test data in {time.perf_counter() - t0:.1f} s under {root}")
        n_big, n_multi = warm(big), warm(multi)
        volume_mb = np.prod(SERIES_SHAPE) * 2 / 2**20
        print(
            f"series: {n_big} files {SERIES_SHAPE[::-1]} (x, y, z), "
            f"int16 volume {volume_mb:.0f} MB; multi-series folder: {n_multi} files, "
            f"40 series of {MULTI['size']}^2 x 50"
        )

        scan: dict[str, dict[str, float]] = {}
        load: dict[str, dict[str, float]] = {}
        scan_tasks = [
            ("scan-lesion", "lesion-tool scan_folders (headers)"),
            ("scan-lesion-pixels", "lesion-tool scan_folders (+pixels)"),
            ("scan-sitk", "SimpleITK GDCM series discovery"),
            ("scan-pydicom", "pydicom dcmread per file"),
        ]
        if args.only == "load":
            scan_tasks = []
        else:
            print("\nFolder scan (discovery)              files/s   seconds")
        for task, label in scan_tasks:
            res = run_child(task, multi, args.repeat)
            scan[task] = res
            print(f"  {label:<36} {n_multi / res['seconds']:>8.0f}  {res['seconds']:>8.2f}")
        real_scan: dict[str, dict[str, float]] = {}
        if scan_tasks and REAL_DATA.is_dir():
            n_real = warm(REAL_DATA)
            print(f"  real TCIA export ({REAL_DATA.name}, {n_real} files, 512 x 512 CT):")
            for task, label in scan_tasks:
                if task == "scan-lesion-pixels":
                    continue
                res = run_child(task, REAL_DATA, args.repeat)
                real_scan[task] = res
                print(f"  {label:<36} {n_real / res['seconds']:>8.0f}  {res['seconds']:>8.2f}")

        load_tasks = [
            ("load-lesion", "lesion-tool load_series"),
            ("load-sitk", "SimpleITK ImageSeriesReader"),
            ("load-pydicom", "pydicom dcmread + np.stack"),
        ]
        if args.only == "scan":
            load_tasks = []
        else:
            print("\nSeries load 512x512x300               seconds   peak extra MB   x volume")
        for task, label in load_tasks:
            res = run_child(task, big, args.repeat)
            load[task] = res
            print(
                f"  {label:<36} {res['seconds']:>7.2f}   {res['peak_delta_mb']:>12.0f}"
                f"   {res['peak_delta_mb'] / volume_mb:>7.2f}"
            )

        def verdict(ok: bool) -> str:
            return "met" if ok else "NOT met"

        print("\nRatios")
        if scan:
            scan_ratio = scan["scan-sitk"]["seconds"] / scan["scan-lesion"]["seconds"]
            scan_ratio_px = scan["scan-sitk"]["seconds"] / scan["scan-lesion-pixels"]["seconds"]
            print(
                f"  scan speed vs SimpleITK discovery (headers): {scan_ratio:.1f}x "
                f"(target >= 3x: {verdict(scan_ratio >= 3)}); "
                f"with the pixel phase check {scan_ratio_px:.1f}x"
            )
        if real_scan:
            real_ratio = real_scan["scan-sitk"]["seconds"] / real_scan["scan-lesion"]["seconds"]
            print(
                f"  scan speed vs SimpleITK discovery on the real export: {real_ratio:.1f}x "
                f"(target >= 3x: {verdict(real_ratio >= 3)})"
            )
        if load:
            load_ratio = load["load-sitk"]["seconds"] / load["load-lesion"]["seconds"]
            mem_ratio = load["load-lesion"]["peak_delta_mb"] / volume_mb
            print(
                f"  load speed vs ImageSeriesReader: {load_ratio:.2f}x "
                f"(target >= 1x: {verdict(load_ratio >= 1)})"
            )
            print(
                f"  load peak memory / volume size: {mem_ratio:.2f} "
                f"(target < 2: {verdict(mem_ratio < 2)})"
            )
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
