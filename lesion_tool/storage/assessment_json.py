"""Reading and writing assessments as JSON, format v1 (``shared/spec/assessment-format.md``).

Lenient about nothing, strict on both sides: a file is checked against the JSON Schema in
``lesion_tool/schema/assessment-v1.schema.json`` and then by the semantic rules the schema cannot
express (a state allowed for the category, duplicate lesion ids, date order, targets appearing
after baseline, required diameters, ...). Every problem is collected, so one
:class:`~lesion_tool.errors.AssessmentError` lists them all, each line as
``FILE: $.json.path: what is wrong``. Saving validates what it writes too, and is atomic.

Loading is the hot path of re-scoring a trial: a file is first checked by the same schema compiled
once to Python code (fastjsonschema, ~20x faster than walking it with jsonschema); only a document
it rejects is walked again with jsonschema, whose messages (every problem, with its JSON path)
are what the user sees. jsonschema is imported only then.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import re
from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lesion_tool._slots import slot_constructor
from lesion_tool.errors import AssessmentError
from lesion_tool.model import (
    FORMAT_NAME,
    FORMAT_VERSION,
    Assessment,
    Category,
    Kind,
    Lesion,
    LesionState,
    Line,
    Segmentation,
    SegmentationPrompt,
    Timepoint,
    summed_diameter_field,
)
from lesion_tool.response.arithmetic import to_tenths
from lesion_tool.storage.atomic import atomic_write

if TYPE_CHECKING:
    import jsonschema

__all__ = [
    "assessment_from_dict",
    "assessment_to_dict",
    "find_assessment_files",
    "load_assessment",
    "prepare_loading",
    "save_assessment",
    "validate_assessment_dict",
]

SCHEMA_RESOURCE = "assessment-v1.schema.json"
TOP_LEVEL_FIELDS = frozenset(
    {
        "format",
        "version",
        "patient_id",
        "reader",
        "treatment_start",
        "death_date",
        "last_known_alive",
        "saved_by",
        "saved_at",
        "timepoints",
    }
)
DIAMETER_FIELDS = ("viable_diameter_mm", "longest_diameter_mm", "short_axis_mm")
REQUIRED_DIAMETER = {kind.value: summed_diameter_field(kind) for kind in Kind}
_STATE_ORDER = {
    Category.TARGET: ("measured", "absent", "too_small", "not_evaluated"),
    Category.NON_TARGET: ("present", "absent", "unequivocal_progression", "not_evaluated"),
    Category.NEW: ("equivocal", "unequivocal"),
}
_NEW, _TARGET = Category.NEW, Category.TARGET  # enum look-ups are slow on Python 3.11
_CATEGORY_WORD = {
    Category.TARGET: "target",
    Category.NON_TARGET: "non-target",
    Category.NEW: "new-lesion",
}


@lru_cache(maxsize=1)
def _schema() -> dict[str, Any]:
    text = resources.files("lesion_tool").joinpath("schema", SCHEMA_RESOURCE).read_text("utf-8")
    return json.loads(text)


@lru_cache(maxsize=1)
def _validator() -> jsonschema.Draft202012Validator:
    import jsonschema

    schema = _schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


# In the compiled schema, the JSON-path prefix handed to each nested definition, e.g.
# ``(name_prefix or "data") + ".lesions[{data__lesions_x}]".format(**locals())``.
_NAME_PREFIX_ARG = re.compile(
    r'custom_formats, \(name_prefix or "data"\) \+ "[^"]*"(?:\.format\(\*\*locals\(\)\))?\)'
)


@lru_cache(maxsize=1)
def _fast_validator() -> Callable[[object], object]:
    """The schema compiled to Python once per process (about 25 ms).

    What :func:`fastjsonschema.compile` does, less one cost: the compiled code only decides here
    (the messages come from jsonschema), so the JSON-path prefix it builds for every nested
    object (``".lesions[3]"`` by ``str.format(**locals())``, about a tenth of its time on a
    trial) is not built; nested definitions get ``name_prefix=None``.
    """
    import fastjsonschema

    code = _NAME_PREFIX_ARG.sub("custom_formats, None)", fastjsonschema.compile_to_code(_schema()))
    namespace: dict[str, Any] = {}
    exec(compile(code, "<assessment-v1 schema>", "exec"), namespace)  # as fastjsonschema does
    root = re.search(r"^def (\w+)\(", code, re.MULTILINE)
    assert root is not None, "fastjsonschema generated no function"
    return namespace[root[1]]


def _schema_problems(data: object) -> list[tuple[str, str]]:
    problems = []
    for error in _validator().iter_errors(data):
        problems.append((error.json_path, error.message))
    return problems


def _parsed_schema_problems(data: object) -> list[tuple[str, str]]:
    """:func:`_schema_problems` for a document fresh from :func:`json.loads`, fast when valid.

    The compiled validator only decides; a document it rejects is walked by jsonschema for the
    messages, so they are exactly those of :func:`_schema_problems`. Where the two engines differ
    the compiled one is the stricter (``$`` in patterns matches only at the very end), which
    costs the slow walk, never a missed problem. It is lenient about one thing, a tuple where an
    array is expected, which ``json.loads`` never produces: hence parsed documents only.
    """
    from fastjsonschema import JsonSchemaException

    try:
        _fast_validator()(data)
    except JsonSchemaException:
        return _schema_problems(data)
    return []


def _parse_date(value: object) -> dt.date | None:
    if not isinstance(value, str):
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


def _semantic_problems(data: object) -> list[tuple[str, str]]:
    """Rules the schema cannot express; defensive about types the schema already rejected."""
    problems: list[tuple[str, str]] = []
    if not isinstance(data, Mapping):
        return problems

    def add(path: str, message: str) -> None:
        problems.append((path, message))

    def check_date(path: str, value: object) -> dt.date | None:
        parsed = _parse_date(value)
        if parsed is None and isinstance(value, str) and len(value) == 10:
            add(path, f"{value!r} is not a valid calendar date (YYYY-MM-DD)")
        return parsed

    start = check_date("$.treatment_start", data.get("treatment_start"))
    for key in ("death_date", "last_known_alive"):
        when = check_date(f"$.{key}", data.get(key))
        if when is not None and start is not None and when < start:
            add(f"$.{key}", f"{when.isoformat()} is before treatment_start {start.isoformat()}")

    timepoints = data.get("timepoints")
    if not isinstance(timepoints, list):
        return problems
    death = _parse_date(data.get("death_date"))
    baseline_categories: dict[str, str] = {}
    previous_date: dt.date | None = None
    previous_path = ""
    labels: dict[str, str] = {}
    for t_index, timepoint in enumerate(timepoints):
        t_path = f"$.timepoints[{t_index}]"
        if not isinstance(timepoint, Mapping):
            continue
        label = timepoint.get("label")
        if isinstance(label, str):
            if label in labels:
                add(
                    f"{t_path}.label", f"duplicate timepoint label {label!r} (also {labels[label]})"
                )
            else:
                labels[label] = t_path
        date = check_date(f"{t_path}.date", timepoint.get("date"))
        if date is not None and previous_date is not None and date <= previous_date:
            add(
                f"{t_path}.date",
                f"{date.isoformat()} is not after the previous timepoint's date "
                f"{previous_date.isoformat()} ({previous_path}): timepoints must be in date order",
            )
        if date is not None:
            previous_date, previous_path = date, t_path
        if date is not None and death is not None and date > death:
            # a scan after the patient's death: one of the two dates is wrong (issue 12)
            add(
                "$.death_date",
                f"{death.isoformat()} is before the scan of {t_path} on {date.isoformat()}: "
                "no scan can follow death",
            )
            death = None  # said once
        lesions = timepoint.get("lesions")
        if not isinstance(lesions, list):
            continue
        seen_ids: dict[str, int] = {}
        for l_index, lesion in enumerate(lesions):
            if not isinstance(lesion, Mapping):
                continue
            # the path is built only for a lesion with a problem (re-scoring reads ~10^5)
            found = _lesion_problems(lesion, t_index)
            if found:
                l_path = f"{t_path}.lesions[{l_index}]"
                problems.extend((l_path + rel, message) for rel, message in found)
            lesion_id = lesion.get("id")
            category = lesion.get("category")
            if not isinstance(lesion_id, str):
                continue
            if lesion_id in seen_ids:
                add(
                    f"{t_path}.lesions[{l_index}].id",
                    f"duplicate lesion id {lesion_id!r} in this timepoint "
                    f"(also at lesions[{seen_ids[lesion_id]}])",
                )
                continue
            seen_ids[lesion_id] = l_index
            if category not in ("target", "non_target", "new"):
                continue
            if t_index == 0 and category != "new":
                baseline_categories[lesion_id] = category
            if t_index > 0 and category in ("target", "non_target"):
                if lesion_id not in baseline_categories:
                    add(
                        f"{t_path}.lesions[{l_index}].category",
                        f"{category} lesion {lesion_id!r} does not appear at baseline: "
                        "targets and non-targets are fixed at baseline (record it as 'new')",
                    )
                elif baseline_categories[lesion_id] != category:
                    add(
                        f"{t_path}.lesions[{l_index}].category",
                        f"lesion {lesion_id!r} is {category} here but "
                        f"{baseline_categories[lesion_id]} at baseline",
                    )
            if category == "new" and lesion_id in baseline_categories:
                add(
                    f"{t_path}.lesions[{l_index}].id",
                    f"new lesion {lesion_id!r} reuses the id of a baseline "
                    f"{baseline_categories[lesion_id]} lesion",
                )
    return problems


def _lesion_problems(lesion: Mapping[str, Any], t_index: int) -> list[tuple[str, str]]:
    """A lesion's semantic problems as (path relative to the lesion, message)."""
    get = lesion.get
    text = get("category")
    category = _CATEGORIES.get(text) if isinstance(text, str) else None
    if category is None:
        return []  # the schema reports an unknown category
    problems: list[tuple[str, str]] = []
    state = get("state")
    allowed = _STATE_ORDER[category]
    if isinstance(state, str) and state not in allowed:
        problems.append(
            (
                ".state",
                f"{state!r} is not a valid {_CATEGORY_WORD[category]} state ({', '.join(allowed)})",
            )
        )
    for key in DIAMETER_FIELDS:
        value = get(key)
        if isinstance(value, float) and not math.isfinite(value):
            problems.append((f".{key}", f"{value!r} is not a finite number of millimetres"))
    kind = get("kind")
    if category is _NEW and t_index == 0:
        problems.append(
            (".category", "a 'new' lesion at baseline: new lesions appear only after it")
        )
    if category is not _TARGET:
        if kind is not None:
            problems.append(
                (".kind", f"kind {kind!r} on a {category.value} lesion: only targets have one")
            )
        return problems
    if kind is None:
        problems.append(("", "target lesion without 'kind' (viable, longest or short_axis)"))
        return problems
    required = REQUIRED_DIAMETER.get(kind)
    if state == "measured" and required is not None and get(required) is None:
        problems.append(
            ("", f"measured {kind} target lacks {required!r} (the diameter its kind sums)")
        )
    # A viable diameter larger than the whole-lesion one is kept: real readers record it
    # (another lesion chosen, inconsistent calipers). The response engine reports it as a
    # finding (lesion_tool.response.scoring.inconsistent_diameter_findings).
    if state == "absent":
        for key in DIAMETER_FIELDS:
            value = get(key)
            if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
                problems.append(
                    (f".{key}", f"an absent lesion cannot have a diameter ({value} mm)")
                )
    return problems


def validate_assessment_dict(data: object) -> list[tuple[str, str]]:
    """Every problem with a parsed format-v1 document, as ``(json_path, message)`` pairs.

    Schema errors come first, then the semantic rules. An empty list means the document is valid.
    """
    return _with_semantic_problems(_schema_problems(data), data)


def _validate_parsed(data: object) -> list[tuple[str, str]]:
    """:func:`validate_assessment_dict` for the output of :func:`json.loads` (the fast path)."""
    return _with_semantic_problems(_parsed_schema_problems(data), data)


def _with_semantic_problems(
    schema_problems: list[tuple[str, str]], data: object
) -> list[tuple[str, str]]:
    """Schema problems, then the semantic rules' ones.

    The semantic rules are written for documents of the schema's shape; on one the schema has
    already rejected (a list where a name belongs, a date with a newline) a rule may fail, and
    then the schema's problems alone are the answer rather than a traceback.
    """
    try:
        semantic = _semantic_problems(data)
    except (TypeError, ValueError, KeyError, AttributeError, IndexError, OverflowError):
        if schema_problems:
            return schema_problems
        raise
    return schema_problems + semantic


MAX_DOCUMENT_BYTES = 64 * 1024 * 1024
"""An assessment is kilobytes; anything this large is not one (and would exhaust memory)."""


class _DuplicateKeyError(ValueError):
    pass


def _object_without_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        twice = next(k for k, _v in pairs if k in seen or seen.add(k))  # type: ignore[func-returns-value]
        raise _DuplicateKeyError(f"the key {twice!r} appears twice in one object")
    return out


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not a JSON number")


def _lone_surrogate(data: object, path: str = "$") -> str | None:
    """The JSON path of the first text holding a lone UTF-16 surrogate (not valid Unicode)."""
    if isinstance(data, str):
        try:
            data.encode("utf-8")
        except UnicodeEncodeError:
            return path
        return None
    if isinstance(data, dict):
        for key, value in data.items():
            found = _lone_surrogate(key, path) or _lone_surrogate(value, f"{path}.{key}")
            if found:
                return found
    elif isinstance(data, list):
        for i, value in enumerate(data):
            found = _lone_surrogate(value, f"{path}[{i}]")
            if found:
                return found
    return None


_DECODER = json.JSONDecoder(
    object_pairs_hook=_object_without_duplicates, parse_constant=_reject_constant
)
"""Made once: ``json.loads`` with arguments builds a decoder (and its scanner) per call."""


def parse_json_document(text: str, source: str) -> Any:
    """Parse one stored document strictly, every hazard an :class:`AssessmentError` naming it.

    Beyond :func:`json.loads`: NaN and Infinity (not JSON), duplicate keys (the second would
    silently win), numbers past Python's 4,300-digit limit, nesting too deep for the parser,
    documents over :data:`MAX_DOCUMENT_BYTES`, and escaped lone surrogates (``"\\ud800"``:
    not text, and fatal to every CSV, SR and report writer later).
    """
    if len(text) > MAX_DOCUMENT_BYTES:
        raise AssessmentError(f"{source}: {len(text)} characters: too large to be an assessment")
    try:
        data = _DECODER.decode(text)
    except json.JSONDecodeError as err:
        raise AssessmentError(
            f"{source}: line {err.lineno} column {err.colno}: not valid JSON: {err.msg}"
        ) from None
    except RecursionError:
        raise AssessmentError(f"{source}: not valid JSON: nested too deeply") from None
    except ValueError as err:  # duplicate key, NaN/Infinity, a number of over 4,300 digits
        why = "a number with more than 4,300 digits" if "digits" in str(err) else str(err)
        raise AssessmentError(f"{source}: not valid JSON: {why}") from None
    if "\\u" in text or "\\U" in text:  # lone surrogates can only come from escapes
        where = _lone_surrogate(data)
        if where is not None:
            raise AssessmentError(f"{source}: {where}: text holds an unpaired surrogate escape")
    return data


def _raise_problems(source: str, problems: list[tuple[str, str]]) -> None:
    lines = [f"{source}: {path}: {message}" for path, message in problems]
    error = AssessmentError("\n".join(lines))
    error.problems = problems  # type: ignore[attr-defined]
    error.source = source  # type: ignore[attr-defined]
    raise error


def _line_from(data: Mapping[str, Any] | None) -> Line | None:
    if data is None:
        return None
    return Line(
        tuple(data["start"]),
        tuple(data["end"]),
        data.get("space", "voxel"),
        data.get("sop_instance_uid"),
    )


_CATEGORIES: Mapping[str, Category] = {c.value: c for c in Category}
_STATES: Mapping[str, LesionState] = {s.value: s for s in LesionState}
_KINDS: Mapping[str | None, Kind | None] = {None: None, **{k.value: k for k in Kind}}


# The frozen ``__init__`` sets each of the 18 fields through ``object.__setattr__`` by name, a
# third of building a lesion; ``tests/core/test_assessment_loading.py`` checks the objects equal
# those the dataclass builds.
_slot_constructor = slot_constructor
_new_lesion = _slot_constructor(Lesion)
# Their __post_init__ only makes tuples of what the loader already passes as tuples.
_new_timepoint = slot_constructor(Timepoint, keywords=True)
_new_assessment = slot_constructor(Assessment, keywords=True)


def _lesion_from(data: Mapping[str, Any]) -> Lesion:
    # The hot path of re-scoring (one call per lesion per file): one bound ``get``, no helpers,
    # the slots set directly (values as Lesion.__post_init__ would leave them).
    get = data.get
    viable, longest, short = (
        get("viable_diameter_mm"),
        get("longest_diameter_mm"),
        get("short_axis_mm"),
    )
    line, longest_line, seed = get("line"), get("longest_line"), get("seed")
    segmentation = get("segmentation")
    return _new_lesion(
        data["id"],
        _CATEGORIES[data["category"]],
        _STATES[data["state"]],
        data["organ"],
        get("location"),
        _KINDS[get("kind")],
        get("type"),
        None if viable is None else float(viable),
        None if longest is None else float(longest),
        None if short is None else float(short),
        get("typical_hcc_pattern"),
        bool(get("porta_hepatis", False)),
        bool(get("cytology_confirmed", False)),
        None if line is None else _line_from(line),
        None if longest_line is None else _line_from(longest_line),
        None if seed is None else tuple([float(v) for v in seed]),
        get("note"),
        None if segmentation is None else _segmentation_from(segmentation),
    )


def _segmentation_from(data: Mapping[str, Any] | None) -> Segmentation | None:
    if data is None:
        return None
    prompt = data.get("prompt")
    return Segmentation(
        z=data["z"],
        contour=tuple(tuple(p) for p in data["contour"]),
        space=data.get("space", "voxel"),
        prompt=None
        if prompt is None
        else SegmentationPrompt(
            seed=prompt.get("seed"),
            line=tuple(prompt["line"]) if prompt.get("line") is not None else None,
            threshold_offset_hu=prompt.get("threshold_offset_hu", 0.0),
        ),
        edited=bool(data.get("edited", False)),
        flags=tuple(data.get("flags", ())),
    )


def _segmentation_to(seg: Segmentation) -> dict[str, Any]:
    out: dict[str, Any] = {
        "space": seg.space,
        "z": seg.z,
        "contour": [[round(y, 2), round(x, 2)] for y, x in seg.contour],
    }
    if seg.prompt is not None:
        prompt: dict[str, Any] = {"threshold_offset_hu": seg.prompt.threshold_offset_hu}
        if seg.prompt.seed is not None:
            prompt["seed"] = list(seg.prompt.seed)
        if seg.prompt.line is not None:
            prompt["line"] = [list(p) for p in seg.prompt.line]
        out["prompt"] = prompt
    out["edited"] = seg.edited
    out["flags"] = list(seg.flags)
    return out


def assessment_from_dict(data: object, source: str = "<memory>") -> Assessment:
    """Build an :class:`Assessment` from a parsed format-v1 document, after full validation.

    Parameters
    ----------
    data
        The parsed JSON (a mapping).
    source
        Names the document in error messages (a file path, or ``"<memory>"``).

    Raises
    ------
    AssessmentError
        Listing every problem, one per line: ``SOURCE: $.json.path: problem``.
    """
    problems = validate_assessment_dict(data)
    if problems:
        _raise_problems(source, problems)
    return _build_assessment(data)


def _build_assessment(data: Any) -> Assessment:
    """The model of a document that passed validation."""
    timepoints = tuple(
        [
            _new_timepoint(
                label=t["label"],
                date=dt.date.fromisoformat(t["date"]),
                lesions=tuple([_lesion_from(lesion) for lesion in t["lesions"]]),
                study_instance_uid=t.get("study_instance_uid"),
                series_instance_uid=t.get("series_instance_uid"),
            )
            for t in data["timepoints"]
        ]
    )
    extra = {key: value for key, value in data.items() if key not in TOP_LEVEL_FIELDS}
    return _new_assessment(
        patient_id=data["patient_id"],
        treatment_start=dt.date.fromisoformat(data["treatment_start"]),
        timepoints=timepoints,
        reader=data.get("reader", ""),
        death_date=_parse_date(data.get("death_date")),
        last_known_alive=_parse_date(data.get("last_known_alive")),
        extra=dict(extra),
        saved_by=data.get("saved_by"),
        saved_at=_parse_datetime(data.get("saved_at")),
    )


def _parse_datetime(value: object) -> dt.datetime | None:
    """An ISO 8601 date-time (the schema checked its shape); ``Z`` is read as UTC."""
    if not isinstance(value, str):
        return None
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def round_diameter_mm(value_mm: float) -> float:
    """A diameter rounded (half up) to 0.1 mm, as stored; same rounding as the response engine."""
    return to_tenths(value_mm) / 10


def _line_to(line: Line | None) -> dict[str, Any] | None:
    if line is None:
        return None
    out: dict[str, Any] = {"start": list(line.start), "end": list(line.end), "space": line.space}
    if line.sop_instance_uid is not None:
        out["sop_instance_uid"] = line.sop_instance_uid
    return out


def _lesion_to(lesion: Lesion) -> dict[str, Any]:
    out: dict[str, Any] = {"id": lesion.id, "category": lesion.category.value}
    out["organ"] = lesion.organ
    for key in ("location", "type"):
        value = getattr(lesion, key)
        if value is not None:
            out[key] = value
    if lesion.kind is not None:
        out["kind"] = lesion.kind.value
    out["state"] = lesion.state.value
    for key in DIAMETER_FIELDS:
        value = getattr(lesion, key)
        if value is not None:
            out[key] = round_diameter_mm(value) if math.isfinite(value) else value
    if lesion.typical_hcc_pattern is not None:
        out["typical_hcc_pattern"] = lesion.typical_hcc_pattern
    if lesion.porta_hepatis:
        out["porta_hepatis"] = True
    if lesion.cytology_confirmed:
        out["cytology_confirmed"] = True
    if lesion.line is not None:
        out["line"] = _line_to(lesion.line)
    if lesion.longest_line is not None:
        out["longest_line"] = _line_to(lesion.longest_line)
    if lesion.seed is not None:
        out["seed"] = list(lesion.seed)
    if lesion.note is not None:
        out["note"] = lesion.note
    if lesion.segmentation is not None:
        out["segmentation"] = _segmentation_to(lesion.segmentation)
    return out


def assessment_to_dict(assessment: Assessment) -> dict[str, Any]:
    """The format-v1 document of an assessment (diameters rounded to 0.1 mm), ready for JSON.

    Unknown top-level fields kept in ``assessment.extra`` are written back after the known ones.
    """
    out: dict[str, Any] = {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "patient_id": assessment.patient_id,
        "reader": assessment.reader,
        "treatment_start": assessment.treatment_start.isoformat(),
        "death_date": assessment.death_date.isoformat() if assessment.death_date else None,
        "last_known_alive": (
            assessment.last_known_alive.isoformat() if assessment.last_known_alive else None
        ),
    }
    if assessment.saved_by is not None:
        out["saved_by"] = assessment.saved_by
    if assessment.saved_at is not None:
        out["saved_at"] = assessment.saved_at.isoformat()
    for key, value in assessment.extra.items():
        if key not in TOP_LEVEL_FIELDS:
            out[key] = value
    out["timepoints"] = [
        {
            "label": t.label,
            "date": t.date.isoformat(),
            "study_instance_uid": t.study_instance_uid,
            "series_instance_uid": t.series_instance_uid,
            "lesions": [_lesion_to(lesion) for lesion in t.lesions],
        }
        for t in assessment.timepoints
    ]
    return out


def prepare_loading() -> None:
    """Compile the schema validator now (about 0.2 s of CPU, once per process).

    A batch calls this in its own process before handing files to local worker processes:
    forked workers then inherit the compiled code instead of each compiling it again.
    """
    _fast_validator()


def load_assessment(path: str | os.PathLike[str]) -> Assessment:
    """Read and validate one assessment file.

    Raises
    ------
    AssessmentError
        The file is missing, unreadable, not JSON, or breaks format v1; the message names the
        file, the JSON path and each problem.
    """
    path = Path(path)
    source = str(path)
    if path.is_dir():  # find_assessment_files hands back folders it could not search
        try:
            os.listdir(path)
        except OSError as err:
            raise AssessmentError(
                f"{source}: folder cannot be searched for assessments: {err.strerror}"
            ) from None
        raise AssessmentError(f"{source}: a folder, not an assessment file")
    try:
        with open(path, "rb") as handle:
            if os.fstat(handle.fileno()).st_size > MAX_DOCUMENT_BYTES:
                raise AssessmentError(f"{source}: too large to be an assessment")
            text = handle.read().decode("utf-8")
    except FileNotFoundError:
        raise AssessmentError(f"{source}: no such file") from None
    except (OSError, UnicodeDecodeError) as err:
        raise AssessmentError(f"{source}: cannot read: {err}") from err
    data = parse_json_document(text, source)
    problems = _validate_parsed(data)
    if problems:
        _raise_problems(source, problems)
    return _build_assessment(data)


def save_assessment(assessment: Assessment, path: str | os.PathLike[str]) -> None:
    """Write an assessment atomically: the file is either the old version or the new one.

    The document is validated first (strict writing), written to a temporary file in the same
    folder, flushed and fsynced, then renamed over ``path`` with :func:`os.replace`, and the folder
    is fsynced so the rename itself survives a crash. Diameters are rounded to 0.1 mm.

    Raises
    ------
    AssessmentError
        The assessment breaks format v1 (nothing is written), or the file cannot be written
        (the previous file, if any, is untouched).
    """
    path = Path(path)
    data = assessment_to_dict(assessment)
    problems = validate_assessment_dict(data)
    if problems:
        _raise_problems(f"{path} (not saved)", problems)
    try:
        with atomic_write(path) as handle:
            json.dump(data, handle, indent=2, ensure_ascii=False, allow_nan=False)
            handle.write("\n")
    except OSError as err:
        raise AssessmentError(f"{path}: cannot save: {err}") from err


def find_assessment_files(paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """The assessment files named by ``paths``: files as given, folders searched recursively.

    Folders contribute every ``*.json`` below them (sorted, hidden files and folders such as an
    interrupted save's temporary file skipped). A path that does not exist, and a folder that
    cannot be searched (permissions), is returned as is, so that loading it reports the problem
    for that one path instead of stopping a batch or silently dropping a patient.
    """
    found: list[Path] = []
    seen: set[Path] = set()
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            candidates: list[Path] = []
            unreadable: list[Path] = []

            def note(err: OSError, unreadable: list[Path] = unreadable) -> None:
                unreadable.append(Path(err.filename))

            for folder, dirs, files in os.walk(path, onerror=note, followlinks=False):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                candidates.extend(
                    Path(folder, f) for f in files if f.endswith(".json") and not f.startswith(".")
                )
            candidates = sorted(candidates) + unreadable
        else:
            candidates = [path]
        for candidate in candidates:
            if candidate not in seen:
                seen.add(candidate)
                found.append(candidate)
    return found
