"""De-identification of every export: pseudonymous patient ids and shifted dates, kept consistent.

A core lab sends CSVs, reports and SRs to sponsors and statisticians who must not learn who the
patients are. With ``--deidentify`` every export goes through one :class:`Deidentifier`:

- the patient id becomes a pseudonym, ``P-`` and ten characters of an HMAC-SHA256 of the id
  under a secret project key: the same patient gets the same pseudonym in every export, run and
  machine that uses the key, and nobody without the key can link it back;
- every date of a patient is shifted by the same keyed number of days (1-3650 back), so
  intervals (PFS, DoR, confirmation windows) are exact and calendar dates are not revealed: DICOM
  PS3.15 calls this *Retain Longitudinal Temporal Information with Modified Dates*;
- free text that a person typed about the patient (lesion notes) and unknown extra fields are
  dropped;
- an SR is cleaned by the DICOM Basic Application Level Confidentiality Profile (PS3.15 Annex E,
  table E.1-1 as implemented by the ``dicom-anonymizer`` package) with the *Retain UIDs* option
  (the SR must still point at the measured images) and the *Clean Structured Content* option (its
  content is written by this tool from the de-identified assessment), and says so in
  PatientIdentityRemoved and DeidentificationMethodCodeSequence.

The key is 32 random bytes in a file: ``--deid-key FILE``, else ``$LESION_TOOL_DEID_KEY``, else
``~/.config/lesion-tool/deid.key`` (made on first use, readable by its owner only). Keep it: a new
key gives new pseudonyms.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import hmac
import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lesion_tool.errors import LesionToolError
from lesion_tool.model import Assessment, Lesion, Timepoint

if TYPE_CHECKING:  # pydicom is imported only where an SR is cleaned
    from pydicom.dataset import Dataset

__all__ = ["Deidentifier", "default_key_path", "load_or_create_key", "without_free_text"]

KEY_ENV = "LESION_TOOL_DEID_KEY"
MAX_SHIFT_DAYS = 3650

# PS3.16 CID 7050 "De-identification Method" codes (DCM scheme).
_METHOD_CODES = (
    ("113100", "Basic Application Confidentiality Profile"),
    ("113104", "Clean Structured Content Option"),
    ("113107", "Retain Longitudinal Temporal Information Modified Dates Option"),
    ("113110", "Retain UIDs Option"),
)


def default_key_path() -> Path:
    """Where the project key lives when neither ``--deid-key`` nor ``$LESION_TOOL_DEID_KEY``."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "lesion-tool" / "deid.key"


def load_or_create_key(path: str | os.PathLike[str] | None = None) -> tuple[bytes, Path, bool]:
    """Read the de-identification key (see the module docstring); returns key, file, created.

    Only the default file is created when missing (32 random bytes, mode 0600); a key file named
    by the user must exist, so that a typo never silently starts a second set of pseudonyms.
    """
    named = path if path is not None else os.environ.get(KEY_ENV) or None
    file = Path(named) if named else default_key_path()
    created = False
    if not file.exists():
        if named:
            raise LesionToolError(f"{file}: no such de-identification key file.")
        try:
            file.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(secrets.token_bytes(32))
        except OSError as err:
            raise LesionToolError(
                f"{file}: cannot create the de-identification key: {err}"
            ) from err
        created = True
    try:
        key = file.read_bytes()
    except OSError as err:
        raise LesionToolError(f"{file}: cannot read the de-identification key: {err}") from err
    if len(key) < 16:
        raise LesionToolError(f"{file}: a de-identification key needs at least 16 bytes.")
    return key, file, created


def without_free_text(assessment: Assessment) -> Assessment:
    """The assessment without what a person typed about the patient: lesion notes, extra fields."""

    def lesion(item: Lesion) -> Lesion:
        return dataclasses.replace(item, note=None) if item.note is not None else item

    def timepoint(tp: Timepoint) -> Timepoint:
        return dataclasses.replace(tp, lesions=tuple(lesion(x) for x in tp.lesions))

    return dataclasses.replace(
        assessment, timepoints=tuple(timepoint(tp) for tp in assessment.timepoints), extra={}
    )


@dataclasses.dataclass(frozen=True)
class Deidentifier:
    """Pseudonyms and date shifts under one secret key (see the module docstring)."""

    key: bytes = dataclasses.field(repr=False)

    def _digest(self, purpose: str, patient_id: str) -> bytes:
        message = f"{purpose}\0{patient_id}".encode("utf-8", "surrogatepass")
        return hmac.new(self.key, message, hashlib.sha256).digest()

    def patient_id(self, patient_id: str) -> str:
        """The patient's pseudonym: ``P-`` and ten upper-case hex digits."""
        return "P-" + self._digest("id", patient_id).hex()[:10].upper()

    def shift_days(self, patient_id: str) -> int:
        """Days every date of this patient moves back (1 to 3650, the same in every export)."""
        return 1 + int.from_bytes(self._digest("date", patient_id)[:8], "big") % MAX_SHIFT_DAYS

    def date(self, patient_id: str, value: dt.date) -> dt.date:
        """``value`` shifted by the patient's offset."""
        return value - dt.timedelta(days=self.shift_days(patient_id))

    def assessment(self, assessment: Assessment) -> Assessment:
        """The assessment with a pseudonymous id, shifted dates, and no notes or extra fields."""
        pid = assessment.patient_id
        scrubbed = without_free_text(assessment)

        def shift(value: dt.date | None) -> dt.date | None:
            return None if value is None else self.date(pid, value)

        return dataclasses.replace(
            scrubbed,
            patient_id=self.patient_id(pid),
            treatment_start=self.date(pid, assessment.treatment_start),
            death_date=shift(assessment.death_date),
            last_known_alive=shift(assessment.last_known_alive),
            timepoints=tuple(
                dataclasses.replace(tp, date=self.date(pid, tp.date)) for tp in scrubbed.timepoints
            ),
        )

    def clean_sr(self, dataset: Dataset, patient_id: str) -> None:
        """Apply the Basic Profile with the options above to an SR written by this tool, in place.

        The SR must have been built from the patient's real dates with free text removed
        (:func:`without_free_text`). ``patient_id`` is the assessment's own id: its pseudonym
        replaces PatientID and PatientName, whatever the images said; every date and date-time
        (content included) moves by that patient's offset; UIDs and the content are kept.
        """
        from dicomanonymizer import anonymize_dataset
        from dicomanonymizer.simpledicomanonymizer import initialize_actions, keep
        from pydicom.dataset import Dataset as PydicomDataset

        keep_rules: dict[tuple[int, int], Any] = {
            (0x0040, 0xA730): keep,  # ContentSequence: written by us, free text scrubbed
        }
        for tag in _tags(dataset, lambda e: e.VR in ("UI", "DA", "DT")):
            keep_rules[tag] = keep  # Retain UIDs; dates are shifted below instead of removed
        anonymize_dataset(dataset, keep_rules, delete_private_tags=True)
        # The library applies the profile to top-level attributes; nested ones (e.g. the
        # InstitutionName in ContributingEquipmentSequence) get the same actions here.
        actions = {k: v for k, v in initialize_actions().items() if len(k) == 2}
        _clean_nested(dataset, actions, set(keep_rules))
        _shift_dates(dataset, self.shift_days(patient_id))
        pseudonym = self.patient_id(patient_id)
        dataset.PatientID = pseudonym
        dataset.PatientName = pseudonym
        dataset.PatientIdentityRemoved = "YES"
        dataset.DeidentificationMethod = "PS3.15 Basic Profile with options (see codes)"
        codes = []
        for value, meaning in _METHOD_CODES:
            item = PydicomDataset()
            item.CodeValue = value
            item.CodingSchemeDesignator = "DCM"
            item.CodeMeaning = meaning
            codes.append(item)
        dataset.DeidentificationMethodCodeSequence = codes


def _tags(dataset: Dataset, keep: Callable[[Any], bool]) -> set[tuple[int, int]]:
    """Tags of every element (nested too) for which ``keep(element)`` holds."""
    found: set[tuple[int, int]] = set()

    def visit(_ds: Dataset, elem: Any) -> None:
        if keep(elem):
            found.add((elem.tag.group, elem.tag.element))

    dataset.walk(visit)
    return found


def _clean_nested(
    dataset: Dataset, actions: dict[tuple[int, int], Any], kept: set[tuple[int, int]]
) -> None:
    """Apply the profile's ``actions`` inside every sequence item except the SR content."""
    for elem in list(dataset):
        if elem.VR != "SQ" or elem.keyword == "ContentSequence":
            continue
        for item in elem.value:
            for tag in [(e.tag.group, e.tag.element) for e in item]:
                if tag in actions and tag not in kept:
                    actions[tag](item, tag)
            _clean_nested(item, actions, kept)


def _shift_dates(dataset: Dataset, days: int) -> None:
    """Move every DA and DT value back by ``days``, nested ones (SR content included) too."""
    from pydicom.valuerep import DA, DT

    for elem in dataset:
        if elem.VR == "SQ":
            for item in elem.value:
                _shift_dates(item, days)
            continue
        if elem.VR not in ("DA", "DT") or not elem.value:
            continue
        text = str(elem.value)
        try:
            if elem.VR == "DA":
                elem.value = (DA(text) - dt.timedelta(days=days)).strftime("%Y%m%d")
            else:
                moved = DT(text) - dt.timedelta(days=days)
                elem.value = moved.strftime("%Y%m%d") + text[8:]
        except (ValueError, TypeError, OverflowError):
            elem.value = ""  # a date we cannot read cannot be shifted: remove it
