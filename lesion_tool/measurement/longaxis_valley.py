"""A lesion delineated from its dark (necrotic) core on an arterial image ends at the fat plane at
the liver's surface too, where smoothing lifted the plane to the core's values (issue 11,
w17-hyper02).

IRCADb tumour 02 lies against the liver's surface, a 1-2 mm plane of fat between it and the
bowel. Made arterial with a necrotic core (43 HU core, enhancing rim, liver 111 HU), a click in the
core or a rough line across it is delineated from the core's value, where the darker side of the
liver counts as lesion. The thin fat plane, smoothed (1 mm sigma) to 0-45 HU, reads as core, so
the rays crossed it and the outline took 10-25 mm of the bowel and its fat beyond (32.8 and 33.0
mm for 29.4 along an axis ending in the bowel, Dice 0.41 and 0.23). The hypo-attenuating rule
(surfacevalley.py: a long, narrow valley darker than the tissue on both sides of it is a fat plane
between organs, and ends a ray) was kept off arterial images lest a necrotic core narrower than
its closing disk read as a valley inside its rim. That fear does not hold for a delineation from
the core itself: the valley holding the rays' origin is never a stop, a core wide enough to be
clicked or drawn across (more than VALLEY_DISK_MM x 2 = 6 mm) is not filled by the closing, and a
valley must run VALLEY_MIN_LENGTH_MM (20 mm) to count, which a necrotic core narrower than 6 mm
does not inside a lesion a reader measures. Brighter values (the enhancing rim) are flattened to
the liver's before the valleys are sought, so the rim never makes its own core a valley.

Not extended to an enhancing lesion's delineation (the rim's value, brighter than the liver),
whose darker side also counts as lesion on arterial images: tried on the same image it shortened a
click already within (28.2 -> 26.8 mm for 29.4) and fixed none; it was not measured further.
"""

from __future__ import annotations

__all__ = ["valley_stops"]


def valley_stops(sign: float, texture: bool) -> bool:
    """Whether a long fat-plane valley (:func:`surfacevalley.fat_plane_valleys`) ends the rays
    of a delineation with this polarity (``sign`` < 0: the lesion darker than the liver) and
    kind (``texture``: a local-SD profile, not HU). Every delineation by value of a lesion
    darker than the liver: a portal-venous hypo lesion and, on arterial images, a necrotic
    core (whose darker side counts as lesion, so a lifted fat plane reads as core)."""
    return sign < 0 and not texture
