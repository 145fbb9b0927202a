"""A region "in the liver" only because a dark lesion's level widened the liver's band (issue 11).

Whether a region at the liver's surface lies in the liver is judged against the liver estimated
on the click's slice (``segment._liver_estimate``: the largest parenchyma-like region, closed and
hole-filled). Parenchyma-like means within the delineation's band of the liver's value, and that
band is half the lesion's contrast (at least ``LIVER_BAND_MIN_HU``): the darker the lesion level,
the wider the band. On an arterial image a dark region read with the enhancing tissue beside it
(``_Levels.mixed``) takes its darkest part as the lesion level, and the band can reach 25-30 HU
under the liver: the wall of the stomach, bowel or oesophagus and the diaphragm's crus, which lie
on the liver's lower surface, then read as liver, join the liver's region where they touch it, and
the estimate engulfs the organ with whatever it holds.

The case: IRCADb patient 1 made hyper-enhancing (stress bench, noise seed 28), a plain-liver click
at voxel (106, 223, 291), 1-2 mm inside the liver's lower surface where the stomach and
oesophagus lie on it. The region grew out of the liver into the gastric wall and contents (Im
101-116, 6-32 % of each slice inside the expert's liver; 0 % on Im 101-102). Its level is 56 HU
against the liver's 112 HU, so the band is 28 HU: the stomach wall (~90 HU) counts as liver and
the estimate takes the stomach in (100 % of the region inside it). It came back 46.8 mm with no
flag. On the same image read as portal venous, the level is 71 HU, the band 20.5 HU, the estimate
stops at the liver (1 % inside) and the click is refused as not in the liver. With the band at
18 / 20 / 22 / 24 HU the region's share of the estimate is 4 / 7 / 14 / 100 %.

Here the region must also lie in the liver estimated at the narrowest band the delineation ever uses
(``segment``'s ``LIVER_BAND_MIN_HU``, passed in as ``narrow_hu``), which depends on the liver's
value alone: when the wide band's estimate holds the region but the narrow one does not, the narrow
one is the estimate the checks that follow use (a region ending inside the liver in 3-D, a line
drawn partly in the liver, the liver re-measured round its body; otherwise the click is refused as
not in the liver). Why it holds on another patient: a tumour of the liver is surrounded by
parenchyma or bulges from it; parenchyma reads the liver's value within its noise, so the narrow
band's estimate still holds the tumour (as a hole in it, or with the liver round its body); an organ
lying on the liver is joined to it only through tissue of another value, which the narrow band
leaves out."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

ENABLED = True
"""Module switch: False keeps the wide band's estimate (its tests show it matters)."""


def inside_share(region: np.ndarray, liver: np.ndarray) -> float:
    """The share of ``region``'s pixels lying in ``liver`` (both ``(y, x)`` masks of a slice)."""
    return float((region & liver).sum() / max(int(region.sum()), 1))


def narrow_estimate(
    region: np.ndarray,
    liver: np.ndarray,
    band_hu: float,
    narrow_hu: float,
    need: float,
    estimate: Callable[[float], np.ndarray],
) -> np.ndarray:
    """The liver estimate the "in the liver" checks should use for ``region`` (the region on the
    click's slice, ``(y, x)``): ``liver`` (estimated with the delineation's band, ``band_hu``)
    when that band is already the narrowest, or ``region`` lies for less than ``need`` in it
    (the checks look further anyway), or it also lies for ``need`` in the liver estimated at
    ``narrow_hu`` (segment's LIVER_BAND_MIN_HU; ``estimate(band)`` gives that estimate); the
    narrow estimate otherwise (module docstring)."""
    if not ENABLED or band_hu <= narrow_hu:
        return liver
    if inside_share(region, liver) < need:
        return liver
    narrow = estimate(narrow_hu)
    return liver if inside_share(region, narrow) >= need else narrow
