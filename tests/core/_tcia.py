"""The TCIA HCC-TACE-Seg clinical table rebuilt as assessments: one per patient and reader.

Each reading becomes one ``viable`` target carrying the reader's mRECIST sum as its viable
diameter and the RECIST sum as its whole-lesion diameter, at baseline and at the follow-up
(``Interval_FU`` weeks later). So mRECIST and RECIST 1.1 are scored from one stored reading, as
lesion-tool stores them, and the readings whose viable sum exceeds the whole-lesion sum (9 in the
release) are part of the cohort. Shared by the real-data tests and the README's figures.
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from lesion_tool.model import Assessment, Category, Kind, Lesion, LesionState, Timepoint
from lesion_tool.response import Response

CODES = {"1": Response.CR, "2": Response.PR, "3": Response.SD, "4": Response.PD}
START = dt.date(2000, 1, 10)
READERS = ("1", "2", "3")


@dataclass(frozen=True)
class TciaReading:
    """One reader's reading of one patient and the categories the reader released."""

    patient_id: str
    reader: str
    assessment: Assessment
    mrecist: Response
    recist: Response
    sums: dict[str, float]
    """``mRECIST_BL``, ``mRECIST_FU``, ``RECIST_BL``, ``RECIST_FU`` in mm."""


def table(shared_data: Path) -> list[dict[str, str]]:
    """The rows of the released clinical table (one per patient)."""
    path = shared_data / "hcc-tace-seg" / "clinical" / "HCC-TACE-Seg_clinical_data-V2.csv"
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def readings(shared_data: Path) -> list[TciaReading]:
    """Every patient x reader with both sums and both categories released (287 readings)."""
    out = []
    for row in table(shared_data):
        weeks = float(row["Interval_FU"]) if row["Interval_FU"] else 8.0
        fu_date = START + dt.timedelta(days=max(1, round(weeks * 7)))
        for reader in READERS:
            keys = [f"{reader}_{c}_{t}" for c in ("mRECIST", "RECIST") for t in ("BL", "FU")]
            codes = (row[f"{reader}_mRECIST"], row[f"{reader}_RECIST"])
            if not all(row[k] for k in keys) or not all(codes):
                continue
            sums = {k.split("_", 1)[1]: float(row[k]) for k in keys}

            def target(viable: float, whole: float) -> Lesion:
                return Lesion(
                    "T1",
                    Category.TARGET,
                    LesionState.MEASURED,
                    kind=Kind.VIABLE,
                    viable_diameter_mm=viable,
                    longest_diameter_mm=whole,
                )

            assessment = Assessment(
                row["TCIA_ID"],
                START,
                (
                    Timepoint(
                        "BL",
                        START - dt.timedelta(days=1),
                        (target(sums["mRECIST_BL"], sums["RECIST_BL"]),),
                    ),
                    Timepoint("FU", fu_date, (target(sums["mRECIST_FU"], sums["RECIST_FU"]),)),
                ),
                reader=f"reader{reader}",
            )
            out.append(
                TciaReading(
                    row["TCIA_ID"],
                    f"reader{reader}",
                    assessment,
                    CODES[str(int(float(codes[0])))],
                    CODES[str(int(float(codes[1])))],
                    sums,
                )
            )
    return out
