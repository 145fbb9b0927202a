"""A refusal as "not in the liver" that ``shell_settle`` would turn into a result stands.

:mod:`~lesion_tool.measurement.shell_settle` moves the liver's level read round a dark
region's first outline up onto a second, brighter liver level (05 at the dome, on the seam of a
125 HU and a 107 HU part of the liver). On a plain-liver click in a darker part of the liver the
same move makes that darker liver "lesion": the region grows through it, and the liver estimated
on its slice at the settled level leaves it out (5-20 % of the region inside it). ``segment``
still lets such a region through when its ends read as capped by liver or its body's
surroundings as another liver value, both judged at the settled level. A held-out seed's
plain-liver click on "noise 25 HU" and "noise 30 HU", refused as not in the liver before
``shell_settle``, came back as a 30.5 mm result (5 % inside the liver outlined, flagged three
ways).

Here, when a click's region on a settled level lies mostly outside the liver estimated on its
slice (less than ``OUTSIDE_LIVER_INSIDE`` inside), the click is delineated again on the
window's own level (shell_settle held); when that region is refused as not in the liver, the
settled one is refused too, whatever its ends and body read. Lines keep their escape.

Development evidence (w33-settle): no development no-tumour click was found that
``shell_settle`` turns from a refusal into a result (the benchmark's no-tumour clicks of seeds
0, 1, 3 on "noise 25 HU" and "noise 30 HU" and 40-50 more from seeds 1000+S, about 500 clicks;
the flagged outside-the-liver results of seeds 7-9 on the six portal-venous variants). A region
on a settled level mostly outside the liver occurred on 05 (census, noise seed 7, "noise 25
HU", 8-9 % inside, capped) and on two plain-liver clicks on 2.5 mm slabs (16-20 % inside); in
all of them the region on the window's own level is not refused, so nothing changes. Refusing
on the settled region alone (:data:`FIRST_REFUSED` False) turned the two plain-liver clicks'
25.2 / 26.7 mm flagged results into refusals but lost a census click on 05 (29.8 -> 28.9 mm
for 32.5): 05's own region on the settled level lies as far outside that estimate.
"""

from __future__ import annotations

from collections.abc import Callable

from lesion_tool.measurement.offliver import NotInLiver
from lesion_tool.measurement.shell_settle import unsettled

ENABLED = True
"""Switch for tests: False lets such a region through by its ends or body as before."""
FIRST_REFUSED = True
"""Refuse only when the region on the window's own level is itself refused as not in the liver
(False: whenever the settled region lies outside the liver, which lost a census click on 05)."""


def outside_settled(settled: bool, inside: float, click: bool, min_inside: float) -> bool:
    """Whether a click's region (``click``: not a line) whose liver level was settled on its
    shell (``settled``) lies mostly outside the liver estimated on its slice (``inside``, the
    share of it inside, under ``min_inside``): it is then refused as not in the liver, whatever
    its ends and body read."""
    return ENABLED and settled and click and inside < min_inside


def refusal_stands(delineate: Callable[[], object]) -> bool:
    """Whether the click's region delineated again on the window's own level (``delineate``,
    shell_settle held) is refused as not in the liver: then so is the settled one."""
    if not FIRST_REFUSED:
        return True
    try:
        with unsettled():
            delineate()
    except NotInLiver:
        return True
    except Exception:  # noqa: BLE001 - any other outcome is not that refusal
        return False
    return False
