"""The local cache of retrieved studies: where each instance goes and whether it is complete.

Layout: ``CACHE/<patient>/<StudyInstanceUID>/<SeriesInstanceUID>/<SOPInstanceUID>.dcm``, so a
patient's folder is what *Open study* and ``lesion-tool scan`` expect (one or more studies of a
patient). Files appear only by an atomic rename of a complete temporary file
(:func:`lesion_tool.storage.atomic.atomic_write`), so a ``.dcm`` name is a complete instance; the
check on resume still reads its SOPInstanceUID, which must equal its name. Temporary files of a
killed retrieval are hidden (``.NAME.PID.RANDOM.tmp``, skipped by the scan) and removed by the
next retrieval into the same study.
"""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path

from lesion_tool.pacs.models import InstanceRef

__all__ = ["instance_path", "is_complete", "patient_folder", "remove_dead_temporaries"]


def _safe_name(text: str) -> str:
    name = re.sub(r"[^A-Za-z0-9._-]", "_", text.strip())
    if not name.strip("."):  # "", ".", ".." would not be a folder of its own
        name = f"_{name}"
    return name


def patient_folder(cache_dir: Path, patient_id: str) -> Path:
    """The cache folder of a patient (its ID with anything but ``A-Za-z0-9._-`` as ``_``)."""
    return Path(cache_dir) / (_safe_name(patient_id) if patient_id else "_no_patient_id")


def study_folder(cache_dir: Path, patient_id: str, study_uid: str) -> Path:
    """The cache folder of one study."""
    return patient_folder(cache_dir, patient_id) / study_uid


def instance_path(cache_dir: Path, patient_id: str, ref: InstanceRef) -> Path:
    """Where an instance's file goes (the UIDs were checked to be digits and dots)."""
    return (
        study_folder(cache_dir, patient_id, ref.study_instance_uid)
        / ref.series_instance_uid
        / f"{ref.sop_instance_uid}.dcm"
    )


def is_complete(path: Path, sop_instance_uid: str) -> bool:
    """True when ``path`` is a readable DICOM file whose SOPInstanceUID is the expected one."""
    import pydicom
    from pydicom.errors import InvalidDicomError

    if not path.is_file():
        return False
    try:
        ds = pydicom.dcmread(path, stop_before_pixels=True, specific_tags=["SOPInstanceUID"])
    except (OSError, InvalidDicomError, ValueError, EOFError):
        return False
    return str(getattr(ds, "SOPInstanceUID", "")) == sop_instance_uid


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, another user's
        return True
    return True


_TEMPORARY = re.compile(r"^\..+\.dcm\.(\d+)\.[^.]+\.tmp$")


def remove_dead_temporaries(folder: Path) -> int:
    """Delete temporary files under ``folder`` left by retrievals that were killed; their count.

    A temporary file of a live process (a retrieval running in parallel) is left alone.
    """
    removed = 0
    if not folder.is_dir():
        return 0
    for dirpath, _dirnames, filenames in os.walk(folder):
        for name in filenames:
            match = _TEMPORARY.match(name)
            if match and int(match.group(1)) != os.getpid() and not _pid_alive(int(match[1])):
                with contextlib.suppress(OSError):
                    os.unlink(os.path.join(dirpath, name))
                    removed += 1
    return removed
