"""Start-up cost: a command imports only what it uses (issue 17).

Each check runs in a fresh interpreter, so that what other tests imported does not hide a
module-level import of SimpleITK, scipy, scikit-image, matplotlib, highdicom or pydicom.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "assessments"
HEAVY = (
    "SimpleITK",
    "scipy",
    "skimage",
    "matplotlib",
    "highdicom",
    "pydicom",
    "numpy",
    "jsonschema",
)


def imported_after(code: str) -> set[str]:
    """Top-level packages of ``HEAVY`` in ``sys.modules`` after running ``code`` afresh."""
    probe = (
        "import sys, json\n"
        f"{code}\n"
        f"print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r}))))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize(
    "code",
    [
        "import lesion_tool",
        "import lesion_tool.io, lesion_tool.measurement, lesion_tool.synth, lesion_tool.storage",
        "import lesion_tool.cli as c\ntry:\n    c.main(['--help'])\nexcept SystemExit:\n    pass",
        (
            f"import lesion_tool.cli as c, os\nc.main(['rescore', {str(EXAMPLES)!r}, "
            "'--patients-csv', os.devnull, '--timepoints-csv', os.devnull])"
        ),
        f"import lesion_tool.cli as c\nc.main(['validate', {str(EXAMPLES)!r}])",
    ],
    ids=["import", "subpackages", "help", "rescore", "validate"],
)
def test_light_commands_import_no_heavy_library(code: str) -> None:
    assert imported_after(code) == set()


def test_lazy_packages_keep_their_public_api() -> None:
    import lesion_tool
    import lesion_tool.io
    import lesion_tool.measurement
    import lesion_tool.synth

    for package in (lesion_tool.io, lesion_tool.measurement, lesion_tool.synth):
        for name in package.__all__:
            value = getattr(package, name)
            assert value is not None, (package.__name__, name)
            assert name in dir(package)
        with pytest.raises(AttributeError):
            _ = package.no_such_name
    from lesion_tool.io import CTVolume, load_series, scan_folders
    from lesion_tool.io.series import load_series as defined
    from lesion_tool.io.volume import CTVolume as volume_class

    assert load_series is defined and CTVolume is volume_class and callable(scan_folders)
    assert isinstance(lesion_tool.__version__, str) and lesion_tool.__version__


def test_synth_option_names_match_the_generator() -> None:
    from lesion_tool.synth import names
    from lesion_tool.synth.writer import TRANSFER_SYNTAXES

    assert tuple(TRANSFER_SYNTAXES) == names.TRANSFER_SYNTAX_NAMES
