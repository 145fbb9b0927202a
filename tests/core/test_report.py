"""The cohort report: files, self-containment, numbers equal to the engine, Chromium rendering.

The cohort is the bundled ``examples/assessments/`` (when present) plus hand-made assessments
covering CR, PR, long SD, early PD, a new lesion, NE, no targets and death, and one broken file.
The report is written once per module (it takes a few seconds).
"""

from __future__ import annotations

import datetime as dt
import math
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from lesion_tool.cli import main
from lesion_tool.model import Assessment, Lesion, Timepoint
from lesion_tool.report import cohen_kappa, cross_table
from lesion_tool.report.style import RESPONSE_ORDER
from lesion_tool.response import PRESETS, cohort_endpoints, score_assessment, settings_for
from lesion_tool.storage import find_assessment_files, load_assessment, save_assessment

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "assessments"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
START = dt.date(2026, 1, 5)


def _target(lid: str, viable: float | None, whole: float | None, state: str = "measured") -> Lesion:
    return Lesion(
        lid,
        "target",
        state,
        kind="viable",
        location="S8",
        viable_diameter_mm=viable if state == "measured" else None,
        longest_diameter_mm=whole if state == "measured" else None,
    )


def _patient(pid: str, visits: list[tuple[int, list[Lesion]]], **extra: object) -> Assessment:
    tps = [
        Timepoint("baseline" if i == 0 else f"FU{i}", START + dt.timedelta(days=day), tuple(les))
        for i, (day, les) in enumerate(visits)
    ]
    return Assessment(pid, START, tuple(tps), reader="R1", **extra)


def hand_made_cohort() -> list[Assessment]:
    """Eight patients, one per trajectory the plots must show."""
    nt = Lesion("NT1", "non_target", "present", organ="portal_vein", type="portal_vein_thrombosis")
    cr = _patient(
        "T-CR",
        [
            (-3, [_target("T1", 30.0, 40.0)]),
            (56, [_target("T1", 15.0, 35.0)]),
            (112, [_target("T1", 0.0, 25.0)]),
            (168, [_target("T1", 0.0, 24.0)]),
            (224, [_target("T1", 0.0, 24.0)]),
        ],
    )
    pr = _patient(
        "T-PR",
        [
            (-2, [_target("T1", 40.0, 50.0), _target("T2", 20.0, 25.0), nt]),
            (56, [_target("T1", 26.0, 44.0), _target("T2", 12.0, 22.0), nt]),
            (112, [_target("T1", 24.0, 43.0), _target("T2", 10.0, 21.0), nt]),
            (168, [_target("T1", 30.0, 45.0), _target("T2", 14.0, 23.0), nt]),
        ],
    )
    sd = _patient(
        "T-SD",
        [
            (-5, [_target("T1", 40.0, 45.0)]),
            (56, [_target("T1", 38.0, 44.0)]),
            (112, [_target("T1", 41.0, 46.0)]),
            (168, [_target("T1", 39.0, 45.0)]),
            (230, [_target("T1", 40.0, 45.0)]),
        ],
        last_known_alive=START + dt.timedelta(days=260),
    )
    early_pd = _patient(
        "T-PD",
        [
            (-1, [_target("T1", 30.0, 35.0), nt]),
            (35, [_target("T1", 40.0, 44.0), nt]),
        ],
        death_date=START + dt.timedelta(days=120),
    )
    new = _patient(
        "T-NEW",
        [
            (-3, [_target("T1", 25.0, 30.0)]),
            (56, [_target("T1", 24.0, 30.0)]),
            (
                112,
                [
                    _target("T1", 24.0, 30.0),
                    Lesion("N1", "new", "unequivocal", organ="lung", longest_diameter_mm=12.0),
                ],
            ),
        ],
    )
    ne = _patient(
        "T-NE",
        [
            (-3, [_target("T1", 35.0, 40.0), _target("T2", 15.0, 18.0)]),
            (56, [_target("T1", 33.0, 40.0), _target("T2", None, None, "not_evaluated")]),
            (112, [_target("T1", 34.0, 41.0), _target("T2", 15.0, 18.0)]),
        ],
    )
    no_targets = _patient("T-NOTARGET", [(-3, [nt]), (56, [nt]), (112, [nt])])
    death = _patient(
        "T-DEATH",
        [
            (-3, [_target("T1", 50.0, 60.0)]),
            (56, [_target("T1", 45.0, 58.0)]),
        ],
        death_date=START + dt.timedelta(days=90),
    )
    return [cr, pr, sd, early_pd, new, ne, no_targets, death]


class _Tables(HTMLParser):
    """Collects, per table id, rows of (text, data-attributes) cells."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[tuple[str, dict[str, str]]]]] = {}
        self._table: str | None = None
        self._cell: tuple[list[str], dict[str, str]] | None = None
        self.images: list[str] = []
        self.links: list[str] = []
        self.scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "table":
            self._table = a.get("id")
            if self._table:
                self.tables[self._table] = []
        elif tag == "tr" and self._table:
            self.tables[self._table].append([])
        elif tag in ("td", "th") and self._table:
            self._cell = ([], {k[5:]: v for k, v in a.items() if k.startswith("data-")})
        elif tag == "img":
            self.images.append(a.get("src", ""))
        elif tag in ("a", "link"):
            self.links.append(a.get("href", ""))
        elif tag == "script":
            self.scripts += 1

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell[0].append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._table:
            self.tables[self._table][-1].append(("".join(self._cell[0]).strip(), self._cell[1]))
            self._cell = None
        elif tag == "table":
            self._table = None


@pytest.fixture(scope="module")
def cohort_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("cohort")
    if EXAMPLES.is_dir():
        shutil.copytree(EXAMPLES, folder / "examples")
    (folder / "made").mkdir()
    for assessment in hand_made_cohort():
        save_assessment(assessment, folder / "made" / f"{assessment.patient_id}.json")
    (folder / "broken.json").write_text(
        '{"format": "lesion-tool.assessment", "version": 1', "utf-8"
    )
    return folder


@pytest.fixture(scope="module")
def report(cohort_dir: Path, tmp_path_factory: pytest.TempPathFactory, test_output: Path):
    out = tmp_path_factory.mktemp("report")
    capture = pytest.MonkeyPatch()
    import io
    import sys

    err, stdout = io.StringIO(), io.StringIO()
    capture.setattr(sys, "stderr", err)
    capture.setattr(sys, "stdout", stdout)
    try:
        code = main(["report", str(cohort_dir), "--out", str(out)])
    finally:
        capture.undo()
    # keep a copy for people to look at
    kept = test_output / "report"
    shutil.rmtree(kept, ignore_errors=True)
    shutil.copytree(out, kept)
    return {"out": out, "code": code, "stdout": stdout.getvalue(), "stderr": err.getvalue()}


@pytest.fixture(scope="module")
def engine(cohort_dir: Path):
    """The engine's own numbers for the same files (what the report must show)."""
    loaded = []
    for path in find_assessment_files([cohort_dir]):
        try:
            loaded.append(load_assessment(path))
        except Exception:  # noqa: BLE001 - the broken file
            continue
    results = {p: [score_assessment(a, settings_for(p)) for a in loaded] for p in PRESETS}
    return {
        "results": results,
        "endpoints": {p: cohort_endpoints(r) for p, r in results.items()},
        "n": len(loaded),
    }


def _parse(path: Path) -> _Tables:
    parser = _Tables()
    parser.feed(path.read_text("utf-8"))
    return parser


def test_every_file_is_written(report, engine) -> None:
    out = report["out"]
    assert report["code"] == 1  # one broken file was skipped
    html = out / "report.html"
    pdf = out / "report.pdf"
    assert html.is_file() and html.stat().st_size > 10_000
    assert pdf.read_bytes()[:5] == b"%PDF-"
    for kind in ("waterfall", "spider", "swimmer", "km"):
        for preset in PRESETS:
            png = out / "plots" / f"{kind}_{preset}.png"
            assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", png
    patient_pngs = sorted((out / "patients").glob("*.png"))
    assert len(patient_pngs) == engine["n"]
    n_pages = pdf.read_bytes().count(b"/Type /Page\n") + pdf.read_bytes().count(b"/Type /Page ")
    assert n_pages == 2 + 4 * len(PRESETS)  # endpoints, definitions, 4 plots per preset
    assert str(html) in report["stdout"]


def test_bad_file_is_reported_and_skipped(report) -> None:
    assert "broken.json" in report["stderr"]
    text = (report["out"] / "report.html").read_text("utf-8")
    assert "Skipped inputs" in text and "broken.json" in text


def test_html_is_self_contained(report) -> None:
    parsed = _parse(report["out"] / "report.html")
    assert parsed.scripts == 0
    assert parsed.images and all(src.startswith("data:image/png;base64,") for src in parsed.images)
    assert all(link.startswith("#") for link in parsed.links)
    text = (report["out"] / "report.html").read_text("utf-8")
    assert "http://" not in text and "https://" not in text and "<link" not in text


def _pct1(x: float) -> str:
    return f"{100 * x:.1f}"


def test_endpoint_table_equals_engine(report, engine) -> None:
    rows = _parse(report["out"] / "report.html").tables["endpoints"]
    body = {row[0][1]["preset"]: {c[1]["key"]: c for c in row[1:]} for row in rows[1:]}
    assert set(body) == set(PRESETS)
    for preset, ep in engine["endpoints"].items():
        cells = body[preset]
        assert int(cells["n"][1]["value"]) == ep.n == engine["n"]
        assert int(cells["n_evaluable"][1]["value"]) == ep.n_evaluable
        assert float(cells["orr"][1]["value"]) == ep.orr
        assert cells["orr"][0] == f"{_pct1(ep.orr)}% ({ep.n_responders}/{ep.n_evaluable})"
        assert float(cells["dcr"][1]["value"]) == ep.dcr
        assert cells["dcr"][0] == f"{_pct1(ep.dcr)}% ({ep.n_disease_control}/{ep.n_evaluable})"
        lo, hi = (float(v) for v in cells["orr_ci"][1]["value"].split(","))
        assert (lo, hi) == ep.orr_ci
        assert cells["orr_ci"][0] == f"{_pct1(lo)}–{_pct1(hi)}%"
        lo, hi = (float(v) for v in cells["dcr_ci"][1]["value"].split(","))
        assert (lo, hi) == ep.dcr_ci
        assert int(cells["n_pfs_events"][1]["value"]) == ep.n_pfs_events
        median = cells["median_pfs_days"]
        if ep.median_pfs_days is None:
            assert median[0] == "NR" and median[1]["value"] == ""
        else:
            assert float(median[1]["value"]) == ep.median_pfs_days
            assert median[0] == f"{ep.median_pfs_days:.0f}"
        shown = cells["median_pfs_ci"][1]["value"].split(",")
        assert [float(v) if v else None for v in shown] == list(ep.median_pfs_ci)


def test_bor_counts_and_agreement_equal_engine(report, engine) -> None:
    tables = _parse(report["out"] / "report.html").tables
    for row in tables["bor-counts"][1:]:
        for text, data in row[1:]:
            preset, bor = data["preset"], data["bor"]
            expected = sum(str(r.best_overall_response) == bor for r in engine["results"][preset])
            assert int(text) == expected, (preset, bor)
    first = [str(r.best_overall_response) for r in engine["results"]["mrecist"]]
    second = [str(r.best_overall_response) for r in engine["results"]["recist-1.1"]]
    used = [r for r in RESPONSE_ORDER if r in set(first) | set(second)]
    expected = cohen_kappa(cross_table(first, second, used))
    kappa_rows = tables["kappa-mrecist-vs-recist-1.1"]
    kappa = next(c for row in kappa_rows for c in row if c[1].get("key") == "kappa")
    if math.isnan(expected.kappa):
        assert kappa[1]["value"] == "nan"
    else:
        assert float(kappa[1]["value"]) == pytest.approx(expected.kappa, abs=1e-12)
        assert kappa[0].startswith(f"{expected.kappa:.3f}")
    cross = tables["crosstab-mrecist-vs-recist-1.1"]
    assert [c[0] for c in cross[0][1:-1]] == list(expected.table.categories)
    for i, row in enumerate(cross[1:-1]):
        assert [int(c[0]) for c in row[1:-1]] == list(expected.table.counts[i])
    # the cohort is built so that the two criteria disagree at least once
    assert expected.observed < 1.0


CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--enable-logging=stderr",
    "--v=0",
    "--virtual-time-budget=5000",
]

PROBE = """<script>
window.__errors = [];
window.addEventListener('error', function (e) {
  window.__errors.push('error: ' + (e.message || (e.target && (e.target.src || '').slice(0, 40))));
}, true);
var __ce = console.error;
console.error = function () {
  window.__errors.push('console: ' + [].join.call(arguments, ' '));
  __ce.apply(console, arguments);
};
window.addEventListener('load', function () {
  var imgs = document.images, bad = 0;
  for (var i = 0; i < imgs.length; i++) {
    if (!imgs[i].complete || imgs[i].naturalWidth === 0) bad++;
  }
  var out = document.createElement('pre');
  out.id = 'probe-result';
  out.textContent = 'IMAGES=' + imgs.length + ' BROKEN=' + bad
    + ' ERRORS=' + JSON.stringify(window.__errors);
  document.body.appendChild(out);
});
</script>"""


def _chromium_check(html: Path, profile: Path) -> tuple[int, int, str, str]:
    """Open ``html`` with a probe script; return (images, broken images, JS errors, log)."""
    probed = html.with_name("probed-" + html.name)
    probed.write_text(html.read_text("utf-8").replace("<head>", "<head>" + PROBE, 1), "utf-8")
    run = subprocess.run(
        [CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--dump-dom", probed.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    probed.unlink()
    marker = run.stdout.split('<pre id="probe-result">', 1)
    assert len(marker) == 2, f"probe did not run: {run.stderr[-2000:]}"
    result = marker[1].split("</pre>", 1)[0]
    fields = dict(part.split("=", 1) for part in result.split(" ", 2))
    console = "\n".join(line for line in run.stderr.splitlines() if "CONSOLE" in line)
    return int(fields["IMAGES"]), int(fields["BROKEN"]), fields["ERRORS"], console


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="chromium is not installed")
def test_html_renders_in_chromium_without_errors(report, tmp_path: Path) -> None:
    images, broken, errors, console = _chromium_check(report["out"] / "report.html", tmp_path / "p")
    assert images >= 4 * len(PRESETS)
    assert broken == 0
    assert errors == "[]"
    assert console == ""


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="chromium is not installed")
def test_chromium_check_catches_a_broken_image_and_a_script_error(tmp_path: Path) -> None:
    # The check above must be able to fail: a corrupt image and a throwing script are caught.
    page = tmp_path / "broken.html"
    page.write_text(
        "<!DOCTYPE html><html><head><meta charset='utf-8'></head><body>"
        "<img src='data:image/png;base64,iVBORw0KGgoAAAA='>"
        "<script>undefinedFunction();</script></body></html>",
        "utf-8",
    )
    images, broken, errors, _console = _chromium_check(page, tmp_path / "p")
    assert images == 1 and broken == 1
    assert "undefinedFunction" in errors


def test_unknown_criteria_is_a_usage_error(tmp_path: Path, capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["report", str(tmp_path), "--out", str(tmp_path / "o"), "--criteria", "who"])
    assert exc.value.code == 2
    assert "unknown criteria who" in capsys.readouterr().err


def test_no_usable_file_is_an_error(tmp_path: Path, capsys) -> None:
    (tmp_path / "bad.json").write_text("[]", "utf-8")
    assert main(["report", str(tmp_path), "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert "bad.json" in err and "nothing to report" in err
    assert not (tmp_path / "o" / "report.html").exists()


def test_one_preset_report_still_compares_mrecist_with_recist(tmp_path: Path, capsys) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for assessment in hand_made_cohort()[:4]:
        save_assessment(assessment, folder / f"{assessment.patient_id}.json")
    out = tmp_path / "out"
    assert main(["report", str(folder), "--out", str(out), "--criteria", "recist-1.1"]) == 0
    tables = _parse(out / "report.html").tables
    assert [row[0][1]["preset"] for row in tables["endpoints"][1:]] == ["recist-1.1"]
    assert "kappa-mrecist-vs-recist-1.1" in tables
    assert sorted(p.name for p in (out / "plots").glob("*.png")) == [
        f"{k}_recist-1.1.png" for k in ("km", "spider", "swimmer", "waterfall")
    ]


def test_settings_options_reach_the_engine(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    cohort = hand_made_cohort()
    for assessment in cohort:
        save_assessment(assessment, folder / f"{assessment.patient_id}.json")
    out = tmp_path / "out"
    args = ["--criteria", "mrecist", "--no-confirm", "--dcr-sd-min-days", "100"]
    assert main(["report", str(folder), "--out", str(out), *args]) == 0
    settings = settings_for("mrecist", confirm=False, dcr_sd_min_days=100)
    expected = cohort_endpoints([score_assessment(a, settings) for a in cohort])
    default = cohort_endpoints([score_assessment(a, settings_for("mrecist")) for a in cohort])
    assert (expected.dcr, expected.orr) != (default.dcr, default.orr)  # the options matter here
    row = _parse(out / "report.html").tables["endpoints"][1]
    cells = {c[1]["key"]: c for c in row[1:]}
    assert float(cells["dcr"][1]["value"]) == expected.dcr
    assert float(cells["orr"][1]["value"]) == expected.orr


def test_cohort_without_measurable_disease(tmp_path: Path) -> None:
    # ORR and DCR have no denominator; the plots say so instead of failing.
    no_targets = next(a for a in hand_made_cohort() if a.patient_id == "T-NOTARGET")
    save_assessment(no_targets, tmp_path / "only.json")
    out = tmp_path / "out"
    assert main(["report", str(tmp_path / "only.json"), "--out", str(out)]) == 0
    row = _parse(out / "report.html").tables["endpoints"][1]
    cells = {c[1]["key"]: c for c in row[1:]}
    assert cells["orr"][0] == "n/a (0/0)" and cells["orr"][1]["value"] == ""
    assert cells["dcr"][0] == "n/a (0/0)"
    assert (out / "plots" / "waterfall_mrecist.png").is_file()


class _Definitions(HTMLParser):
    """Collects the terms and definitions of ``<dl id="definitions">``."""

    def __init__(self) -> None:
        super().__init__()
        self.items: dict[str, str] = {}
        self._in = False
        self._tag: str | None = None
        self._term = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "dl" and dict(attrs).get("id") == "definitions":
            self._in = True
        elif self._in and tag in ("dt", "dd"):
            self._tag = tag
            if tag == "dt":
                self._term = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "dl":
            self._in = False
        elif tag in ("dt", "dd"):
            self._tag = None

    def handle_data(self, data: str) -> None:
        if self._tag == "dt":
            self._term += data
        elif self._tag == "dd":
            self.items[self._term] = self.items.get(self._term, "") + data


def test_endpoints_are_defined_on_the_page_with_each_presets_settings(report) -> None:
    html = (report["out"] / "report.html").read_text("utf-8")
    parser = _Definitions()
    parser.feed(html)
    terms = parser.items
    for word in ("PFS", "ORR", "DCR", "DoR", "Best overall response", "Confirmation"):
        assert any(word in term for term in terms), word
    pfs = next(text for term, text in terms.items() if term.startswith("PFS"))
    assert "death" in pfs and "censored" in pfs and "treatment start" in pfs
    defaults = settings_for("mrecist")
    dcr = next(text for term, text in terms.items() if term.startswith("DCR"))
    assert f"{defaults.dcr_sd_min_days} days" in dcr
    confirmation = terms["Confirmation"]
    assert f"{defaults.confirm_min_days} days" in confirmation
    km = next(text for term, text in terms.items() if "Kaplan-Meier" in term)
    assert "pointwise 95% CI" in km and "not a simultaneous band" in km
    new = next(text for term, text in terms.items() if "new lesion" in term)
    assert "diamond" in new
    # the settings table: one column per preset, numbers from the engine's settings
    table = _parse(report["out"] / "report.html").tables["preset-settings"]
    assert [c[0] for c in table[0][1:]] == ["mRECIST", "mRECIST-1.1", "RECIST 1.1"]
    rows = {row[0][0]: [c[0] for c in row[1:]] for row in table[1:]}
    assert rows["CR / PR confirmation"] == [
        f"required, ≥ {settings_for(p).confirm_min_days} days later" for p in PRESETS
    ]
    assert rows["PD: target sum above nadir by"] == [
        "≥ 20%",
        "≥ 20% and ≥ 5 mm",
        "≥ 20% and ≥ 5 mm",
    ]
    # the Kaplan-Meier plots say what their band is
    assert "Shaded: pointwise 95% CI" in html and "not a simultaneous band" in html
    assert "95% band" not in html and "confidence band" not in html


def test_a_report_without_confirmation_says_so_in_the_settings(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for assessment in hand_made_cohort()[:3]:
        save_assessment(assessment, folder / f"{assessment.patient_id}.json")
    out = tmp_path / "out"
    args = ["--criteria", "mrecist", "--no-confirm", "--dcr-sd-min-days", "100"]
    assert main(["report", str(folder), "--out", str(out), *args]) == 0
    table = _parse(out / "report.html").tables["preset-settings"]
    rows = {row[0][0]: [c[0] for c in row[1:]] for row in table[1:]}
    assert rows["CR / PR confirmation"] == ["off"]
    assert rows["DCR: no progression at an assessment from"] == ["day 100 (3.3 mo)"]


def test_definitions_take_their_numbers_from_the_settings() -> None:
    from lesion_tool.report.build import endpoint_definitions

    same = {p: settings_for(p, pd_increase_pct=25, sd_min_days=56) for p in PRESETS}
    text = dict(endpoint_definitions(same))
    assert "at least 25% above the nadir" in text["Response at a timepoint"]
    assert "at least 56 days after treatment start" in text["Best overall response (BOR)"]
    mixed = {
        "mrecist": settings_for("mrecist", confirm_min_days=28),
        "recist-1.1": settings_for("recist-1.1", confirm_min_days=35),
    }
    confirmation = dict(endpoint_definitions(mixed))["Confirmation"]
    assert "per preset (see the table below)" in confirmation and "28" not in confirmation


def test_pngs_are_palette_images_that_keep_the_response_colours(report) -> None:
    from PIL import Image

    from lesion_tool.report.style import RESPONSE_COLOURS

    path = report["out"] / "plots" / "waterfall_mrecist.png"
    with Image.open(path) as image:
        assert image.mode == "P"
        colours = {c for _n, c in image.convert("RGB").getcolors(1 << 16)}
    for name in ("CR", "PR", "SD", "PD"):
        hex_colour = RESPONSE_COLOURS[name]
        rgb = tuple(int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
        assert rgb in colours, name
