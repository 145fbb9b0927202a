"""Exact arithmetic for diameters: integer tenths of a millimetre.

Diameters are recorded to 0.1 mm (format v1), so every sum, threshold and percentage the response
rules need can be computed exactly on integers. Floating point gets inclusive thresholds wrong:
``0.7 * 22.0 == 15.399999999999999`` would make 22.0 -> 15.4 mm (exactly -30 %) a miss for PR.
"""

from __future__ import annotations

import math

__all__ = ["pct_change", "tenths_to_mm", "to_tenths"]


def to_tenths(value_mm: float) -> int:
    """A diameter in millimetres as an integer count of tenths of a millimetre, half rounded up.

    ``15.4 -> 154``; ``12.25 -> 123``. The same rounding is used when an assessment is saved
    (:func:`lesion_tool.storage.save_assessment`), so a saved file and the scores computed before
    saving agree.
    """
    return math.floor(value_mm * 10.0 + 0.5)


def tenths_to_mm(tenths: int) -> float:
    """Integer tenths of a millimetre back to millimetres (``154 -> 15.4``, exact to repr)."""
    return tenths / 10


def pct_change(value_tenths: int, reference_tenths: int) -> float | None:
    """Percent change of ``value`` against ``reference``, rounded half away from zero to 0.1 %.

    Exact integer arithmetic (``1000 * change / reference`` rounded in integers). Returns None
    when the reference is 0 (a change from nothing has no percentage).
    """
    if reference_tenths <= 0:
        return None
    numerator = 1000 * (value_tenths - reference_tenths)
    tenths_of_pct = (2 * abs(numerator) + reference_tenths) // (2 * reference_tenths)
    if tenths_of_pct == 0:
        return 0.0
    return tenths_of_pct / 10 if numerator > 0 else -tenths_of_pct / 10
