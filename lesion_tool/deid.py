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

Messages are exports too: a log on stderr travels in e-mails and tickets. :class:`LogScrubber`
rewrites every line the command line prints on stderr (errors, warnings, skipped files, logs):

- always, the values of identifying query parameters in URLs (``PatientID=...``,
  ``PatientName=...``, see :data:`IDENTIFYING_QUERY_KEYS`), which ``-v`` logs of PACS searches
  would otherwise show;
- with ``--deidentify`` also every query value, every file path (folder names are often patient
  names or ids), replaced by a keyed alias ``path-XXXXXXXXXX.json`` (the same file gives the same
  alias under one key; only the key's holder can check which file it is, with
  :meth:`Deidentifier.path_alias`), and every patient id the de-identifier has pseudonymised,
  replaced by its pseudonym.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from lesion_tool.errors import LesionToolError
from lesion_tool.model import Assessment, Lesion, Timepoint

if TYPE_CHECKING:  # pydicom is imported only where an SR is cleaned
    from pydicom.dataset import Dataset

__all__ = [
    "IDENTIFYING_QUERY_KEYS",
    "Deidentifier",
    "LogScrubber",
    "ScrubbedStream",
    "default_key_path",
    "load_or_create_key",
    "redact_query_values",
    "without_free_text",
]

KEY_ENV = "LESION_TOOL_DEID_KEY"
MAX_SHIFT_DAYS = 3650

# PS3.16 CID 7050 "De-identification Method" codes (DCM scheme).
_METHOD_CODES = (
    ("113100", "Basic Application Confidentiality Profile"),
    ("113104", "Clean Structured Content Option"),
    ("113107", "Retain Longitudinal Temporal Information Modified Dates Option"),
    ("113110", "Retain UIDs Option"),
)


_TRIAL_KEPT = (
    (0x0012, 0x0010),  # ClinicalTrialSponsorName
    (0x0012, 0x0020),  # ClinicalTrialProtocolID
    (0x0012, 0x0021),  # ClinicalTrialProtocolName
    (0x0012, 0x0040),  # ClinicalTrialSubjectID
    (0x0012, 0x0050),  # ClinicalTrialTimePointID
    (0x0012, 0x0051),  # ClinicalTrialTimePointDescription
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
        import secrets

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
    pseudonymised: dict[str, str] = dataclasses.field(
        default_factory=dict, repr=False, compare=False
    )
    """Real patient id -> pseudonym of every id seen so far: :class:`LogScrubber` replaces them
    in messages."""

    def _digest(self, purpose: str, patient_id: str) -> bytes:
        import hashlib  # here, not at the top: every command imports this module for its log
        import hmac

        message = f"{purpose}\0{patient_id}".encode("utf-8", "surrogatepass")
        return hmac.new(self.key, message, hashlib.sha256).digest()

    def patient_id(self, patient_id: str) -> str:
        """The patient's pseudonym: ``P-`` and ten upper-case hex digits."""
        pseudonym = self.pseudonymised.get(patient_id)
        if pseudonym is None:
            pseudonym = "P-" + self._digest("id", patient_id).hex()[:10].upper()
            self.pseudonymised[patient_id] = pseudonym
        return pseudonym

    def path_alias(self, path: str | os.PathLike[str]) -> str:
        """A file or folder's keyed alias in messages: ``path-`` and ten hex digits of its
        absolute path, plus its suffix when it is a common file type (``.json``, ``.nii.gz``)."""
        text = os.fspath(path)
        absolute = os.path.abspath(os.path.expanduser(text))
        digest = self._digest("path", absolute).hex()[:10].upper()
        name = os.path.basename(text.rstrip("/" + os.sep)).lower()
        suffix = next((s for s in _KNOWN_SUFFIXES if name.endswith(s) and name != s), "")
        return f"path-{digest}{suffix}"

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
            # The trial's own coding is what a de-identified trial SR is for: sponsor, protocol
            # and time point, and the subject id (a trial pseudonym, or ours by default).
            **dict.fromkeys(_TRIAL_KEPT, keep),
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


# -- messages ----------------------------------------------------------------------------------

IDENTIFYING_QUERY_KEYS = frozenset(
    key.lower()
    for key in (
        "PatientID",
        "PatientName",
        "PatientBirthDate",
        "PatientBirthName",
        "PatientMotherBirthName",
        "OtherPatientIDs",
        "OtherPatientNames",
        "IssuerOfPatientID",
        "AccessionNumber",
        "ReferringPhysicianName",
        "00100020",  # the same attributes by tag, as QIDO-RS also accepts them
        "00100010",
        "00100030",
        "00101005",
        "00101060",
        "00101000",
        "00101001",
        "00100021",
        "00080050",
        "00080090",
    )
)
"""QIDO-RS query keys whose values identify a patient; redacted from every message."""

REDACTED = "<redacted>"
_KNOWN_SUFFIXES = (
    ".nii.gz",
    ".json",
    ".csv",
    ".dcm",
    ".nii",
    ".npy",
    ".nrrd",
    ".mha",
    ".html",
    ".pdf",
    ".png",
    ".key",
    ".tmp",
)
_QUERY_VALUE = re.compile(r"(?P<head>[?&](?P<key>[A-Za-z0-9_.%-]+)=)(?P<value>[^&\s#\"'<>]*)")
# A path-like token: no white space or quotes; ``http://...`` is a URL, not a path.
_TOKEN = re.compile(r"[^\s'\"()\[\]{}<>,;|]+")
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_FILE_SUFFIX = re.compile(
    r"\.(?:" + "|".join(s[1:].replace(".", r"\.") for s in _KNOWN_SUFFIXES) + r")$", re.I
)
_TRAILING = ":.,;!?"
_NOT_A_PATH = re.compile(r"^(?:[0-9.]+/[0-9.]+|[A-Za-z-]{1,12}/[A-Za-z-]{1,12})$")


def redact_query_values(text: str, keys: frozenset[str] | None = IDENTIFYING_QUERY_KEYS) -> str:
    """``text`` with the value of every URL query parameter named in ``keys`` (lower case; None:
    every parameter) replaced by ``<redacted>``: ``?PatientID=123&limit=5`` ->
    ``?PatientID=<redacted>&limit=5``."""
    if "=" not in text:
        return text

    def replace(match: re.Match[str]) -> str:
        if keys is not None and match["key"].lower() not in keys:
            return match[0]
        return match["head"] + (REDACTED if match["value"] else "")

    return _QUERY_VALUE.sub(replace, text)


class LogScrubber:
    """Rewrites a message for stderr so that it identifies nobody (see the module docstring).

    Without a de-identifier only identifying URL query values are redacted. With one, every
    query value, every path (the ``paths`` named on the command line wherever they appear, any
    other token that looks like a path: it holds a ``/`` or ends in a file suffix) and every
    patient id the de-identifier has pseudonymised are replaced.
    """

    def __init__(
        self,
        deidentifier: Deidentifier | None = None,
        paths: Iterable[str | os.PathLike[str]] = (),
    ) -> None:
        self.deidentifier = deidentifier
        self._roots: list[str] = []
        self._listings: dict[str, tuple[str, ...]] = {}
        for path in paths:
            self.add_path(path)

    def add_path(self, path: str | os.PathLike[str]) -> None:
        """Treat ``path`` (as written, absolute and resolved) as a path wherever it appears."""
        text = os.fspath(path)
        if not text or text == "-" or _URL.match(text):
            return
        forms = {text, os.path.abspath(text), os.path.realpath(text)}
        self._roots = sorted(set(self._roots) | {f for f in forms if len(f) > 1}, key=len)[::-1]

    def scrub(self, text: str) -> str:
        """``text`` as it may be printed."""
        if self.deidentifier is None:
            return redact_query_values(text)
        text = redact_query_values(text, None)
        text = self._paths(text)
        return self._patient_ids(text)

    def _paths(self, text: str) -> str:
        deid = self.deidentifier
        assert deid is not None
        out: list[str] = []
        pos = 0
        while pos < len(text):
            start, end = self._next_path(text, pos)
            if start < 0:
                out.append(text[pos:])
                break
            out.append(text[pos:start])
            out.append(deid.path_alias(text[start:end]))
            pos = end
        return "".join(out)

    def _next_path(self, text: str, pos: int) -> tuple[int, int]:
        """Start and end of the next path in ``text`` from ``pos``, or (-1, -1)."""
        for match in _TOKEN.finditer(text, pos):
            token = match[0]
            start = match.start()
            # a named path inside the token ("file=/data/x.json"), else the token itself
            for root in self._roots:
                at = token.find(root)
                if at >= 0:
                    start += at
                    break
            else:
                if _URL.match(token) or not (
                    "/" in token or os.sep in token or _FILE_SUFFIX.search(token.rstrip(_TRAILING))
                ):
                    continue
                bare = token.rstrip(_TRAILING)
                if _NOT_A_PATH.match(bare) and not os.path.lexists(bare):
                    continue  # a ratio or a unit: 5/7, and/or, mm/s
            end = self._extend(text, start, match.end())
            while end > start and text[end - 1] in _TRAILING:
                end -= 1
            if end > start:
                return start, end
        return -1, -1

    def _extend(self, text: str, start: int, end: int) -> int:
        """Extend a path over spaces while the longer text still names (the beginning of) an
        existing file or folder: "/data/Jane Doe/a.json", "/data/Jane Doe.json". A path that
        ends in ``:`` / ``,`` / ``;`` ends there ("FILE: problem")."""
        while end < len(text) and text[end] == " " and text[end - 1] not in ":,;":
            nxt = _TOKEN.match(text, end + 1)
            if nxt is None or not self._names_something(text[start : nxt.end()].rstrip(_TRAILING)):
                break
            end = nxt.end()
        return end

    def _names_something(self, candidate: str) -> bool:
        """Whether ``candidate`` is an existing path, or the start of a name in an existing
        folder (folder listings are cached: a batch prints many lines about one folder)."""
        if os.path.lexists(candidate):
            return True
        head = candidate
        while True:
            parent, name = os.path.split(head)
            if not parent or parent == head:
                return False
            if os.path.isdir(parent):
                break
            head = parent
        entries = self._listings.get(parent)
        if entries is None:
            try:
                entries = tuple(os.listdir(parent))
            except OSError:
                entries = ()
            self._listings[parent] = entries
        return any(entry.startswith(name) for entry in entries)

    def _patient_ids(self, text: str) -> str:
        deid = self.deidentifier
        assert deid is not None
        for real in sorted(deid.pseudonymised, key=len, reverse=True):
            if real and real in text:
                pattern = rf"(?<![A-Za-z0-9]){re.escape(real)}(?![A-Za-z0-9])"
                text = re.sub(pattern, deid.pseudonymised[real], text)
        return text


class ScrubbedStream:
    """A text stream that passes every write through :meth:`LogScrubber.scrub` (for stderr)."""

    def __init__(self, stream: IO[str], scrubber: LogScrubber) -> None:
        self.stream = stream
        self.scrubber = scrubber

    def write(self, text: str) -> int:
        """Write the scrubbed ``text``; returns the length of ``text`` (what callers expect)."""
        try:
            clean = self.scrubber.scrub(text)
        except Exception:  # noqa: BLE001 - a scrubber bug must neither leak nor hide a message
            clean = "lesion-tool: (a message that could not be checked for identifiers)\n"
        self.stream.write(clean)
        return len(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)
