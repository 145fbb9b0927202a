"""Every coded concept lesion-tool writes into (and reads from) DICOM Structured Reports.

One place for all codes, so the SR writer (:mod:`lesion_tool.storage.sr`) and reader
(:mod:`lesion_tool.storage.sr_import`) cannot drift apart.

Standard codes first. Where DICOM (PS3.16) or SNOMED CT has a concept, it is used, taken from
the context groups as pydicom ships them (``pydicom.sr.codedict``), never typed from memory:

- CID 6147 "Response Criteria": RECIST 1.1 is ``(126081, DCM)``.
- CID 6144 "Target/Non-target response": ``(112041..112047, DCM)`` for target CR/PR/PD/SD and
  non-target CR, incomplete response or stable disease, PD.
- CID 6146 "Time Point Types": ``Baseline (C1442488, UMLS)``, ``Posttreatment (126074, DCM)``.
- SNOMED CT: Lesion, Long axis, Short axis, Present, Absent, Not Evaluated, Equivocal, Yes, No,
  organs (Liver ...) and the Couinaud hepatic segments I-VIII.
- DCM 112049 Best Overall Response, 112048 Current Response, 121106 Comment (the label OHIF /
  Cornerstone3D show for a measurement group), CID 7453 performing roles (Reader ...).
- NCI Thesaurus (designator ``NCIt``), as the CDISC oncology response terminology uses it, for
  the overall and best overall response values: C4870 Complete Response, C18058 Partial
  Response, C18213 Stable Disease, C35571 Progressive Disease, C48660 Not Applicable. NCIt has
  no mRECIST for HCC (its C126031 is the mRECIST of mesothelioma), so that criteria code stays
  local. Not evaluable (NE) is local too: see :data:`NOT_EVALUABLE`.

Local codes. mRECIST has no code in CID 6147 (nor in SNOMED CT or NCIt as shipped by pydicom),
and the project needs a few concepts DICOM lacks (the viable-tumour diameter, lesion category
"new", the ``too_small`` state, ...). They use the private coding scheme designator
:data:`LOCAL_SCHEME` = ``"99LESIONTOOL"`` (PS3.16 section 8.2: designators beginning with "99"
are private/local). Every SR written by lesion-tool declares it in CodingSchemeIdentification
(:func:`local_scheme_identification`). The full list is in ``docs/sr.md``.
"""

from __future__ import annotations

import re

from highdicom.coding_schemes import CodingSchemeIdentificationItem
from highdicom.sr import CodedConcept
from pydicom.sr.codedict import codes

from lesion_tool.model import Category, Kind, LesionState

LOCAL_SCHEME = "99LESIONTOOL"
"""Private coding scheme designator of lesion-tool's local concepts."""


def _local(value: str, meaning: str) -> CodedConcept:
    return CodedConcept(value=value, scheme_designator=LOCAL_SCHEME, meaning=meaning)


def _std(code: object) -> CodedConcept:
    """A pydicom ``Code`` (from the standard's context groups) as a highdicom CodedConcept."""
    return CodedConcept(
        value=code.value,  # type: ignore[attr-defined]
        scheme_designator=code.scheme_designator,  # type: ignore[attr-defined]
        meaning=code.meaning,  # type: ignore[attr-defined]
    )


def local_scheme_identification() -> CodingSchemeIdentificationItem:
    """An item of CodingSchemeIdentificationSequence (0008,0110) declaring :data:`LOCAL_SCHEME`."""
    return CodingSchemeIdentificationItem(
        designator=LOCAL_SCHEME,
        name="lesion-tool local concepts",
        responsible_organization="lesion-tool project",
    )


# ---------------------------------------------------------------------------------------------
# Response criteria (measurement method). CID 6147 has RECIST 1.1 but no mRECIST.
RECIST_1_1 = _std(codes.cid6147.RECIST1Point1)
MRECIST = _local("MRECIST", "mRECIST (Lencioni and Llovet 2010)")
MRECIST_1_1 = _local("MRECIST-1.1", "mRECIST measurements in the RECIST 1.1 framework")

CRITERIA_BY_PRESET: dict[str, CodedConcept] = {
    "mrecist": MRECIST,
    "mrecist-1.1": MRECIST_1_1,
    "recist-1.1": RECIST_1_1,
}
"""Response preset name (``lesion_tool.response.PRESETS``) -> measurement method code."""

# ---------------------------------------------------------------------------------------------
# Report, groups, identification
FINDING_LESION = _std(codes.SCT.Lesion)
"""Finding type of every lesion's measurement group."""
FINDING_TIMEPOINT_RESPONSE = _local("TPRESPONSE", "Timepoint response assessment")
"""Finding type of the per-criteria timepoint response group."""
LESION_IDENTIFIER = _std(codes.DCM.LesionIdentifier)
"""TEXT item in each lesion group carrying the lesion id (``T1``, ``NT1``, ``N1``...)."""
COMMENT = _std(codes.DCM.Comment)
"""TEXT item (DCM 121106) in each lesion group: the lesion id again, as the label OHIF shows."""
PROCEDURE_CT = CodedConcept(
    value="25045-6", scheme_designator="LN", meaning="CT unspecified body region"
)
"""Procedure reported (CID 100 as used by highdicom's examples)."""

# ---------------------------------------------------------------------------------------------
# Category, state, kind (qualitative evaluations)
LESION_CATEGORY = _local("LESIONCATEGORY", "Lesion category")
CATEGORY_CODES: dict[Category, CodedConcept] = {
    Category.TARGET: _std(codes.cid6145.TargetLesionAtBaseline),
    Category.NON_TARGET: _std(codes.cid6145.NonTargetLesionAtBaseline),
    Category.NEW: _local("NEWLESION", "New lesion"),
}

LESION_STATE = _local("LESIONSTATE", "Lesion state")
STATE_CODES: dict[LesionState, CodedConcept] = {
    LesionState.MEASURED: _local("MEASURED", "Measured"),
    LesionState.TOO_SMALL: _local("TOOSMALL", "Present but too small to measure"),
    LesionState.ABSENT: _std(codes.SCT.Absent),
    LesionState.NOT_EVALUATED: _std(codes.SCT.NotEvaluated),
    LesionState.PRESENT: _std(codes.SCT.Present),
    LesionState.UNEQUIVOCAL_PROGRESSION: _local("UNEQPROG", "Unequivocal progression"),
    LesionState.EQUIVOCAL: _std(codes.SCT.Equivocal),
    LesionState.UNEQUIVOCAL: _local("UNEQUIVOCAL", "Unequivocal"),
}

TARGET_KIND = _local("TARGETKIND", "Target lesion measurement kind")
KIND_CODES: dict[Kind, CodedConcept] = {
    Kind.VIABLE: _local("KINDVIABLE", "Viable (arterially enhancing) longest diameter"),
    Kind.LONGEST: _local("KINDLONGEST", "Conventional longest diameter"),
    Kind.SHORT_AXIS: _local("KINDSHORTAXIS", "Short axis"),
}

LESION_TYPE = _local("LESIONTYPE", "Lesion type")
TYPE_CODES: dict[str, CodedConcept] = {
    "portal_vein_thrombosis": _local("PVT", "Portal vein thrombosis"),
    "ascites": _local("ASCITES", "Ascites"),
    "pleural_effusion": _std(codes.SCT.PleuralEffusion),
    "infiltrative": _local("INFILTRATIVE", "Infiltrative tumour"),
    "lymph_node": _std(codes.SCT.LymphNode),
}
OTHER_TYPE_VALUE = "OTHERTYPE"
"""Code value of a lesion type without a code of its own; the type text is its meaning."""

TYPICAL_HCC_PATTERN = _local("TYPICALHCC", "Typical HCC vascular pattern")
PORTA_HEPATIS = _local("PORTAHEPATIS", "At the porta hepatis")
CYTOLOGY_CONFIRMED = _local("CYTOLOGY", "Malignancy confirmed by cytology")
YES = _std(codes.SCT.Yes)
NO = _std(codes.SCT.No)

# ---------------------------------------------------------------------------------------------
# Diameters (NUM concept names). UCUM millimetre.
MM = _std(codes.UCUM.Millimeter)
PERCENT = _std(codes.UCUM.Percent)
DAY = _std(codes.UCUM.Day)
VIABLE_DIAMETER = _local("VIABLELD", "Longest diameter of viable tumour")
LONGEST_DIAMETER = _std(codes.SCT.LongAxis)
SHORT_AXIS = _std(codes.SCT.ShortAxis)
LENGTH = _std(codes.SCT.Length)
"""Read only: the concept OHIF/Cornerstone "Length" tools write."""
DIAMETER = _std(codes.SCT.Diameter)
"""Read only: highdicom's examples use it for a lesion diameter."""

# Timepoint response group
TARGET_SUM = _local("TARGETSUM", "Sum of target lesion diameters")
BASELINE_SUM = _local("BASELINESUM", "Baseline sum of target lesion diameters")
NADIR_SUM = _local("NADIRSUM", "Nadir sum of target lesion diameters")
CHANGE_FROM_BASELINE = _local("CHGBASELINE", "Change of target sum from baseline")
CHANGE_FROM_NADIR = _local("CHGNADIR", "Change of target sum from nadir")
TARGET_RESPONSE = _local("TARGETRESP", "Target lesion response")
NON_TARGET_RESPONSE = _local("NONTARGETRESP", "Non-target lesion response")
NEW_LESIONS = _local("NEWLESIONS", "New lesions")
OVERALL_RESPONSE = _std(codes.DCM.CurrentResponse)
"""Overall response at the timepoint: DCM "Current Response"."""
BEST_OVERALL_RESPONSE = _std(codes.DCM.BestOverallResponse)
"""Best overall response of the patient up to and including the timepoint (DCM 112049)."""

NCIT = "NCIt"
"""Coding scheme designator of the NCI Thesaurus (PS3.16 Table 8-1)."""


def _ncit(value: str, meaning: str) -> CodedConcept:
    return CodedConcept(value=value, scheme_designator=NCIT, meaning=meaning)


NOT_EVALUABLE = _local("NE", "Not evaluable")
"""Not evaluable (NE) as a target, non-target, overall or best overall response: local.

SRs written before used (373121007, SCT, "Not Evaluated"). Checked against PS3.16 (pydicom's
CID tables and the DICOM terminology published as FHIR value sets): DICOM lists that code only
in CID 3703 *Wall Motion* (an echocardiography segment not scored), and SNOMED CT's own name
for 373121007 is "Test not done": neither means that a response could not be assessed. No
response context group (CID 6144, 6147) has a not-evaluable value, and no NCIt code for it
could be verified here, so the concept is local, like non-CR/non-PD, until one is. The old
code is still read as NE (:data:`LEGACY_OVERALL_RESPONSE_CODES`).
"""
NOT_APPLICABLE = _ncit("C48660", "Not Applicable")

# Target response values: CID 6144 where it has them.
TARGET_RESPONSE_CODES: dict[str, CodedConcept] = {
    "CR": _std(codes.cid6144.TargetLesionCompleteResponse),
    "PR": _std(codes.cid6144.TargetLesionPartialResponse),
    "SD": _std(codes.cid6144.TargetLesionStableDisease),
    "PD": _std(codes.cid6144.TargetLesionProgressiveDisease),
    "NE": NOT_EVALUABLE,
    "NA": NOT_APPLICABLE,
}
NON_TARGET_RESPONSE_CODES: dict[str, CodedConcept] = {
    "CR": _std(codes.cid6144.NonTargetLesionCompleteResponse),
    "non-CR/non-PD": _std(codes.cid6144.NonTargetLesionIncompleteResponseOrStableDisease),
    "PD": _std(codes.cid6144.NonTargetLesionProgressiveDisease),
    "NE": NOT_EVALUABLE,
    "NA": NOT_APPLICABLE,
}
# Overall (and best overall) response: DICOM has no coded overall CR/PR/SD/PD (CID 6144 is per
# lesion class); NCIt has them. Non-CR/non-PD stays local.
OVERALL_RESPONSE_CODES: dict[str, CodedConcept] = {
    "CR": _ncit("C4870", "Complete Response"),
    "PR": _ncit("C18058", "Partial Response"),
    "SD": _ncit("C18213", "Stable Disease"),
    "PD": _ncit("C35571", "Progressive Disease"),
    "non-CR/non-PD": _local("NONCRNONPD", "Non-CR/non-PD"),
    "NE": NOT_EVALUABLE,
    "NA": NOT_APPLICABLE,
}
LEGACY_OVERALL_RESPONSE_CODES: dict[str, CodedConcept] = {
    "CR": _local("CR", "Complete response"),
    "PR": _local("PR", "Partial response"),
    "SD": _local("SD", "Stable disease"),
    "PD": _local("PD", "Progressive disease"),
    "NA": _local("NA", "Not applicable"),
    "NE": _std(codes.SCT.NotEvaluated),
}
"""Read only: the codes SRs written by earlier lesion-tool versions carry (local response codes
before NCIt; SCT 373121007 for NE before the local NE code)."""
NEW_LESION_CODES: dict[str, CodedConcept] = {
    "yes": YES,
    "none": NO,
    "equivocal": _std(codes.SCT.Equivocal),
}

# Time point context
TIME_POINT_BASELINE = _std(codes.cid6146.Baseline)
TIME_POINT_POSTTREATMENT = _std(codes.cid6146.Posttreatment)
TREATMENT_START_EVENT = _local("TXSTART", "Start of treatment")

# ---------------------------------------------------------------------------------------------
# Anatomy: organ -> finding site; Couinaud segment -> topographical modifier
ORGAN_CODES: dict[str, CodedConcept] = {
    "liver": _std(codes.SCT.Liver),
    "portal_vein": _std(codes.SCT.PortalVein),
    "lymph_node": _std(codes.SCT.LymphNode),
    "lung": _std(codes.SCT.Lung),
    "pleura": _std(codes.SCT.Pleura),
    "peritoneum": _std(codes.SCT.PeritonealCavity),
    "bone": _std(codes.SCT.Bone),
    "adrenal": _std(codes.SCT.AdrenalGland),
    "spleen": _std(codes.SCT.Spleen),
    "stomach": _std(codes.SCT.Stomach),
    "kidney": _std(codes.SCT.Kidney),
    "pancreas": _std(codes.SCT.Pancreas),
    "gallbladder": _std(codes.SCT.Gallbladder),
    "omentum": _std(codes.SCT.Omentum),
}
OTHER_ORGAN_VALUE = "OTHERSITE"
"""Code value of an organ without a code here; the organ name is the code meaning."""

COUINAUD_CODES: dict[str, CodedConcept] = {
    "S1": _std(codes.SCT.CouinaudHepaticSegmentI),
    "S2": _std(codes.SCT.CouinaudHepaticSegmentII),
    "S3": _std(codes.SCT.CouinaudHepaticSegmentIII),
    "S4": _std(codes.SCT.CouinaudHepaticSegmentIV),
    "S5": _std(codes.SCT.CouinaudHepaticSegmentV),
    "S6": _std(codes.SCT.CouinaudHepaticSegmentVI),
    "S7": _std(codes.SCT.CouinaudHepaticSegmentVII),
    "S8": _std(codes.SCT.CouinaudHepaticSegmentVIII),
}
OTHER_LOCATION_VALUE = "LOCATION"
"""Code value of a free-text location (not a Couinaud segment); the text is the meaning."""

_SEGMENT_RE = re.compile(r"^\s*(?:S|SEG(?:MENT)?\s*)([1-8])\s*$", re.IGNORECASE)


def couinaud_code(location: str | None) -> CodedConcept | None:
    """The SNOMED CT Couinaud segment code of a location such as ``"S8"``, or None."""
    if not location:
        return None
    match = _SEGMENT_RE.match(location)
    return COUINAUD_CODES[f"S{match.group(1)}"] if match else None


def organ_code(organ: str) -> CodedConcept:
    """The finding-site code of an organ name; unknown organs get a local code naming them."""
    return ORGAN_CODES.get(organ) or _local(OTHER_ORGAN_VALUE, organ)


def location_code(location: str) -> CodedConcept:
    """Topographical modifier for a location: a Couinaud segment code or a local free-text one."""
    return couinaud_code(location) or _local(OTHER_LOCATION_VALUE, location)


def type_code(lesion_type: str) -> CodedConcept:
    """The code of a lesion type; unknown types get a local code naming them."""
    return TYPE_CODES.get(lesion_type) or _local(OTHER_TYPE_VALUE, lesion_type)


def same_code(a: object, b: CodedConcept) -> bool:
    """Whether a code (highdicom, pydicom or a code-sequence item) equals ``b`` by value and scheme.

    Comparison ignores the meaning, as codes are identified by value and designator; the SRT
    and SCT designators of SNOMED CT are treated as one.
    """
    value = getattr(a, "value", None) or getattr(a, "CodeValue", None)
    scheme = getattr(a, "scheme_designator", None) or getattr(a, "CodingSchemeDesignator", None)
    if value is None or scheme is None:
        return False
    schemes = {scheme, b.scheme_designator}
    return value == b.value and (len(schemes) == 1 or schemes == {"SCT", "SRT"})


def lookup(code: object, table: dict[str, CodedConcept] | dict) -> object | None:  # type: ignore[type-arg]
    """The key of ``table`` whose code equals ``code`` (see :func:`same_code`), or None."""
    for key, candidate in table.items():
        if same_code(code, candidate):
            return key
    return None


# Observers and title
OBSERVER_PERSON = _std(codes.DCM.Person)
OBSERVER_DEVICE = _std(codes.DCM.Device)
READER_ROLES: dict[str, CodedConcept] = {
    "reader": _std(codes.cid7453.Reader),
    "adjudicator": _std(codes.cid7453.Adjudicator),
    "eligibility-reader": _std(codes.cid7453.EligibilityReader),
    "reviewer": _std(codes.cid7453.Reviewer),
}
"""The reader's role in the reading (CID 7453 Performing Roles), by CLI name."""
REPORT_TITLE = _std(codes.cid7021.ImagingMeasurementReport)
