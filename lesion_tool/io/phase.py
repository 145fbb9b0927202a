"""Contrast-phase classification of CT series: description text, contrast tags, timing, pixels.

Four kinds of evidence, each usable alone and combined per study by :mod:`lesion_tool.io.scan`:

1. **Description text** (:func:`phase_from_text`): SeriesDescription / ProtocolName words and vendor
   abbreviations in several languages (``AP``, ``ART``, ``HAP``, ``PVP``, ``EQP``, ``NC``, ``C-``,
   ``nativ``, ``artériel``, ``spät``, ``sin contraste`` ...). Slash-joined region abbreviations
   such as ``C/A/P`` (chest / abdomen / pelvis) and ``A/P`` (abdomen / pelvis) are removed first, so
   they never read as ``AP`` (arterial phase).
2. **Contrast tags** (:func:`phase_from_timing`): ContrastBolusAgent / the Enhanced CT contrast
   usage sequence say whether contrast was given; the delay of AcquisitionTime (or SeriesTime) after
   ContrastBolusStartTime gives the phase (<= 45 s arterial, <= 110 s portal venous, later delayed).
3. **Order in the study**: contrast-enhanced acquisitions of one study follow arterial, portal
   venous, delayed; used only as weak evidence.
4. **Pixels** (:func:`estimate_enhancement`, :func:`phase_from_enhancement`): the enhancement of the
   aorta, of the bright vessels inside the liver (portal / hepatic veins) and of the liver
   parenchyma, in HU, estimated on a few axial slices (method in :func:`estimate_enhancement`).
   Within a study the series with the highest aorta-to-portal-vein contrast is the arterial one and
   the one with the lowest aorta the non-contrast one, which is more reliable than a threshold on
   one series alone.
"""

from __future__ import annotations

import enum
import math
import re
import unicodedata
from dataclasses import dataclass

import numpy as np

__all__ = [
    "Enhancement",
    "Phase",
    "PhaseCall",
    "TextCall",
    "estimate_enhancement",
    "phase_from_enhancement",
    "phase_from_text",
    "phase_from_timing",
]


class Phase(enum.StrEnum):
    """Contrast phase of a CT acquisition."""

    NON_CONTRAST = "non_contrast"
    """No intravenous contrast."""
    ARTERIAL = "arterial"
    """Hepatic arterial phase (subphase early / late); the phase mRECIST measures on."""
    PORTAL_VENOUS = "portal_venous"
    """Portal venous phase (about 60-80 s after injection)."""
    DELAYED = "delayed"
    """Delayed / equilibrium phase (about 3-5 min)."""
    UNKNOWN = "unknown"
    """No usable evidence."""


@dataclass(frozen=True, slots=True)
class PhaseCall:
    """The phase of one image stack with the evidence behind it.

    ``confidence`` is in [0, 1]; ``evidence`` lists each piece used, in words; ``warnings`` says
    where evidence disagrees (e.g. a series described as arterial whose pixels look portal venous).
    ``source`` names the evidence that decided: ``description``, ``contrast timing``, ``image``,
    ``study order`` or ``none``.
    """

    phase: Phase
    subphase: str | None
    confidence: float
    evidence: tuple[str, ...]
    warnings: tuple[str, ...] = ()
    source: str = "none"

    def to_dict(self) -> dict[str, object]:
        """JSON-ready dictionary."""
        return {
            "phase": self.phase.value,
            "subphase": self.subphase,
            "confidence": round(self.confidence, 2),
            "source": self.source,
            "evidence": list(self.evidence),
            "warnings": list(self.warnings),
        }


@dataclass(frozen=True, slots=True)
class TextCall:
    """What the description text says: phase, subphase and the words that said it."""

    phase: Phase
    subphase: str | None
    matched: str
    contrast: bool | None = None
    """True when the text says contrast was given (``C+``, ``with contrast``) without a phase."""


# --- 1. description text ------------------------------------------------------------------------

# Slash-joined body-region lists: C/A/P, A/P, CH/ABD/PEL, T/A/P. Removed before tokenising.
_REGION_LIST = re.compile(
    r"\b(?:C|CH|CHEST|T|THX|THORAX|N|NECK|A|ABD|ABDO|ABDOMEN|P|PEL|PELV|PELVIS)"
    r"(?:\s*/\s*(?:C|CH|CHEST|T|THX|THORAX|A|ABD|ABDO|ABDOMEN|P|PEL|PELV|PELVIS)){1,3}\b"
)
_CAP = re.compile(r"\b(?:CAP|TAP)\b")  # chest-abdomen-pelvis run together


def _any(words: str) -> str:
    """A regex group matching any of the space-separated ``words`` (``_`` stands for a space)."""
    return "(?:" + "|".join(w.replace("_", r"\s+") for w in words.split()) + ")"


_ART = _any("ART ARTERIAL ARTERIELL ARTERIELLE ARTERIELLA ARTERIALE ARTERIEL")
_CONTRAST = _any("CON CONTRAST CONTRASTE KONTRAST CONTRASTO CM KM MDC ENH ENHANCED")

# Ordered: the first pattern that matches decides. Each: (regex on normalised text, phase, sub).
# Non-contrast first: "PRE", "NON CON", "C-" never mean a contrast phase.
_RULE_SOURCES: tuple[tuple[str, Phase, str | None], ...] = (
    (
        r"\b"
        + _any("NON NO W/O WO WITHOUT SIN SANS SENZA OHNE")
        + r"[\s\-/]*(?:IV\s*)?"
        + _CONTRAST
        + r"\b",
        Phase.NON_CONTRAST,
        None,
    ),
    (
        r"\b"
        + _any(
            "NONCON NONCONTRAST NCCT NECT UNENHANCED UNENH NONENHANCED PLAIN PRE PRECONTRAST "
            "NATIV NATIVE NAT NC BASAL BASELINE_NON LEER NATIVO NATIVA"
        )
        + r"\b",
        Phase.NON_CONTRAST,
        None,
    ),
    (r"(?:^|[\s(\[])C\s*-(?=$|[\s)\]])", Phase.NON_CONTRAST, None),
    (r"(?:^|[\s(\[])W/?O(?=$|[\s)\]])", Phase.NON_CONTRAST, None),
    # arterial, with subphase where stated
    (
        r"\b" + _any("EARLY FRUH FRUEH PRECOCE TEMPRANA") + r"[\s\-]*" + _ART + r"\w*",
        Phase.ARTERIAL,
        "early",
    ),
    (r"\b" + _any("EAP CTA ANGIO ANGIOGRAPHY ANGIOGRAPHIE") + r"\b", Phase.ARTERIAL, "early"),
    (
        r"\b" + _any("LATE SPAT SPAET TARDIVE TARDIA") + r"[\s\-]*" + _ART + r"\w*",
        Phase.ARTERIAL,
        "late",
    ),
    (r"\b" + _any("LAP HAP LHAP") + r"\b", Phase.ARTERIAL, "late"),
    (
        r"\bART\w*[\s\-]+" + _any("LATE TARDIF TARDIVE TARDIA TARDIO TARDIVA SPAT SPAET") + r"\b",
        Phase.ARTERIAL,
        "late",
    ),
    (
        r"\bART\w*[\s\-]+" + _any("EARLY PRECOCE TEMPRANA TEMPRANO FRUH FRUEH") + r"\b",
        Phase.ARTERIAL,
        "early",
    ),
    (
        r"\b"
        + _any(
            "ART ARTS ARTERIAL ARTERIALPHASE ARTERIELL ARTERIELLE ARTERIEL ARTERIALE ARTERIALI "
            "ARTERIELLA ARTERIELE ARTERIAAL ARTERIELLEPHASE AP ARTPHASE ARTERIA"
        )
        + r"\b",
        Phase.ARTERIAL,
        None,
    ),
    (
        r"\b"
        + _any(
            "PV PVP PORTAL PORTALVENOUS PORTOVENOUS PORTOVENOSE PORTALVENOS PORTALVENOSE PORTALE "
            "PORTA VENOUS VENOSA VENOSO VENEUX VENEUSE VENOS VENOSE VENOES VENOESE VENOUSPHASE "
            "VEN VP PORTOVENOSA PORTOVENOSO"
        )
        + r"\b",
        Phase.PORTAL_VENOUS,
        None,
    ),
    (
        r"\b"
        + _any(
            "DELAY DELAYS DELAYED DEL DLY EQ EQP EQUIL EQUILIBRIUM EQUILIBRE EQUILIBRIO SPAT SPAET "
            "SPATPHASE SPAETPHASE TARDIVE TARDIF TARDIA TARDIO TARDIVA RETARDADA RETARDADO LATE "
            "HBP HEPATOBILIARY URO EXCRETORY NEPHROGRAPHIC NEPHRO"
        )
        + r"\b",
        Phase.DELAYED,
        None,
    ),
)
_TEXT_RULES = tuple((re.compile(p), ph, sub) for p, ph, sub in _RULE_SOURCES)
_DELAY_SECONDS = re.compile(r"\b(\d{2,3})\s*(?:S|SEC|SECS|SECONDS|SEK|SEG)\b")
_DELAY_MINUTES = re.compile(r"\b(\d{1,2})\s*(?:MIN|MINS|MINUTES|MINUTEN)\b")


def _normalise(text: str) -> str:
    """Upper case, accents stripped (artériel -> ARTERIEL, spät -> SPAT), underscores as spaces."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    return text.upper().replace("_", " ").replace(".", " ")


def phase_from_text(*texts: str) -> TextCall | None:
    """The phase a series description (and protocol name) states, or None.

    Parameters
    ----------
    texts
        SeriesDescription first, then other free text (ProtocolName); the first text that names a
        phase decides.

    Returns
    -------
    TextCall or None
        The phase, early / late subphase when stated, and the matched words.

    Examples
    --------
    ``"LIVER 3 PHASE (AP)"`` -> arterial; ``"Recon 3: LIVER 2 PHASE (C/A/P)"`` -> None (C/A/P is
    chest / abdomen / pelvis); ``"PRE LIVER"`` -> non_contrast; ``"Spätphase"`` -> delayed.
    """
    contrast_seen = False
    for raw in texts:
        if not raw:
            continue
        text = _normalise(raw)
        text = _REGION_LIST.sub(" ", text)
        text = _CAP.sub(" ", text)
        for pattern, phase, sub in _TEXT_RULES:
            m = pattern.search(text)
            if m:
                return TextCall(phase, sub, m.group(0).strip(" ([)]"))
        m = _DELAY_MINUTES.search(text)
        if m and 2 <= int(m.group(1)) <= 30:
            return TextCall(Phase.DELAYED, None, m.group(0))
        m = _DELAY_SECONDS.search(text)
        if m:
            call = _phase_from_delay(float(m.group(1)))
            if call is not None:
                return TextCall(call[0], call[1], m.group(0))
        if re.search(r"(?:^|[\s(\[])C\s*\+|\b(?:W/\s*CON|WITH\s+CONTRAST|MIT\s+KM|CE)\b", text):
            contrast_seen = True
    if contrast_seen:
        return TextCall(Phase.UNKNOWN, None, "contrast-enhanced (no phase named)", contrast=True)
    return None


# --- 2. contrast tags and timing ------------------------------------------------------------------


def _phase_from_delay(seconds: float) -> tuple[Phase, str | None] | None:
    """Phase of an acquisition ``seconds`` after the start of the contrast injection."""
    if seconds < 5 or seconds > 3600:
        return None
    if seconds <= 28:
        return Phase.ARTERIAL, "early"
    if seconds <= 50:
        return Phase.ARTERIAL, "late"
    if seconds <= 110:
        return Phase.PORTAL_VENOUS, None
    return Phase.DELAYED, None


def phase_from_timing(
    acquisition_s: float | None, contrast_start_s: float | None
) -> tuple[Phase, str | None, float] | None:
    """Phase from the delay between contrast start and acquisition, both in seconds of the day.

    Returns ``(phase, subphase, delay_s)`` or None when either time is missing or the delay is
    implausible (negative or over an hour).
    """
    if acquisition_s is None or contrast_start_s is None:
        return None
    delay = acquisition_s - contrast_start_s
    if delay < 0:
        delay += 86400.0 if delay < -43200 else 0.0
    call = _phase_from_delay(delay)
    if call is None:
        return None
    return call[0], call[1], delay


# --- 4. pixels ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Enhancement:
    """Enhancement estimated from pixels, in HU (median over the slices used).

    ``aorta_hu``: mean HU of a 6 mm disk at the brightest point of the para-vertebral aortic window;
    ``portal_vein_hu``: 97th percentile of the liver region (its brightest vessels: the portal and
    hepatic veins); ``liver_hu``: median of the liver region (parenchyma). None when not found.
    """

    aorta_hu: float | None
    portal_vein_hu: float | None
    liver_hu: float | None
    slices_used: int
    notes: tuple[str, ...] = ()

    @property
    def aorta_minus_portal_hu(self) -> float | None:
        """Aorta minus portal vein HU: large in the arterial phase, near zero later."""
        if self.aorta_hu is None or self.portal_vein_hu is None:
            return None
        return self.aorta_hu - self.portal_vein_hu

    def describe(self) -> str:
        """One line: ``aorta 160 HU, portal/hepatic veins 150 HU, liver 105 HU (4 slices)``."""

        def fmt(v: float | None) -> str:
            return "n/a" if v is None else f"{v:.0f} HU"

        return (
            f"aorta {fmt(self.aorta_hu)}, portal/hepatic veins {fmt(self.portal_vein_hu)}, "
            f"liver {fmt(self.liver_hu)} ({self.slices_used} slices)"
        )

    def to_dict(self) -> dict[str, object]:
        """JSON-ready dictionary (HU rounded to 1)."""
        return {
            "aorta_hu": None if self.aorta_hu is None else round(self.aorta_hu, 1),
            "portal_vein_hu": None
            if self.portal_vein_hu is None
            else round(self.portal_vein_hu, 1),
            "liver_hu": None if self.liver_hu is None else round(self.liver_hu, 1),
            "slices_used": self.slices_used,
            "notes": list(self.notes),
        }


def _disk(radius_px: tuple[float, float]) -> np.ndarray:
    ry, rx = max(radius_px[0], 1.0), max(radius_px[1], 1.0)
    y, x = np.ogrid[-math.ceil(ry) : math.ceil(ry) + 1, -math.ceil(rx) : math.ceil(rx) + 1]
    return ((y / ry) ** 2 + (x / rx) ** 2) <= 1.0


def _bbox(mask: np.ndarray) -> tuple[slice, slice] | None:
    """The smallest ``(rows, cols)`` slices holding every True pixel of ``mask``, or None."""
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(mask.any(axis=0))
    return slice(int(rows[0]), int(rows[-1]) + 1), slice(int(cols[0]), int(cols[-1]) + 1)


def _eroded_in_place(mask: np.ndarray, **kwargs: object) -> np.ndarray:
    """``ndimage.binary_erosion(mask, **kwargs)`` computed on the bounding box of ``mask`` only.

    Identical result: erosion treats outside the array as False (``border_value=0``), exactly
    what surrounds the bounding box, so only the (usually small) box needs the work.
    """
    from scipy import ndimage  # imported here: headers-only scans never pay for scipy

    out = np.zeros_like(mask, dtype=bool)
    box = _bbox(mask)
    if box is not None:
        out[box] = ndimage.binary_erosion(mask[box], **kwargs)
    return out


def _labelled_in_place(mask: np.ndarray) -> tuple[np.ndarray, int]:
    """``ndimage.label(mask)`` computed on the bounding box of ``mask`` only.

    Identical labels: every component lies inside the box and is met in the same raster order.
    """
    from scipy import ndimage  # imported here: headers-only scans never pay for scipy

    out = np.zeros(mask.shape, dtype=np.int32)
    box = _bbox(mask)
    if box is None:
        return out, 0
    labels, n = ndimage.label(mask[box])
    out[box] = labels
    return out, int(n)


def _fill_holes(mask: np.ndarray) -> np.ndarray:
    """``ndimage.binary_fill_holes(mask)``: background not 4-connected to the image edge is a hole.

    One labelling instead of the iterated dilation scipy uses (about 10x faster here); the same
    definition (default cross structure), so the same result.
    """
    from scipy import ndimage  # imported here: headers-only scans never pay for scipy

    labels, n = ndimage.label(~mask)
    if n == 0:
        return mask.copy()
    edge = np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]])
    outside = np.zeros(n + 1, dtype=bool)
    outside[edge] = True
    outside[0] = False
    return mask | ~outside[labels]


FULL_EVIDENCE_SLICES = 5
"""Slices of those given to :func:`estimate_enhancement` on which the full evidence is computed
(the ones with the largest liver proxy); the four with the largest liver region are kept."""


def _liver_proxy_mm2(hu: np.ndarray, pixel_mm: tuple[float, float]) -> float:
    """A glance at one oriented axial slice: soft-tissue area (mm^2) in the patient's right,
    anterior body, on a grid of about 4 mm (numpy only, no filtering or labelling).

    Used only to rank slices: the ones most likely to show the most liver get the full evidence
    (:func:`_slice_evidence`), the others none.
    """
    py, px = pixel_mm
    step = max(1, round(4.0 / min(py, px)))
    img = hu[::step, ::step]
    body = img > -400
    rows = np.flatnonzero(body.any(axis=1))
    if rows.size == 0:
        return 0.0
    cols = np.flatnonzero(body.any(axis=0))
    y_top, y_bot = int(rows[0]), int(rows[-1])
    cx = 0.5 * (cols[0] + cols[-1])
    right = int(max(0, cx - 10 / (px * step)))
    front = int(y_top + 0.75 * (y_bot - y_top)) + 1
    box = img[:front, :right]
    soft = (box > 20) & (box < 400)
    return float(np.count_nonzero(soft)) * py * px * step * step


def _slice_enhancement(
    hu: np.ndarray, pixel_mm: tuple[float, float]
) -> tuple[float | None, float | None, float | None, float]:
    """Aorta, vessel and liver HU on one axial slice oriented anterior-up, patient-left-right.

    ``hu`` is ``(y, x)`` with y increasing posteriorly and x increasing to the patient's left.
    Returns ``(aorta, vessels, liver, liver_area_mm2)``.
    """
    area, vessels, liver, aorta_args = _slice_evidence(hu, pixel_mm)
    return (None if aorta_args is None else _aorta_hu(*aorta_args)), vessels, liver, area


_AortaArgs = tuple[
    np.ndarray, np.ndarray, np.ndarray, np.ndarray, float, float, float, float, float
]


def _slice_evidence(
    hu: np.ndarray, pixel_mm: tuple[float, float]
) -> tuple[float, float | None, float | None, _AortaArgs | None]:
    """Liver area (mm^2), vessel and liver HU on one axial slice, and what :func:`_aorta_hu`
    needs to find its aorta (None when no spinal canal was found: no aorta).

    Split from the aorta so that :func:`estimate_enhancement` measures the aorta on the slices
    it keeps only (the four with the largest liver): the same numbers, a third of the work.

    The disk filters and erosions run only where their result is read (the aortic window plus a
    disk radius, the bounding box of an eroded region): the same numbers as on the whole slice,
    at a fraction of the cost (they were 80 % of a folder scan).
    """
    from scipy import ndimage  # imported here: headers-only scans never pay for scipy

    py, px = pixel_mm
    # Work at about 1.5 mm per pixel: fast and enough for 6 mm disks.
    step = max(1, round(1.5 / min(py, px)))
    img = hu[::step, ::step].astype(np.float32)
    py, px = py * step, px * step
    mm2 = py * px
    smooth = ndimage.uniform_filter(img, size=3)
    body = smooth > -400
    labels, n = ndimage.label(body)
    if n == 0:
        return 0.0, None, None, None
    sizes = np.bincount(labels.ravel(), minlength=n + 1)[1:]  # pixels per component
    body = _fill_holes(labels == (int(np.argmax(sizes)) + 1))
    if body.sum() * mm2 < 20000:  # < 200 cm^2: not an abdomen slice
        return 0.0, None, None, None
    ys, xs = np.nonzero(body)
    cx = float(xs.mean())
    y_top, y_bot = float(ys.min()), float(ys.max())

    # Spine: the midline column is the one with most bone (> 180 HU) in the posterior 60 % of
    # the body (spinous process and vertebral body line up there). Along a narrow band around it,
    # walking forward from the deepest bone, the first gap of 3-30 mm is the spinal canal; bone in
    # front of it is the vertebral body.
    yy = np.arange(img.shape[0])[:, None]
    xx = np.arange(img.shape[1])[None, :]
    posterior = yy > y_top + 0.4 * (y_bot - y_top)
    bone = (smooth > 180) & body & posterior & (np.abs(xx - cx) * px < 45)
    aorta_args: _AortaArgs | None = None
    canal_front = None
    sx = cx
    if bone.sum() * mm2 > 150:
        counts = bone.sum(axis=0).astype(float)
        sx = float(np.argmax(ndimage.uniform_filter1d(counts, size=max(1, round(6 / px)))))
        band = np.abs(xx - sx) * px <= 5
        rows = np.flatnonzero((bone & band).any(axis=1))[::-1]  # posterior -> anterior
        gaps = (rows[:-1] - rows[1:]) * py
        canal = np.flatnonzero((gaps >= 3) & (gaps <= 30))
        if canal.size:
            canal_front = float(rows[int(canal[0]) + 1])
    spine_front = canal_front
    if canal_front is not None:
        # The vertebral body: bone connected to the canal's front wall (after a 1-pixel erosion,
        # which separates an enhanced aorta touching it), dilated by the disk radius.
        disk = _disk((6 / py, 6 / px))
        vb_zone = (yy <= canal_front) & (yy >= canal_front - 45 / py) & (np.abs(xx - sx) * px < 25)
        vb = _eroded_in_place((smooth > 180) & vb_zone)
        labels_v, _ = _labelled_in_place(vb)
        near = labels_v[max(0, int(canal_front) - 3) : int(canal_front) + 1, :]
        ids = np.unique(near[(near > 0) & (np.abs(xx[0] - sx) * px <= 8)[None, :]])
        vertebra = np.isin(labels_v, ids) if ids.size else vb
        if vertebra.any():
            spine_front = float(np.nonzero(vertebra)[0].min())
        aorta_args = (img, body, vertebra, disk, spine_front, canal_front, sx, py, px)
    # Liver: the largest soft-tissue region in the patient's right half, anterior to the spine.
    soft = (smooth > 20) & (smooth < 400) & body
    right = xx < cx - 10 / px
    limit = spine_front if spine_front is not None else (y_top + 0.75 * (y_bot - y_top))
    region = soft & right & (yy < limit)
    region = _eroded_in_place(region, iterations=max(1, round(6 / px)))
    labels_l, nl = _labelled_in_place(region)
    if nl == 0:
        return 0.0, None, None, aorta_args
    sizes = np.bincount(labels_l.ravel(), minlength=nl + 1)[1:]
    liver = labels_l == (int(np.argmax(sizes)) + 1)
    area = float(liver.sum() * mm2)
    if area < 2000:  # < 20 cm^2 of right upper soft tissue: probably not at liver level
        return area, None, None, aorta_args
    values = img[liver]
    return area, float(np.percentile(values, 97)), float(np.median(values)), aorta_args


def _aorta_hu(
    img: np.ndarray,
    body: np.ndarray,
    vertebra: np.ndarray,
    disk: np.ndarray,
    spine_front: float,
    canal_front: float,
    sx: float,
    py: float,
    px: float,
) -> float | None:
    """The brightest uniform disk mean in the aortic window of one slice (see
    :func:`_slice_evidence`, which finds the spine it is placed from), or None."""
    from scipy import ndimage  # imported here: headers-only scans never pay for scipy

    # Aortic window: up to 45 mm in front of the vertebral body, 10 mm right to 35 mm left of
    # the spine's midline (the abdominal aorta lies just left of it), a disk away from bone.
    y0 = max(0, int(spine_front - 45 / py))
    y1 = max(0, int(canal_front - 15 / py))
    x0 = max(0, int(sx - 10 / px))
    x1 = min(img.shape[1], int(sx + 35 / px))
    # Everything below is read only inside the window [y0:y1, x0:x1]: filter a crop of it
    # grown by the disk radius (or to the image edge, where "nearest" and the False border
    # then behave as on the whole slice), which gives the same values in the window.
    ry, rx = disk.shape[0] // 2, disk.shape[1] // 2
    crop = (
        slice(max(0, y0 - ry), min(img.shape[0], max(y0, y1) + ry)),
        slice(max(0, x0 - rx), min(img.shape[1], max(x0, x1) + rx)),
    )
    clipped = np.clip(img[crop], -150, 700)
    kernel = disk / disk.sum()
    mean = ndimage.convolve(clipped, kernel, mode="nearest")
    # The aortic lumen is uniform; bowel contrast, calcified plaque and organ edges are not.
    sd = np.sqrt(np.maximum(ndimage.convolve(clipped**2, kernel, mode="nearest") - mean**2, 0))
    window = np.zeros(clipped.shape, dtype=bool)
    if y1 > y0 and x1 > x0:  # else empty, as the whole-slice slice [y0:y1] was
        window[y0 - crop[0].start : y1 - crop[0].start, x0 - crop[1].start : x1 - crop[1].start] = (
            True
        )
    window &= ndimage.binary_erosion(body[crop], structure=disk)
    window &= ~ndimage.binary_dilation(vertebra[crop], structure=disk)
    uniform = window & (sd < 30)
    if uniform.any():
        window = uniform
    return float(mean[window].max()) if window.any() else None


def non_axial_enhancement(direction: np.ndarray) -> Enhancement | None:
    """The (empty) evidence of a stack that is not axial, known before reading any pixel."""
    if abs(float(np.asarray(direction, dtype=float)[2, 0])) < 0.8:
        return Enhancement(None, None, None, 0, ("not an axial stack: no image evidence",))
    return None


def estimate_enhancement(
    slices_hu: np.ndarray,
    pixel_spacing_mm: tuple[float, float],
    direction: np.ndarray,
) -> Enhancement:
    """Estimate aorta, portal / hepatic vein and liver enhancement (HU) on a few axial slices.

    Method (cheap, no segmentation model): on each slice, downsampled to about 1.5 mm pixels and
    oriented anterior-up / patient-left-right from ``direction``,

    1. the body is the largest region above -400 HU;
    2. the spine's midline is the column with most bone (> 180 HU) in the posterior 60 % of the
       body; walking forward along it from the deepest bone, the first 3-30 mm gap is the spinal
       canal, and the bone connected to the canal's front wall is the vertebral body;
    3. the aorta is the brightest 6 mm-radius disk mean (among uniform disks, SD < 30 HU) in the
       window up to 45 mm in front of the vertebral body and 10 mm right to 35 mm left of the
       spine's midline, at least one disk radius away from the vertebral body (so bright bone is
       never taken for it);
    4. the liver is the largest soft-tissue region (20-400 HU, eroded by 6 mm) in the patient's
       right half in front of the spine; its median is the parenchyma, its 97th percentile the
       brightest intrahepatic vessels (portal and hepatic veins).

    Steps 1-4 run only on the :data:`FULL_EVIDENCE_SLICES` slices with the most soft tissue in
    the patient's right, anterior body (a numpy-only glance at about 4 mm per pixel,
    :func:`_liver_proxy_mm2`); of those, the four with the largest liver region are kept and the
    medians reported.

    Parameters
    ----------
    slices_hu
        ``(k, y, x)`` HU of a few slices of one axial stack (need not be contiguous).
    pixel_spacing_mm
        ``(y, x)`` pixel spacing in mm.
    direction
        3 x 3 direction of the stack (columns: LPS vectors of the z, y, x array axes).

    Returns
    -------
    Enhancement
        HU estimates (None where not found) and notes saying why.
    """
    direction = np.asarray(direction, dtype=float)
    not_axial = non_axial_enhancement(direction)
    if not_axial is not None:
        return not_axial
    col_dir, row_dir = direction[:, 1], direction[:, 2]
    flip_y = col_dir[1] < 0  # rows must run anterior -> posterior (+P)
    flip_x = row_dir[0] < 0  # columns must run patient right -> left (+L)
    oriented = []
    for hu in slices_hu:
        img = hu[::-1] if flip_y else hu
        oriented.append(img[:, ::-1] if flip_x else img)
    if len(oriented) > FULL_EVIDENCE_SLICES:
        # A glance first: rank the slices by a cheap, numpy-only liver proxy and run the full
        # evidence only on the few that most likely show the most liver.
        proxy = [_liver_proxy_mm2(img, pixel_spacing_mm) for img in oriented]
        order = sorted(range(len(oriented)), key=lambda i: -proxy[i])
        oriented = [oriented[i] for i in sorted(order[:FULL_EVIDENCE_SLICES])]
    evidence = [_slice_evidence(img, pixel_spacing_mm) for img in oriented]
    evidence.sort(key=lambda t: t[0], reverse=True)
    # Only the four largest livers are read below: the aorta is measured on those alone.
    per_slice = [
        (area, None if args is None or k >= 4 else _aorta_hu(*args), v, liver)
        for k, (area, v, liver, args) in enumerate(evidence)
    ]
    best = [t for t in per_slice[:4] if t[0] > 0 and t[3] is not None]
    aortas = [t[1] for t in (best or per_slice[:4]) if t[1] is not None]
    notes = []
    if not best:
        notes.append("liver not found on the sampled slices")
    if not aortas:
        notes.append("aorta not found (no spine detected in front of which to look)")
    return Enhancement(
        aorta_hu=float(np.median(aortas)) if aortas else None,
        portal_vein_hu=float(np.median([t[2] for t in best])) if best else None,
        liver_hu=float(np.median([t[3] for t in best])) if best else None,
        slices_used=len(best),
        notes=tuple(notes),
    )


def phase_from_enhancement(e: Enhancement) -> tuple[Phase, str | None, str] | None:
    """Phase implied by one series' enhancement alone: ``(phase, subphase, reason)`` or None.

    Typical values (HU): non-contrast aorta 30-60, liver 50-65; late arterial aorta 250-400 with
    the portal vein starting to fill and the liver barely enhanced; portal venous aorta 130-200
    about equal to the portal vein, liver 90-130; delayed aorta about equal to the liver, both
    80-120.
    """
    a, v, liver = e.aorta_hu, e.portal_vein_hu, e.liver_hu
    if a is None:
        return None
    if a < 90 and (liver is None or liver < 80):
        return Phase.NON_CONTRAST, None, f"aorta {a:.0f} HU: unenhanced"
    if v is None or liver is None:
        if a >= 220:
            return Phase.ARTERIAL, None, f"aorta {a:.0f} HU (liver not found)"
        return None
    if a >= 180 and a - v >= 60:
        sub = "late" if v - liver >= 25 else "early"
        return (
            Phase.ARTERIAL,
            sub,
            (
                f"aorta {a:.0f} HU well above the portal/hepatic veins {v:.0f} HU, "
                f"liver {liver:.0f} HU"
            ),
        )
    if a >= 110 and abs(a - v) < 60 and liver >= 80:
        if a >= 140 or a - liver >= 40:
            return (
                Phase.PORTAL_VENOUS,
                None,
                (
                    f"aorta {a:.0f} HU about as bright as the portal/hepatic veins {v:.0f} HU, "
                    f"liver enhanced {liver:.0f} HU"
                ),
            )
        return (
            Phase.DELAYED,
            None,
            f"aorta {a:.0f} HU close to the liver {liver:.0f} HU: equilibrium",
        )
    if 90 <= a < 140 and liver >= 75 and abs(a - liver) < 40:
        return Phase.DELAYED, None, f"aorta {a:.0f} HU close to the liver {liver:.0f} HU"
    return None
