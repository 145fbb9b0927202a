"""Regenerate the committed synthetic sample (``synthetic/SYN-001``) deterministically.

Usage::

    .venv/bin/python test_images/make_synthetic.py            # rewrites test_images/synthetic/
    .venv/bin/python test_images/make_synthetic.py --out DIR  # elsewhere

The recipe lives in :mod:`lesion_tool.synth.sample`; this script is a thin wrapper. Larger or
different studies: ``lesion-tool synth OUT_DIR --patients N ...``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from lesion_tool.synth.sample import generate_sample


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "synthetic")
    args = parser.parse_args(argv)
    folder = generate_sample(args.out)
    print(f"wrote {folder}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
