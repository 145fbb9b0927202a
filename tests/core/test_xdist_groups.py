"""The split of the suite between pytest-xdist workers (tests/_xdist.py, used by ``make test``)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from _xdist import SHARED_WORK_FIXTURES, xdist_groups


def _item(nodeid: str, *fixtures: str) -> SimpleNamespace:
    return SimpleNamespace(nodeid=nodeid, fixturenames=["request", *fixtures])


def test_a_module_stays_whole_and_modules_sharing_costly_work_go_together() -> None:
    items = [
        _item("tests/core/test_a.py::test_1"),
        _item("tests/core/test_a.py::test_2", "tmp_path"),
        _item("tests/core/test_b.py::test_1", "ircadb"),  # reading a volume: no join
        _item("tests/core/test_c.py::test_1", "ircadb_arterial"),
        _item("tests/core/test_d.py::test_1"),
        _item("tests/core/test_d.py::test_2", "ircadb_negative_points"),
        _item("tests/core/test_e.py::test_1", "ircadb_arterial", "ircadb_negative_points"),
        _item("tests/core/test_f.py::test_1", "hcc006_measured"),
        _item("tests/core/test_g.py::Cls::test_1", "hcc006_measured"),
    ]
    groups = xdist_groups(items)
    assert set(groups) == {f"tests/core/test_{x}.py" for x in "abcdefg"}
    # c and d share nothing directly, but e shares with both: one group of three
    assert groups["tests/core/test_c.py"] == groups["tests/core/test_d.py"]
    assert groups["tests/core/test_d.py"] == groups["tests/core/test_e.py"]
    assert groups["tests/core/test_f.py"] == groups["tests/core/test_g.py"]
    assert len(set(groups.values())) == 4  # a, b, {c, d, e}, {f, g}
    assert groups["tests/core/test_a.py"] == "tests/core/test_a.py"
    # a group is named after one of its modules, never after a fixture
    assert set(groups.values()) <= set(groups)


def test_the_costly_session_fixtures_of_the_suite_are_the_shared_ones() -> None:
    """Every fixture named in SHARED_WORK_FIXTURES exists and is session-scoped (a renamed or
    rescoped fixture would silently stop keeping its modules together)."""
    text = (Path(__file__).parent / "conftest.py").read_text()
    for name in SHARED_WORK_FIXTURES:
        at = text.index(f"def {name}(")
        assert '@pytest.fixture(scope="session")' in text[max(0, at - 60) : at], name
