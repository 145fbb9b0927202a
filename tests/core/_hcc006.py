"""Where HCC_006's nodule is: the one place that knows it (tests and benchmarks import it).

The readers' baseline nodule of HCC_006 has no mask in the release; it was found on the images
(see tests/core/test_measure_tcia.py's docstring). Its location, the prompts tried on it and the
readers' range live here so that every test and benchmark asks the same questions.
"""

from __future__ import annotations

HCC_006_AP = (
    "hcc-tace-seg/HCC_006/08-06-1999-NA-ABDPEL LIVER-65146/103.000000-LIVER 3 PHASE AP-45033"
)
"""The arterial series, relative to ../shared/data."""
READERS_MM = (28.9, 34.0)
"""The three readers' baseline diameters of the HCC_006 nodule span this range (mm)."""
NODULE_CENTRE = (72, 330, 172)
"""Se 103 · Im 37: the centre of the ring on its widest slice."""
INTERIOR_CLICKS = [
    (72, 340, 165),
    (72, 340, 178),
    (73, 328, 168),
    (72, 318, 165),
    (72, 338, 160),
    (72, 320, 170),
    (71, 330, 170),
    (73, 332, 170),
]
"""Clicks in the nodule's rim and body on Im 36-38 (the centre is tried apart)."""
LINES = [
    ((72, 342, 156), (72, 315, 188)),
    ((72, 313, 170), (72, 346, 172)),
    ((73, 342, 156), (73, 315, 188)),
    ((71, 330, 150), (71, 330, 190)),
]
"""Rough lines across the nodule (its oblique long axis, its height, on Im 36-38)."""
