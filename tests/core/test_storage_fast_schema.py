"""The compiled schema check (fast path of ``load_assessment``) never lets through a document
that jsonschema rejects: for valid and randomly broken documents alike, the problems reported
are exactly jsonschema's."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lesion_tool.storage import assessment_json as aj
from lesion_tool.storage import load_assessment, validate_assessment_dict

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "assessments"
DOCUMENTS = [json.loads(p.read_text()) for p in sorted(EXAMPLES.glob("*.json"))]

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-5, 5)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from(["", "x", "2026-01-01", "2026-01-01\n", "target", "measured", "viable"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=6,
)


def _places(value: object, path: tuple = ()) -> list[tuple]:
    """Every container path (dict key or list index) in a document."""
    found = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _places(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _places(item, (*path, index))
    return found


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    document=st.sampled_from(DOCUMENTS),
    choice=st.integers(min_value=0),
    action=st.sampled_from(["replace", "delete", "add"]),
    key=st.sampled_from(["id", "kind", "state", "version", "seed", "extra_field", "lesions"]),
    value=JSON_VALUES,
)
def test_fast_path_reports_exactly_what_jsonschema_reports(document, choice, action, key, value):
    data = copy.deepcopy(document)
    places = _places(data)
    path = places[choice % len(places)]
    if not path:
        data = value if action == "replace" else data
    else:
        parent = data
        for step in path[:-1]:
            parent = parent[step]
        if action == "replace":
            parent[path[-1]] = value
        elif action == "delete":
            del parent[path[-1]]
        elif isinstance(parent[path[-1]], dict):
            parent[path[-1]][key] = value
    assert aj._parsed_schema_problems(data) == aj._schema_problems(data)


def test_valid_files_load_without_jsonschema_and_equal_the_slow_path(tmp_path: Path) -> None:
    for source in sorted(EXAMPLES.glob("*.json")):
        data = json.loads(source.read_text())
        assert validate_assessment_dict(data) == []
        assert load_assessment(source) == aj.assessment_from_dict(data, source=str(source))
