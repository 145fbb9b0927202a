"""Colours, labels and matplotlib settings shared by every plot of the report.

One colour per response category, used identically in every plot and table, from the
Okabe-Ito palette (distinguishable with the common colour-vision deficiencies).
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "DAYS_PER_MONTH",
    "FIGURE_WIDTH_IN",
    "MAX_FIGURE_HEIGHT_IN",
    "MIN_FIGURE_WIDTH_IN",
    "MIN_FONT_PT",
    "PRESET_COLOURS",
    "PRESET_LABELS",
    "RESPONSE_COLOURS",
    "RESPONSE_ORDER",
    "rc_params",
    "response_colour",
]

RESPONSE_ORDER: tuple[str, ...] = ("CR", "PR", "SD", "non-CR/non-PD", "PD", "NE", "NA")
"""Best first; the order of legends, cross-tables and BOR counts."""

RESPONSE_COLOURS: dict[str, str] = {
    "CR": "#0072B2",  # blue
    "PR": "#56B4E9",  # sky blue
    "SD": "#E69F00",  # orange
    "non-CR/non-PD": "#CC79A7",  # reddish purple
    "PD": "#D55E00",  # vermillion
    "NE": "#999999",  # grey
    "NA": "#BBBBBB",
}

PRESET_LABELS: dict[str, str] = {
    "mrecist": "mRECIST",
    "mrecist-1.1": "mRECIST-1.1",
    "recist-1.1": "RECIST 1.1",
}

PRESET_COLOURS: dict[str, str] = {
    "mrecist": "#1f3b73",
    "mrecist-1.1": "#7b3294",
    "recist-1.1": "#4d4d4d",
}

DAYS_PER_MONTH = 365.25 / 12
"""Days per month for time axes in months (the usual oncology convention, 30.4375)."""

FIGURE_WIDTH_IN = 10.0
"""Width of the cohort plots (waterfall: at most this). Saved at 150 dpi (1500 px), the HTML
column (1116 px) shows them at >= 0.74 of that, so 8 pt text is >= 12 px on screen; in the PDF
each figure is one page at 100%."""
MIN_FIGURE_WIDTH_IN = 5.8
"""Narrowest waterfall (a handful of patients), so that bars keep a bar's proportions."""
MAX_FIGURE_HEIGHT_IN = 7.9
"""Tallest cohort plot: fits an A4 / Letter landscape page. Taller content is paged (swimmer)."""
MIN_FONT_PT = 8.0
"""Smallest text in a cohort plot (patient ids, at-risk numbers, captions)."""


def response_colour(response: object) -> str:
    """The colour of a response category (``Response`` enum or its string); grey if unknown."""
    return RESPONSE_COLOURS.get(str(response) if response is not None else "NE", "#999999")


def rc_params() -> dict[str, Any]:
    """matplotlib settings for legible, print-ready figures (use with ``plt.rc_context``)."""
    return {
        "font.family": "DejaVu Sans",
        "font.size": 10,
        "axes.titlesize": 12,
        "axes.titleweight": "bold",
        "axes.labelsize": 10,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.grid": True,
        "grid.color": "#e3e3e3",
        "grid.linewidth": 0.6,
        "axes.axisbelow": True,
        "legend.fontsize": 9,
        "legend.frameon": False,
        "xtick.labelsize": 9,
        "ytick.labelsize": 9,
        "figure.dpi": 100,
        "savefig.dpi": 150,
        "savefig.bbox": "tight",
        "pdf.fonttype": 42,
    }
