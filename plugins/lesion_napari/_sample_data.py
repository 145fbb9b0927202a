"""Sample data contribution: the synthetic multiphase HCC patient (baseline and follow-ups).

The committed sample lives in the project's ``test_images/synthetic/SYN-001`` (found from this
package's location in an editable / source install). Where it is absent (an installed wheel),
the same patient is generated once with :func:`lesion_tool.synth.generate_patient` into a cache
folder, so File > Open Sample works anywhere; if that is impossible the error says what to do.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from lesion_tool.errors import LesionToolError

SAMPLE_PATIENT = "SYN-001"
CACHE_ENV = "LESION_TOOL_CACHE"


def _project_sample() -> Path | None:
    here = Path(__file__).resolve()
    for root in here.parents:
        candidate = root / "test_images" / "synthetic" / SAMPLE_PATIENT
        if (candidate / "truth.json").is_file():
            return candidate
    return None


def sample_folder() -> Path:
    """The synthetic sample patient's folder (committed copy, else generated into a cache).

    Raises
    ------
    LesionToolError
        If the sample is not in the project and cannot be generated.
    """
    found = _project_sample()
    if found is not None:
        return found
    cache = Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "lesion-tool") / "synthetic"
    target = cache / SAMPLE_PATIENT
    if (target / "truth.json").is_file():
        return target
    try:
        from lesion_tool.synth import generate_patient

        cache.mkdir(parents=True, exist_ok=True)
        return Path(generate_patient(cache, patient_id=SAMPLE_PATIENT, seed=1))
    except (ImportError, OSError, LesionToolError) as err:
        raise LesionToolError(
            "The synthetic sample study is not installed (test_images/synthetic/SYN-001 is only "
            "in a source checkout) and could not be generated "
            f"({err}). Run `lesion-tool synth` to make one and open it with File > Open Folder."
        ) from err


def synthetic_study() -> list[Any]:
    """Layer data of the synthetic patient: arterial phase of each timepoint, others hidden."""
    from ._reader import read_dicom

    return read_dicom(sample_folder())
