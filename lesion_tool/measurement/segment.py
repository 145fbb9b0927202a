"""Semi-automatic delineation of a liver lesion on real CT from a click or a rough line.

:func:`measure_lesion` finds the whole lesion around a prompt (a clicked voxel and/or a line
dragged across the lesion), measures its longest axial diameter (RECIST 1.1) and, on an arterial
image only, its viable (enhancing) part (mRECIST). It is designed from what real contrast CT
looks like rather than from a generator:

- Tumours are hypo- or hyper-attenuating against the parenchyma by as little as 10-15 HU, with
  noise of 10-25 HU per voxel: the image is smoothed in-plane before any decision. On every
  slice the lesion reaches, 72 rays are cast from its centre; each leaves the lesion where it
  meets 1.5 mm of tissue on the liver's side of the half-way value (a septum or a small vessel
  inside the lesion is crossed), and its edge moves out to the margin a reader outlines.
- A hypo-attenuating lesion's border may be graded (a halo of 3-5 mm that readers include): the
  median profile across all rays past the edge shows it, and the edge follows it to its foot.
- A lesion whose mean value equals the liver's (a faint enhancing ring around a core as dense
  as the parenchyma, specks of enhancement and necrosis) is delineated by texture, the local
  standard deviation of the soft tissue (vessels and fat left out), and flagged as such.
- Vessels run next to and through tumours, bright on both phases; neighbouring organs
  (diaphragm, muscle, bowel, kidney, gallbladder) touch the liver with values that can equal a
  tumour's. So (1) hyper-attenuating candidates have an upper bound well below contrast-filled
  vessels and the partial-volume rim of vessels and fat is never lesion; (2) rays are clipped to
  their neighbours' median, rays that end outside the liver to the slice's typical length, and
  slices to the slices next to them; (3) the liver around the click is estimated from the image
  (its largest parenchyma-like region, closed and hole-filled): a region that lies outside it
  and is little surrounded by parenchyma is refused as not in the liver (a kidney). It must
  also lie in the liver estimated at the liver's own narrow band, not only at a dark lesion
  level's wide one, which takes in an organ wall on the liver's surface (narrow_liver.py).
- Tumours are 9-80 mm: rays from a click run up to 60 mm; a line sets their length from its own.

Anything that makes the result doubtful is reported in ``flags`` (reason strings); cases that
cannot give a sound answer raise :class:`~lesion_tool.errors.MeasurementError` with what to do.
Work is done in a box around the prompt, never on the whole volume.

Voxel coordinates are ``(z, y, x)`` indices of the volume; lengths are millimetres; values HU.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from scipy import ndimage, special

from lesion_tool.errors import MeasurementError
from lesion_tool.io.phase import Phase
from lesion_tool.io.volume import CTVolume
from lesion_tool.measurement.capclick import LOW_CONTRAST_FLAG, LiverValue, under_cap
from lesion_tool.measurement.darktail import dark_tail_exit
from lesion_tool.measurement.diameter import (
    Geometry,
    boundary_points,
    longest_axial_diameter,
)
from lesion_tool.measurement.driftclick import Drifted, check_click
from lesion_tool.measurement.edg_fadefoot import fade_foot_mm
from lesion_tool.measurement.enclosed import enclosed_patches
from lesion_tool.measurement.end_flatsliver import reclick_sliver
from lesion_tool.measurement.enhancement import robust_sd
from lesion_tool.measurement.linebay import beyond_bay
from lesion_tool.measurement.linebound import (
    bounded_by_line,
    line_disk,
    line_says_larger,
    tongues_past,
)
from lesion_tool.measurement.lineends_reach import held_by_line_ends
from lesion_tool.measurement.linereach import REACH_RATIO, past_line, too_long
from lesion_tool.measurement.liverbody import BODY_NOTE, MIN_BODY_MM, body_levels
from lesion_tool.measurement.longaxis_valley import valley_stops
from lesion_tool.measurement.margin import follow_core
from lesion_tool.measurement.models import Diameter
from lesion_tool.measurement.n05_leftring import from_core_left
from lesion_tool.measurement.n5d_runsring import ring_for_runaway
from lesion_tool.measurement.n5s_slabring import ring_near_click
from lesion_tool.measurement.naming import slice_name
from lesion_tool.measurement.narrow_liver import narrow_estimate
from lesion_tool.measurement.neccore_band import (
    core_middle,
    dark_core,
    outside_liver,
    rim_is_band,
    uncut_rim,
)
from lesion_tool.measurement.necro_rimclick import follow_necrosis
from lesion_tool.measurement.necrosis import (
    CHORD_TOLERANCE_MM,
    RIM_BEYOND_MM,
    RIM_ENCLOSE_SHARE,
    RIM_MAX_GROWTH,
    RIM_PARTIAL_SHARE,
    RIM_SEARCH_MM,
    enhancing_rim,
    longest_chord_within,
    rim_margin_hu,
)
from lesion_tool.measurement.ngl_liverrange import flag_faint
from lesion_tool.measurement.nodule_seam import follow_seam
from lesion_tool.measurement.notwhole import NotWhole
from lesion_tool.measurement.offliver import NotInLiver, OffLiver, from_cap, off_liver_kept
from lesion_tool.measurement.r01_lineends import MAYBE_CORE_NOTE, line_ends_on_rim, longer_whole
from lesion_tool.measurement.raster import (
    RaySampler,
    beyond_mm,
    fill_holes,
    nanmedian_axis,
    open_by,
    polygon_mask,
    ray_profiles,
    ring_mm,
    within_mm,
)
from lesion_tool.measurement.recentre import follow_middle
from lesion_tool.measurement.reseed import OPEN_END_FLAG, RUNS_ON_FLAG, follow_open_end
from lesion_tool.measurement.rimcap import cap_widens, core_gone
from lesion_tool.measurement.rimedge import rim_edge_offset
from lesion_tool.measurement.rimedge_outer import widen_slices
from lesion_tool.measurement.rimpeak import RIM_TRIM_RADIUS_MM, core_in_rim, rim_peak, slice_peaks
from lesion_tool.measurement.ring import (
    CHECK_GAP_MM,
    RING_CLIP_HU,
    RING_MIN_DEPTH_RATIO,
    RING_Z_SCORE,
    carry_ring,
    deep_enough,
    find_ring,
    smooth_plane,
)
from lesion_tool.measurement.ring_follow import rim_flag_start
from lesion_tool.measurement.seam import from_core_beside
from lesion_tool.measurement.septum import septum_stop
from lesion_tool.measurement.shell_settle import settled_selection
from lesion_tool.measurement.short_line import past_short_line
from lesion_tool.measurement.slabhyper_line import vouched_flag, vouched_z
from lesion_tool.measurement.smallles_blob import reclick_blob
from lesion_tool.measurement.speed15_remask import remasked
from lesion_tool.measurement.speedmemo import (
    one_prompt,
    plane_derived,
    shared_planes,
    shared_textures,
)
from lesion_tool.measurement.sst_inliver import outside_settled, refusal_stands
from lesion_tool.measurement.surfacevalley import fat_plane_valleys
from lesion_tool.measurement.t04r_texmiddle import from_texture_middle
from lesion_tool.measurement.t04w_corecut import cut_at_rim
from lesion_tool.measurement.t06_ringclick import ring_lesion
from lesion_tool.measurement.t4n_tex3d import local_sd_3d, pixel_noise_hu, uses_3d
from lesion_tool.measurement.t4p_brightpart import body_of_part
from lesion_tool.measurement.t4s_texlevel import raise_texture_level
from lesion_tool.measurement.t4t_darkpart import body_of_dark_part
from lesion_tool.measurement.t4t_driftbody import body_of_drifted
from lesion_tool.measurement.t5p_halorim import HALO_NOTE, halo_not_rim
from lesion_tool.measurement.t5q_seamoff import core_beside_refused
from lesion_tool.measurement.taper_tip import keep_taper
from lesion_tool.measurement.texstack_line import part_of_whole
from lesion_tool.measurement.texturetrim import TRIM_RADIUS_MM, percolates, trimmed_radii
from lesion_tool.measurement.vessel import vessel_flag
from lesion_tool.measurement.vesselclick import (
    Speck,
    around_refused,
    follow_vessel,
    measure_once,
)
from lesion_tool.measurement.wallrim import RIM_TOP_HU, liver_with_rim

__all__ = [
    "LesionEvidence",
    "LesionMeasurement",
    "LesionPrompt",
    "measure_lesion",
]

Voxel = tuple[float, float, float]

# ---------------------------------------------------------------------------------------------
# The rules, in one place (physical units, not tuned to any one data set).

VIABLE_AROUND_NOTE = "the viable (enhancing) part surrounds the necrosis"
"""How the note on a viable diameter not across the necrosis begins."""
RIMEDGE_REACH_MM = 30.0
"""How far beyond a result's box the rim's outer edge may be sought (rimedge_outer's ramp, rim
and exit run, and the smoothing)."""
RIMEDGE_MIN_RIM_PX = 20
"""Fewer enhancing pixels than this in a result give no rim value to judge an edge by."""
SMOOTH_SIGMA_MM = 1.0
"""In-plane Gaussian sigma (mm) before any decision (noise of 10-25 HU per voxel)."""
N_RAYS = 72
"""Rays cast from the click in every slice (5 degrees apart)."""
RAY_STEP_MM = 0.25
"""Sampling step along a ray."""
CLICK_SEARCH_MM = 60.0
"""Longest ray from a click (a click may be near the edge of an 80 mm lesion)."""
LINE_SEARCH_FACTOR = 0.75
"""With a line of length L rays run to LINE_SEARCH_FACTOR * L + LINE_SEARCH_MARGIN_MM."""
LINE_SEARCH_MARGIN_MM = 3.0
EXIT_RUN_MM = 1.5
"""A ray leaves the lesion where it meets this much non-lesion tissue in a row (a vessel or a
noisy pixel inside the lesion is crossed, the liver is not). Septa, strands of denser tissue and
small vessels inside large tumours are 1-2 mm across; blurred by the scanner (~0.7 mm) and the
smoothing (1 mm) a 1 mm septum stays on the liver's side of the half-way value for ~1.2 mm, so
1 mm stopped rays inside heterogeneous tumours (IRCADb tumour 01: 71.7 mm for 79.8)."""
MIXED_EXIT_RUN_MM = 2.5
"""On arterial images a ray crosses the seam between enhancing and necrotic tissue, whose
blurred values look like liver for about 1.6 smoothing sigmas plus the scanner's blur."""
EDGE_FRACTION = 0.25
"""Past the half-way value the edge moves out to where tissue is within this share of the
contrast from the liver ..."""
EDGE_NOISE_K = 2.0
"""... or this many noise SDs of the smoothed liver, whichever is farther (not past half-way)"""
EDGE_MM = 2.0
HALO_MAX_MM = 4.0
"""A hypo-attenuating lesion's graded border (a halo of oedema or compressed parenchyma, 3-5 mm,
that readers include) is followed up to this far past the edge ..."""
HALO_FOOT_FRACTION = 0.05
"""... to its foot: where the median profile across all rays comes within this share of the
contrast (or its own standard error) of the value it reaches HALO_MAX_MM out, which must be the
liver's. A halo runs around the lesion and shows in that median; a vessel or a neighbour met by a
few rays does not. (Measured on IRCADb tumour 05: the median profile rises for 3-4 mm past the
half-way edge, against 1-1.5 mm for the six others; results were the same for 0.05-0.08.)"""
BLUR_FOOT_MM = 1.5
"""The foot of a sharp edge blurred by the scanner (~0.7 mm) and the smoothing (1 mm) lies about
this far past the edge as placed (one combined blur sigma beyond the outer-quarter value): only
a border wider than that is a halo."""
HALO_FIT_MM = (-4.0, 5.0)
"""An enhancing lesion's border is judged on the median radial profile from this far inside to
this far outside the edge as placed (mm), fitted with a blurred step (an erfc of width sigma):
the shape of the whole border, not one crossing of a noisy foot value ..."""
HALO_MIN_SIGMA_MM = 2.25
"""... and it is a graded border (a halo) only when that width is at least this: a sharp edge
blurred by the scanner and the smoothing fits 1.25-1.75 mm on IRCADb's tumours made
hyper-enhancing (02, 03, 07; 06 1.0), tumour 05's graded border 2.0-4.0 mm (2.5-3.0 on its
middle slices). Its foot, two widths past the step's middle, is then where the outline goes,
less BLUR_FOOT_MM as for a hypo-attenuating lesion."""
HALO_OTHER_FRACTION = 0.5
"""Only rays that meet no other tissue up to HALO_FIT_MM[1] past the edge count: nothing above
the lesion's half-way value (a vessel, a bright neighbour) and nothing darker than the liver by
this share of the contrast (fat, a fissure, a dark neighbour) ..."""
HALO_MIN_RAYS = 0.5
"""... and those rays must be at least this share of all: a halo runs around most of the lesion,
a vessel or a neighbour beside it does not."""
HALO_FAR_SE = 2.0
"""The fitted step must end at the liver's value, within HALO_FOOT_FRACTION of the contrast or
this many standard errors of the median profile, on either side, and the profile must not dip
under that end on the way: a profile that runs on past the liver's value, or through a trough,
is meeting something else (IRCADb tumour 06 made hyper-enhancing: a fissure 2-5 mm out pulls it
10-40 HU under the liver)."""
"""... and no farther than this: the margin a reader outlines, not the middle of a soft border."""
ANGULAR_WINDOW = 9
"""Rays compared with their neighbours (circular median over this many) ..."""
ANGULAR_CLIP = (0.75, 1.25)
"""... and clipped to these multiples of it: a ray that slipped through a gap into a vessel or
a neighbour, or stopped at a vessel inside the lesion, follows its neighbours."""
LEAK_RAY_FACTOR = 1.2
"""Rays that end outside the liver are held to this multiple of the slice's median ray."""
MIN_ASPECT = 0.5
"""Flag an outline whose perpendicular diameter is under this share of its longest (a vessel)."""
MAX_ELONGATION = 1.6
"""No ray longer than this multiple of the slice's median ray (lesions are roughly round; the
80 x 49 mm lesions of the field are 1.6:1): a sector that flowed out is cut back."""
FAT_HU = -30.0
"""Below this: fat or air, never lesion (a ray stops there)."""
SOFT_TISSUE_HU = (-20.0, 260.0)
"""Range of the histogram in which the parenchyma is looked for."""
SEED_EXCLUSION_HU = 7.0
"""Histogram bins this close to the lesion's value are not candidates for the parenchyma."""
MIN_CONTRAST_HU = 6.0
"""Below this lesion-liver difference the click is refused (it looks like the liver)."""
LOW_CONTRAST_HU = 15.0
"""Below this difference (or below LOW_CNR times the smoothed noise) the result is flagged."""
LOW_CNR = 3.0


def low_contrast(contrast_hu: float, noise_hu: float) -> bool:
    """Whether a lesion ``contrast_hu`` (lesion minus liver, smoothed HU) from the liver is low
    against a smoothed liver noise SD of ``noise_hu``: under LOW_CONTRAST_HU, or under LOW_CNR
    noise SDs. The one test behind the "low contrast" flag, the search for a ring or texture when
    a region by value barely differs, the re-measure of a mixed lesion upwards (clear contrast is
    its negation) and texturetrim's faint enhancing regions. A NaN noise counts as no noise."""
    c = abs(contrast_hu)
    return c < LOW_CONTRAST_HU or c < LOW_CNR * noise_hu


RIM_MM = 1.5
"""Partial-volume rim (about 1.5 Gaussian sigmas of smoothing and scanner blur) around vessels
and fat, never lesion ..."""
MIN_RIM_AREA_MM2 = 10.0
"""... of structures at least this large in a slice (an enhancing speck inside a lesion is not a
vessel)."""
VESSEL_RADIUS_MM = 3.0
"""On arterial images, tissue of an enhancing lesion above its ceiling (the brighter part of a
heterogeneous tumour) is lesion where it forms a blob wider than a vessel of this radius (it
survives an opening by a disk of this radius); thinner bright structures are tubes (vessels) and
stay out with their rim, cut at the lesion's border."""
VESSEL_MAX_HEADROOMS = 2.5
"""... and below the lesion's value + this many headrooms (contrast-filled vessels beyond).
Measured on IRCADb patient 1 made hyper-enhancing (benchmarks/bench_stress.py): the 80 mm
tumour 01 spans 135-180 HU smoothed (10th-90th percentile) against a click reading of 157 HU;
with this, and the upward re-measure of the lesion's value below, hyper 16 -> 17/28 within,
hyper + 2.5 mm + 30 HU 10 -> 11, hyper + 5 mm + 25 HU 6 -> 7, no new unflagged dangerous."""
BLOB_FRINGE_MM = RIM_MM
"""The bright pixels this close to a blob (see VESSEL_RADIUS_MM) belong to it: the opening
shaves the blob's irregular edge (see _blob_fringe)."""
HEADROOM_FRACTION = 0.5
HEADROOM_MIN_HU = 20.0
"""A hyper-attenuating lesion's tissue lies below its value + max(HEADROOM_FRACTION * contrast,
HEADROOM_MIN_HU): contrast-filled vessels stay out. A hypo-attenuating one's lies above its value
- max(contrast, HEADROOM_MIN_HU) (necrosis is lesion; partial volume with lung or fat is not)."""
LIVER_BAND_MIN_HU = 18.0
"""Parenchyma: within max(this, |contrast| / 2) of the liver value."""
SHELL_MM = (2.0, 7.0)
"""Part of each ray past the edge where the parenchyma is re-measured and the liver share
checked."""
BESIDE_DARK_MM = 2.0
"""... a ray ended at a darker neighbour when the rule took at least this much from it (a
shorter cut is the ramp down to fat beside a lesion, as before)."""
BESIDE_DARK_SHARE = 0.15
"""A result whose rays on the click's slice ended this often at a darker neighbour beyond the
liver (``darktail.py``) is flagged: without it such rays ran on into the neighbour, and results
that leak no more can come out short (IRCADb 01 with a necrotic core, 26 -> 33 % under)."""
SURFACE_LIVER_SHARE = 0.5
"""Flag a lesion less than this share surrounded by parenchyma."""
REFUSE_LIVER_SHARE = 0.15
"""Refuse a region this little surrounded by parenchyma (it is not in the liver)."""
OUTSIDE_LIVER_SHARE = 0.6
OUTSIDE_LIVER_INSIDE = 0.3
"""Refuse a region less than OUTSIDE_LIVER_SHARE surrounded by parenchyma when less than
OUTSIDE_LIVER_INSIDE of it (on the click's slice) lies in the liver estimated from the image: a
click in the kidney, bowel or spleen beside the liver. Measured on 3D-IRCADb-01 patient 1: every
tumour result within tolerance had a share of 0.53 or more and 0.47 or more of it inside the
estimated liver (the tumours at the surface and beside a fissure included; the 80 mm tumour
bulging from the liver's surface has a share of 0.63 and lies 2-13 % inside); a click in the
upper pole of the kidney on HCC-TACE-Seg HCC_006 (arterial) gave a share of 0.49 and 3 %
inside."""
CAP_LIVER_INSIDE = 0.7
"""A region outside the liver estimated on the click's slice is still a liver lesion when it
ends inside the liver in 3-D: on the first slice beyond one of its ends where the tissue under
its end slice's outline is no longer the lesion's, at least this share of that outline lies in
the liver estimated there and looks like parenchyma (a tumour bulging from the liver's surface
is rooted in it and capped by it). A neighbouring organ pressed into the liver's visceral
surface ends in its own fat: HCC-TACE-Seg HCC_006's kidney upper pole has 0 % of its outline in
the liver beyond either end, IRCADb's 80 mm tumour bulging from the liver 100 % (original and
hyper-enhanced, 1.6-5 mm slices). An organ resting on the liver's dome (the heart) is capped by
it too: such a result is therefore always flagged, never refused only on this test."""
CAP_SEARCH_MM = 30.0
"""How far beyond a region's end slice the tissue under it is followed to where it ends."""
LIVER_CLOSING_MM = 10.0
"""The liver estimated around a click: the largest connected parenchyma-like region of the
slice, closed with a disk of this radius (bridging fissures, vessels and lesions up to 20 mm at
its surface) and hole-filled (lesions inside it)."""
SLICE_LIVER_SHARE = 0.3
"""A slice (other than the click's) whose outline is less surrounded by liver than this is past
the lesion's end (partial volume with the lung base, a fissure or a neighbour)."""
LIMIT_RAYS_SHARE = 0.15
"""Flag when more than this share of the rays of a slice ran to the search limit."""
MAX_Z_RATIO = 1.0
"""The region is followed through the slices up to this multiple of its widest in-plane
diameter from the click's slice (lesions are roughly as deep as they are wide)."""
SLICE_GROWTH_MM = 3.0
"""From one slice to the next the lesion's median radius may grow by max(this, 2 slice
spacings); more is a leak through the slices (stop there, flag)."""
MIN_SLICE_RADIUS_MM = 0.8
MIN_SLICES = 3
"""Flag a region seen on fewer slices than this: each of its slices is a slab averaged with
what lies above and below (partial volume), so its edge, and the slice of its longest diameter,
are uncertain (a 10 mm lesion on 5 mm slices; measured on IRCADb in 5 mm slabs with 25 HU noise,
its 10 mm tumour came out at 14-15 mm from every prompt, with no other reason to doubt it)."""
"""A slice whose median radius is below this ends the lesion."""
SLAB_MM = 2.0
"""Slices at least this thick are slabs whose partial volume with the tissue above and below
changes a lesion's value from slice to slice (IRCADb's 1.6 mm slices are not; HCC studies'
2.5-5 mm slices are): the lesion's value is re-measured as it is followed (see _slab_levels)."""
SLAB_NOISE_K = 2.0
SLAB_DILUTION = 1.5
"""... when the next slice's centre is SLAB_NOISE_K noise SDs beyond the lesion's value and its
contrast with the liver SLAB_DILUTION times the lesion's (the clicked slab held at most 2/3
lesion: a lesion clicked on its largest slab does not read much stronger on the next) ..."""
FLUID_HU = 20.0
"""... and above water (bile, a cyst; 0-20 HU): a slab below this is a fluid-filled neighbour
(the gallbladder under a lesion), not a lesion's stronger middle."""
SLAB_RIM_FRACTION = 0.7
"""On slabs (SLAB_MM or thicker) the partial-volume rim kept out of a hypo-attenuating lesion
around fat and air is this fraction of the slice thickness wide (RIM_MM at least): a slab cuts
the liver's surface obliquely (the dome, a fissure), so a band as wide as the slab is averaged
with the fat or lung beside it and reads darker than the liver, like the lesion (IRCADb's 10 mm
tumour 06 under the dome, 5 mm slabs: 14-18 mm along that band; 3.5 mm of rim: 2 of 3 prompts
within, 3 mm: none)."""
SEPTUM_SLABS = 2.0
"""On slabs, a trough in a ray's profile darker than a hypo-attenuating lesion, right after a
rise towards the liver and at most this many slab thicknesses wide, is a fat plane between the
liver and a neighbour, diluted by the slab above FAT_HU: the ray ends before it (see
:mod:`septum`). A plane cut by a slab spreads over the slab's thickness times the tangent of its
slant: two thicknesses hold planes slanting up to 63 degrees (tan 2); a lesion's own darker
part is wider (IRCADb tumour 01 on 2.5 mm slabs: with no limit, a click measured 57.7 mm for
79.8, within with it)."""
MIN_SOLIDITY = 0.75
"""Flag an outline whose area is below this share of its convex hull's (a leak or two lesions)."""
SLICE_JUMP = 0.75
"""Flag a diameter whose slice's longest chord is not reached to this share on a slice next to
it."""
LINE_RATIO = (0.6, REACH_RATIO)
"""Flag a diameter outside these multiples of the line drawn; past the upper one no result is
returned at all (linereach.py)."""
MIN_DIAMETER_MM = 4.0
"""A region smaller than this is refused (a speck; the smallest measurable lesion is 10 mm)."""
VIABLE_MIN_ENHANCEMENT_HU = 20.0
"""Arterial phase: viable tissue enhances at least this (or 3 noise SD) above the liver."""
VIABLE_MAX_HU = 400.0
MIN_VIABLE_ML = 0.01
SEED_DISK_MM = 1.0
"""The lesion's value at a click: median of the smoothed disk of this radius (small: a rim
may be a few millimetres thick; the smoothing already averages the noise)."""
RECENTRE_CASTS = 4
"""At most this many casts from the outline's centre on a click's slice ..."""
RECENTRE_MM = 1.0
"""... until the centre moves less than this."""

ENCLOSED_SHARE = 0.8
"""A region by value lies inside a confirmed darker rim when this share of it (on the click's
slice) is inside the ring's outline widened by EDGE_MM (how far out of its half-way value the
edge by value is placed) ..."""
ENCLOSING_AREA_RATIO = 1.5
"""... and the ring encloses at least this multiple of its area: diameters 1.22 times apart,
twice the RECIST tolerance (10 %), so that the ring is a different, larger object and not the
same lesion outlined a little wider."""
NECROTIC_KEPT_SHARE = 0.6
"""... and holds at least this share of the core there: the whole is outlined from its own
centre, and where the rim is thin its rays may stop in the seam with the core, 1-2 mm of values
like the liver's (measured on IRCADb tumour 05 given a necrotic core: 0.76)."""
NECROTIC_AREA_RATIO = 1.2
"""The whole lesion around a necrotic core is kept when it encloses at least this multiple of
the core's area on the click's slice (a rim of 0.5 mm on a 10 mm core adds 20 %)."""
CLICK_CORE_MM = 2.0
"""A click whose value is the liver's is looked at as the core of a lesion: the disk of this
radius around it is the region an enhancing rim is sought around (RIM_SEARCH_MM beyond it)."""
RIM_SMOOTH_MM = 2.0
"""The rim's outer edge is sought on the plane smoothed this much more (a rim 2.5-5 mm thick
stays; the smoothed noise falls from 8-10 to 4-5 HU at 25 HU voxel noise)."""
RIM_REACH_FACTOR = 1.25
"""From the outline's centre a ray enters the rim within this multiple of the click's outline's
longest ray, and on the next slice within this multiple of the slice before's median ray."""
SEAM_MM = 3.0
"""On slices of SLAB_MM or more, the seam between a necrotic core and its enhancing rim (blurred
over about 2 mm, and averaged with the rim above or below it on a slab) counted as lesion around
the core when the whole is delineated (:func:`_core_and_seam`). Not on thinner slices: there
the seam is narrow, and the wider whole overshot (IRCADb 03 and 07 given a necrotic core, 1.6 mm:
within -> 27-39 mm for 21-23)."""
ENCLOSING_CENTRES = 6
ENCLOSING_OFFSET = 0.6
"""The ring around a region by value is sought from its centroid and from this many points
around it at this multiple of its equivalent radius: the centroid of a crescent of rim lies near
its inner edge, where the rays meet the rim too close to the origin to sample inside it."""

TEXTURE_SIGMA_MM = 2.0
"""Texture: local standard deviation of the raw values in a Gaussian window of this sigma. A
lesion whose mean equals the liver's (a thin enhancing ring around a darker core, specks of
enhancement and necrosis) is heterogeneous where the parenchyma is smooth; 2 mm averages
enough voxels (about 150 at 0.6-0.8 mm pixels) for a stable estimate and blurs the edge less
than the lesions are wide (10 mm and up)."""
VESSEL_MARGIN_HU = 40.0
"""Texture: smoothed tissue this much brighter than the liver (and larger than a speck) is a
vessel, left out of the texture with its rim."""
TEXTURE_MIN_RATIO = 1.3
"""Delineate by texture only when the click's local SD is at least this multiple of the liver's
(the parenchyma's SD varies by well under 10 % at this window; vessels and edges excluded)."""

_FACES = ndimage.generate_binary_structure(3, 1)


@dataclass(frozen=True, slots=True)
class LesionPrompt:
    """What the reader gave: a click and/or a rough line across the lesion, and corrections.

    Attributes
    ----------
    seed
        Clicked voxel ``(z, y, x)`` (fractional indices are rounded), inside the lesion.
    line
        End points ``((z, y, x), (z, y, x))`` of a line dragged across the lesion (its rough
        longest extent). It sets the size of the search region and is checked against the
        result; without ``seed`` its middle is the click.
    include, exclude
        Voxels ``(z, y, x)`` of strokes that add tissue to, or cut tissue from, the lesion (each
        is widened by one pixel in-plane). Exclude strokes also cut connections (a leak).
    threshold_offset_hu
        Moves the lesion/liver threshold: positive is tighter (a smaller region), negative
        looser, in HU.
    """

    seed: Voxel | None = None
    line: tuple[Voxel, Voxel] | None = None
    include: tuple[tuple[int, int, int], ...] = ()
    exclude: tuple[tuple[int, int, int], ...] = ()
    threshold_offset_hu: float = 0.0

    def __post_init__(self) -> None:
        if self.seed is None and self.line is None:
            raise ValueError('A prompt needs a "seed" voxel or a "line" (or both).')
        if self.seed is not None:
            object.__setattr__(self, "seed", _voxel(self.seed, "seed"))
        if self.line is not None:
            a, b = self.line
            object.__setattr__(self, "line", (_voxel(a, "line start"), _voxel(b, "line end")))
        for name in ("include", "exclude"):
            pts = tuple(tuple(round(v) for v in _voxel(p, name)) for p in getattr(self, name))
            object.__setattr__(self, name, pts)
        if not math.isfinite(self.threshold_offset_hu):
            raise ValueError('Argument "threshold_offset_hu" must be finite.')


def _voxel(value: Any, name: str) -> Voxel:
    try:
        z, y, x = (float(v) for v in value)
    except (TypeError, ValueError) as err:
        raise ValueError(f'"{name}" must be three numbers (z, y, x), got {value!r}.') from err
    if not all(math.isfinite(v) for v in (z, y, x)):
        raise ValueError(f'"{name}" must be finite, got {value!r}.')
    return (z, y, x)


@dataclass(frozen=True, slots=True)
class LesionEvidence:
    """The values the delineation rests on, for the reader to judge (HU unless stated)."""

    liver_hu: float
    """Parenchyma: median of liver-like voxels in a 2-7 mm shell around the lesion."""
    lesion_hu: float
    """Median of the lesion away from its edge."""
    threshold_hu: float
    """Lesion/liver boundary value (half-way, plus the reader's offset)."""
    contrast_hu: float
    """``lesion_hu - liver_hu`` (negative: hypo-attenuating)."""
    noise_sd_hu: float
    """Noise SD of the smoothed image in the parenchyma shell."""
    liver_share: float
    """Share (0-1) of the shell around the lesion that looks like parenchyma."""
    box_mm: tuple[float, float, float]
    """``(z, y, x)`` size of the search region used, in mm."""
    viable_threshold_hu: float | None = None
    """Arterial phase: smoothed voxels above this are viable (None on other phases)."""
    texture_sd_hu: tuple[float, float] | None = None
    """When the lesion was delineated by texture (its mean value equals the liver's): the local
    standard deviation of the lesion and of the liver (HU); None when delineated by value."""
    texture_noise_sd_hu: float = 0.0
    """Texture: the variation (SD, HU) of the liver's local SD, against which the lesion's is
    compared (0 when delineated by value)."""
    brighter_slab: tuple[int, int, int] | None = None
    """A click on a partial-volume end slab whose lesion value was re-measured on a slab further
    in (thick slices): the voxel ``(z, y, x)`` at the centre of the outline there
    (slb_brightslab.py); None otherwise."""

    @property
    def attenuation(self) -> str:
        """``"hypo"`` or ``"hyper"`` against the parenchyma."""
        return "hypo" if self.contrast_hu < 0 else "hyper"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary."""
        return {
            "liver_hu": self.liver_hu,
            "lesion_hu": self.lesion_hu,
            "threshold_hu": self.threshold_hu,
            "contrast_hu": self.contrast_hu,
            "attenuation": self.attenuation,
            "noise_sd_hu": self.noise_sd_hu,
            "liver_share": self.liver_share,
            "box_mm": list(self.box_mm),
            "viable_threshold_hu": self.viable_threshold_hu,
            "texture_sd_hu": None if self.texture_sd_hu is None else list(self.texture_sd_hu),
            "texture_noise_sd_hu": self.texture_noise_sd_hu,
        }


@dataclass(frozen=True, slots=True)
class LesionMeasurement:
    """Result of :func:`measure_lesion`.

    Attributes
    ----------
    whole, whole_perpendicular
        Longest axial diameter of the whole lesion (RECIST 1.1) and its perpendicular.
    viable, viable_perpendicular
        Longest axial diameter of the viable (arterially enhancing) part and its perpendicular
        (0 mm when nothing enhances: mRECIST complete response of this lesion), or None when the
        viable part was not measured (``viable_reason`` says why).
    viable_reason
        Why the viable part was not measured ("" when it was).
    mask, viable_mask
        Boolean ``(z, y, x)`` masks of a box of the volume: voxel ``(i, j, k)`` is voxel
        ``offset + (i, j, k)`` of the volume (``viable_mask`` None when not measured).
    offset
        ``(z, y, x)`` index in the volume of the masks' first voxel.
    volume_ml
        Whole-lesion volume in millilitres.
    seed_voxel
        The voxel the region was grown from ``(z, y, x)``.
    phase
        The phase the caller stated.
    flags
        Reasons the result may be wrong (empty when none was found); a flagged result must be
        checked by the reader.
    evidence
        The values the delineation rests on.
    time_s
        Wall time of the measurement in seconds.
    """

    whole: Diameter
    whole_perpendicular: Diameter
    viable: Diameter | None
    viable_perpendicular: Diameter | None
    viable_reason: str
    mask: np.ndarray
    viable_mask: np.ndarray | None
    offset: tuple[int, int, int]
    volume_ml: float
    seed_voxel: tuple[int, int, int]
    phase: Phase
    flags: tuple[str, ...]
    evidence: LesionEvidence
    time_s: float = field(default=0.0, compare=False)

    @property
    def longest_diameter_mm(self) -> float:
        """Whole-lesion longest axial diameter in millimetres."""
        return self.whole.length_mm

    @property
    def viable_diameter_mm(self) -> float | None:
        """Viable longest axial diameter in millimetres (None when not measured)."""
        return None if self.viable is None else self.viable.length_mm

    @property
    def flagged(self) -> bool:
        """True when the result has a reason to be checked."""
        return bool(self.flags)

    def full_mask(self, shape: Sequence[int]) -> np.ndarray:
        """The lesion mask placed in a boolean array of the volume's ``(z, y, x)`` shape."""
        out = np.zeros(tuple(shape), dtype=bool)
        sl = tuple(slice(o, o + n) for o, n in zip(self.offset, self.mask.shape, strict=True))
        out[sl] = self.mask
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (without the masks)."""
        return {
            "seed_voxel": list(self.seed_voxel),
            "phase": str(self.phase),
            "longest_diameter_mm": self.whole.length_mm,
            "whole": self.whole.to_dict(),
            "whole_perpendicular": self.whole_perpendicular.to_dict(),
            "viable_diameter_mm": self.viable_diameter_mm,
            "viable": None if self.viable is None else self.viable.to_dict(),
            "viable_perpendicular": (
                None if self.viable_perpendicular is None else self.viable_perpendicular.to_dict()
            ),
            "viable_reason": self.viable_reason,
            "volume_ml": self.volume_ml,
            "offset": list(self.offset),
            "mask_shape": list(self.mask.shape),
            "flags": list(self.flags),
            "evidence": self.evidence.to_dict(),
            "time_s": self.time_s,
        }


# ---------------------------------------------------------------------------------------------
# Helpers


def _phase(value: Phase | str | None) -> Phase:
    if value is None:
        return Phase.UNKNOWN
    if isinstance(value, Phase):
        return value
    text = str(value).strip().lower().replace("-", "_").replace(" ", "_")
    aliases = {"pv": Phase.PORTAL_VENOUS, "portal": Phase.PORTAL_VENOUS}
    if text in aliases:
        return aliases[text]
    try:
        return Phase(text)
    except ValueError as err:
        raise ValueError(
            f'Argument "phase" must be one of {[p.value for p in Phase]}, got {value!r}.'
        ) from err


def _mode(values: np.ndarray, exclude_near: float | None) -> float | None:
    """Most frequent soft-tissue value (2 HU bins, smoothed), skipping bins within
    SEED_EXCLUSION_HU of ``exclude_near``; None when there is too little soft tissue."""
    lo, hi = SOFT_TISSUE_HU
    v = values[(values > lo) & (values < hi)]
    if v.size < 50:
        return None
    hist, edges = np.histogram(v, bins=np.arange(lo, hi + 2.0, 2.0))
    hist = ndimage.gaussian_filter1d(hist.astype(float), 1.5)
    centres = 0.5 * (edges[:-1] + edges[1:])
    if exclude_near is not None:
        hist[np.abs(centres - exclude_near) < SEED_EXCLUSION_HU] = 0.0
    if hist.max() <= 0:
        return None
    return float(centres[int(np.argmax(hist))])


def _solidity(mask2d: np.ndarray) -> float:
    """Area of a slice's region over the area of its convex hull (1 for a convex region)."""
    from skimage.morphology import convex_hull_image

    area = int(mask2d.sum())
    if area < 10:
        return 1.0
    return area / max(int(convex_hull_image(mask2d).sum()), 1)


class _Window:
    """Smoothed axial planes of a square window of the volume around the search centre.

    Planes are read and smoothed on demand (only the slices the lesion reaches), so the work
    never depends on the volume's size.
    """

    def __init__(self, volume: CTVolume, cy: int, cx: int, radius_mm: float) -> None:
        self.volume = volume
        sy, sx = volume.spacing_mm[1:]
        ry, rx = math.ceil(radius_mm / sy), math.ceil(radius_mm / sx)
        ny, nx = volume.shape[1:]
        self.y0, self.x0 = max(cy - ry, 0), max(cx - rx, 0)
        self.y1, self.x1 = min(cy + ry + 1, ny), min(cx + rx + 1, nx)
        self.sigma = (SMOOTH_SIGMA_MM / sy, SMOOTH_SIGMA_MM / sx)
        self.texture = False
        self.hu_liver: float | None = None
        """The liver's value (HU) found by the delineation by value: vessels are left out of
        the texture by it."""
        """When True, :meth:`plane` gives the local standard deviation (TEXTURE_SIGMA_MM) of
        the raw values instead of the smoothed values: the delineation then follows texture."""
        box = (self.y0, self.y1, self.x0, self.x1)
        shared = shared_planes(volume, box, self.sigma)  # one prompt's windows (speedmemo.py)
        self._planes: dict[int, np.ndarray] = {} if shared is None else shared
        self._textures: dict[int, np.ndarray] = {}
        self.pixel_noise: float | None = None
        """The image's pixel noise (HU) on the first texture plane read (t4n_tex3d.py)."""
        self._sums: dict[tuple, tuple[np.ndarray, ...]] = {}  # when not shared (texture_sums)
        self._shared_textures = shared_textures(volume, box)  # per (slice, liver value)
        self.exclude: dict[int, np.ndarray] = {}
        self.valleys: dict = {}  # surfacevalley's long valleys per slice and levels
        self.line: tuple[Voxel, Voxel] | None = None
        """The rough line the window was opened for, if any (see _line_in_liver)."""
        self.core: dict[int, np.ndarray] = {}
        """Per slice, a necrotic core found by value and its seam with the rim (window pixels):
        lesion whatever it reads while the whole is delineated (:func:`_necrotic_whole`)."""
        self.rim_peak: float | None = None
        """Set while a necrotic core's whole is delineated from its rim (rimpeak.py)."""
        self.rim_peaks: dict[int, float] = {}
        """With :attr:`rim_peak`, the rim's own peak on each slice its core reaches (HU,
        rimpeak.slice_peaks): a slice's ceiling is the higher of the two."""

    @property
    def shape(self) -> tuple[int, int]:
        return (self.y1 - self.y0, self.x1 - self.x0)

    def plane(self, z: int) -> np.ndarray:
        """Slice ``z`` of the window as the delineation sees it (smoothed HU, or texture)."""
        return self.texture_plane(z) if self.texture else self.hu_plane(z)

    def texture_plane(self, z: int) -> np.ndarray:
        """Local standard deviation (HU) of the raw values of soft tissue in a Gaussian window
        of TEXTURE_SIGMA_MM: heterogeneous tissue (specks, septa, a ring) against smooth liver.

        Vessels (brighter than the liver by VESSEL_MARGIN_HU, larger than a speck) and fat, with
        their partial-volume rim, are left out of every window (normalised convolution) and are
        0 here: their edges would otherwise look like texture for a few millimetres around."""
        if z not in self._textures and self._shared_textures is not None:
            kept = self._shared_textures.get((z, self.hu_liver))
            if kept is not None:
                self._textures[z] = kept
        if z not in self._textures:
            w, gw, gwr, gwrr = self.texture_sums(z)
            spacing = tuple(float(s) for s in self.volume.spacing_mm)
            if self.pixel_noise is None:
                raw = np.asarray(
                    self.volume.array[z, self.y0 : self.y1, self.x0 : self.x1], dtype=np.float32
                )
                self.pixel_noise = pixel_noise_hu(raw, self.hu_plane(z))
            if uses_3d(spacing[0], SLAB_MM, self.pixel_noise):
                # On thin slices, over the neighbouring slices too (t4n_tex3d.py).
                sd, norm = local_sd_3d(
                    z, self.volume.shape[0], spacing, TEXTURE_SIGMA_MM, self.texture_sums
                )
            else:
                norm = np.maximum(gw, 1e-3)
                mean = gwr / norm
                sq = gwrr / norm
                sd = np.sqrt(np.maximum(sq - mean * mean, 0.0))
            tex = np.where((w > 0) & (norm > 0.5), sd, 0.0).astype(np.float32)
            tex.flags.writeable = False  # shared by the prompt's windows on this box
            self._textures[z] = tex
            if self._shared_textures is not None:
                self._shared_textures[(z, self.hu_liver)] = tex
        return self._textures[z]

    def texture_sums(self, z: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Slice ``z``'s texture weights ``w`` (0 on vessels brighter than the liver by
        VESSEL_MARGIN_HU, fat and their partial-volume rims, else 1) and the in-plane Gaussian
        (TEXTURE_SIGMA_MM) filtered ``w``, ``w * raw`` and ``w * raw**2`` (float32 planes of the
        window). Kept per slice and liver value for the prompt's windows on this box: the 3-D
        texture (t4n_tex3d.py) reads each slice for its neighbours too."""
        key = ("sums", z, self.hu_liver)
        store = self._shared_textures if self._shared_textures is not None else self._sums
        kept = store.get(key)
        if kept is not None:
            return kept
        raw = np.asarray(
            self.volume.array[z, self.y0 : self.y1, self.x0 : self.x1], dtype=np.float32
        )
        sy, sx = (float(v) for v in self.volume.spacing_mm[1:])
        smooth = self.hu_plane(z)
        other = smooth < FAT_HU
        if self.hu_liver is not None:
            other |= smooth > self.hu_liver + VESSEL_MARGIN_HU
        rim = _rim(other, (sy, sx))
        w = np.ones_like(raw) if rim is None else (~rim).astype(np.float32)
        sig = (TEXTURE_SIGMA_MM / sy, TEXTURE_SIGMA_MM / sx)
        sums = (
            w,
            ndimage.gaussian_filter(w, sig, mode="nearest"),
            ndimage.gaussian_filter(w * raw, sig, mode="nearest"),
            ndimage.gaussian_filter(w * raw * raw, sig, mode="nearest"),
        )
        for arr in sums:
            arr.flags.writeable = False
        store[key] = sums
        return sums

    def hu_plane(self, z: int) -> np.ndarray:
        """Slice ``z`` of the window, smoothed (SMOOTH_SIGMA_MM), in HU."""
        if z not in self._planes:
            raw = np.asarray(
                self.volume.array[z, self.y0 : self.y1, self.x0 : self.x1], dtype=np.float32
            )
            plane = ndimage.gaussian_filter(raw, self.sigma, mode="nearest")
            plane.flags.writeable = False  # shared by the prompt's windows on this box
            self._planes[z] = plane
        return self._planes[z]


@dataclass
class _Levels:
    """The values one delineation uses (HU)."""

    liver: float
    lesion: float
    noise: float
    offset: float
    mixed: bool = False
    """Arterial phase: tissue on the other side of the liver (necrosis beside an enhancing
    part, or an enhancing rim around a necrotic core) is lesion too."""

    @property
    def sign(self) -> float:
        return -1.0 if self.lesion < self.liver else 1.0

    @property
    def threshold(self) -> float:
        return self.liver + (self.lesion - self.liver) / 2.0 + self.sign * self.offset

    texture: bool = False
    """Levels of local SD (texture), not of HU: the half-way value of the blurred texture is
    the edge (there is no partial-volume margin to move out through)."""

    peak: float | None = None
    """An enhancing rim's own brightest value (rimpeak.py): the ceiling is at least this."""

    @property
    def edge(self) -> float:
        if self.texture:
            return self.threshold
        c = abs(self.lesion - self.liver)
        margin = min(max(EDGE_FRACTION * c, EDGE_NOISE_K * self.noise), c / 2.0)
        return self.liver + self.sign * margin + self.sign * self.offset

    @property
    def headroom(self) -> float:
        return max(HEADROOM_FRACTION * abs(self.lesion - self.liver), HEADROOM_MIN_HU)

    @property
    def vessel_top(self) -> float:
        """The brightest an enhancing lesion's own tissue may read: above it, contrast-filled
        vessels (VESSEL_MAX_HEADROOMS headrooms over the lesion's value)."""
        return self.lesion + VESSEL_MAX_HEADROOMS * self.headroom

    @property
    def ceiling(self) -> float:
        top = self.lesion + self.headroom
        return top if self.peak is None else max(top, self.peak)

    @property
    def floor(self) -> float:
        return max(FAT_HU, self.lesion - max(abs(self.lesion - self.liver), HEADROOM_MIN_HU))

    @property
    def band(self) -> float:
        return max(LIVER_BAND_MIN_HU, abs(self.lesion - self.liver) / 2.0)

    def lesion_side(self, values: np.ndarray, level: float) -> np.ndarray:
        """Voxels on the lesion's side of ``level`` (and neither fat nor brighter than
        contrast-filled vessels for a hyper-attenuating lesion)."""
        if self.sign < 0:
            side = (values < level) & (values > self.floor)
        else:
            side = (values > level) & (values < self.ceiling)
        if self.mixed:
            mirror = 2.0 * self.liver - level
            if self.sign < 0:
                top = 2.0 * self.liver - self.lesion + self.headroom
                side |= (values > mirror) & (values < top)
            else:
                side |= (values < mirror) & (values > FAT_HU)
        return side


@dataclass
class _SliceCut:
    """The lesion on one slice: edge radius per ray (mm), outline, mask and shell samples."""

    z: int
    cy: float
    cx: float
    radii: np.ndarray
    at_limit: float
    outline_yx: np.ndarray
    mask: np.ndarray
    shell: np.ndarray
    beside_dark: float = 0.0
    """Share of the rays that ended at a darker neighbour beyond the liver (darktail.py)."""

    @property
    def median_radius(self) -> float:
        return float(np.median(self.radii))

    def radius_mm(self, spacing: Sequence[float]) -> float:
        """Radius of the disk of the outline's area (independent of where the rays start)."""
        return math.sqrt(float(self.mask.sum()) * spacing[1] * spacing[2] / math.pi)

    def centre(self) -> tuple[float, float]:
        yy, xx = np.nonzero(self.mask)
        return (float(yy.mean()), float(xx.mean())) if yy.size else (self.cy, self.cx)


def _cast(
    win: _Window,
    z: int,
    cy: float,
    cx: float,
    lv: _Levels,
    rmax_mm: float,
    *,
    centred: bool = True,
    lesion_map: np.ndarray | None = None,
    exit_run_mm: float = 0.0,
) -> _SliceCut:
    """Rays from ``(cy, cx)`` (window pixels) on slice ``z``: each leaves the lesion where it
    meets EXIT_RUN_MM of other tissue, its edge moves out to the margin value (EDGE_MM at most),
    and rays are clipped to their neighbours' circular median. Only from a centred origin
    (``centred``) are rays also held to the slice's typical length (from an off-centre click
    long and short rays are both right). ``lesion_map`` (the window's pixels that are lesion)
    replaces the values' lesion side, and a longer ``exit_run_mm`` the exit run
    (isl_mottledfill.py)."""
    plane = win.plane(z)
    sy, sx = win.volume.spacing_mm[1:]
    angles = np.arange(N_RAYS) * (2.0 * math.pi / N_RAYS)
    # A necrotic lesion's whole from its rim: this slice's own rim peak, when higher, is its
    # ceiling (rimpeak.slice_peaks).
    slice_peak = win.rim_peaks.get(z) if lv.peak is not None else None
    if slice_peak is not None and slice_peak > lv.peak:
        lv = replace(lv, peak=slice_peak)
    r = np.arange(0.0, rmax_mm + SHELL_MM[1] + RAY_STEP_MM, RAY_STEP_MM)
    ys, xs, inside_win, prof = ray_profiles(plane, cy, cx, angles, r, (sy, sx))
    rays = RaySampler(ys, xs, plane.shape)  # masks sampled at the rays' nearest pixels
    # The blobs and the rim depend on the plane and a few levels only: kept per prompt.
    blob_key = _blobs_key(lv, (sy, sx))
    blob = None
    if blob_key is not None:
        blob = plane_derived(plane, blob_key, lambda: _bright_blobs(plane, lv, (sy, sx)))
    on_blob = None if blob is None else rays.sample(blob)
    lesion = lv.lesion_side(prof, lv.threshold)
    if lesion_map is not None:
        # A large mottled enhancing lesion's final region cast again: its own body and the
        # liver-valued islets it encloses (isl_mottledfill.py).
        lesion = rays.sample(lesion_map)
    elif lv.sign < 0 and not lv.texture and not lv.mixed:
        # Liver-like specks a hypo-attenuating lesion encloses on the slice are lesion.
        # (Kept per plane and levels within a prompt, as the rim: w18-speed.)
        specks = plane_derived(
            plane,
            ("specks", lv.threshold, lv.floor, sy, sx),
            lambda: enclosed_patches(
                lv.lesion_side(plane, lv.threshold), plane <= lv.floor, (sy, sx)
            ),
        )
        if specks is not None:
            lesion |= rays.sample(specks)
    if on_blob is not None:
        lesion |= on_blob
    lesion &= inside_win & (r <= rmax_mm)[None, :]
    # The partial-volume rim of a vessel (beyond a hyper-attenuating lesion's values) or of fat
    # (below a hypo-attenuating one's) passes through the lesion's values: it is not lesion.
    rim_mm = _surface_rim_mm(win.volume.spacing_mm[0], lv)

    def beyond_rim() -> np.ndarray | None:
        beyond_values = plane > lv.ceiling if lv.sign > 0 else plane < FAT_HU
        if blob is not None:
            beyond_values &= ~blob
        return _rim(beyond_values, (sy, sx), rim_mm)

    rim_key = ("rim", rim_mm, sy, sx, lv.ceiling if lv.sign > 0 else None, blob_key)
    rim = plane_derived(plane, rim_key, beyond_rim)
    if rim is not None:
        lesion &= ~rays.sample(rim)
    if z in win.exclude:
        lesion &= ~rays.sample(win.exclude[z])
    lesion &= ~_ramp_to_fat(prof, lv)
    if z in win.core:
        lesion |= rays.sample(win.core[z])
    lesion[:, 0] = True
    run_mm = MIXED_EXIT_RUN_MM if lv.mixed else EXIT_RUN_MM
    run = max(1, math.ceil(max(run_mm, exit_run_mm) / RAY_STEP_MM))
    out = np.concatenate([~lesion, np.ones((N_RAYS, run), dtype=bool)], axis=1).astype(np.int32)
    cs = np.concatenate([np.zeros((N_RAYS, 1), np.int32), np.cumsum(out, axis=1)], axis=1)
    full = (cs[:, run:] - cs[:, :-run])[:, : len(r)] == run
    full[:, 0] = False
    full |= _fat_stop(prof, lv)
    full |= _slab_septum(prof, lv, win.volume.spacing_mm[0])
    if valley_stops(lv.sign, lv.texture):
        # A thin fat plane the slab or the smoothing lifted to a hypo lesion's (or a necrotic
        # core's) values is still a valley between the liver and its neighbour: the lesion ends
        # there (surfacevalley.py, longaxis_valley.py).
        valleys = fat_plane_valleys(
            plane, lv.liver, lv.noise, (sy, sx), cy, cx, cache=win.valleys, key=z
        )
        if valleys is not None:
            full |= rays.sample(valleys)
            full[:, 0] = False
    exit_j = np.argmax(full, axis=1)
    exit_j[~full.any(axis=1)] = len(r) - 1
    beside_dark = 0.0
    if lv.mixed and lv.sign > 0 and not lv.texture:
        # Darker tissue at a ray's end is necrosis only with liver beyond it (darktail.py).
        enhancing = prof > lv.threshold
        if on_blob is not None:
            enhancing |= on_blob
        if z in win.core:
            enhancing |= rays.sample(win.core[z])
        found = exit_j
        exit_j = dark_tail_exit(
            prof,
            exit_j,
            full.any(axis=1),
            enhancing,
            inside_win,
            lv.lesion,
            lv.liver,
            lv.threshold,
            lv.band,
            RAY_STEP_MM,
            FAT_HU,
        )
        beside_dark = float(np.mean((found - exit_j) * RAY_STEP_MM >= BESIDE_DARK_MM))
    # Sub-sample crossing of the half-way value, then out to the margin value.
    rows = np.arange(N_RAYS)
    p0, p1 = prof[rows, exit_j - 1], prof[rows, exit_j]
    frac = np.clip((p0 - lv.threshold) / np.where(p0 == p1, 1.0, p0 - p1), 0.0, 1.0)
    core_r = r[exit_j - 1] + frac * RAY_STEP_MM
    edge_side = lv.lesion_side(prof, lv.edge)
    if on_blob is not None:
        edge_side |= on_blob
    beyond = (r[None, :] >= core_r[:, None]) & (
        ~edge_side | (r[None, :] > core_r[:, None] + EDGE_MM) | ~inside_win
    )
    edge_r = r[np.argmax(beyond, axis=1)]
    edge_r = np.where(beyond.any(axis=1), edge_r, core_r)
    # A graded border is followed to its foot unless the reader tightened the threshold: then
    # the edge is where the reader put it (Tighter would otherwise change nothing). Looser keeps
    # the foot, the outermost edge a graded border has.
    follow_halo = centred and not lv.texture and lv.offset <= 0.0
    if follow_halo and lv.sign < 0:
        edge_r = edge_r + _halo_mm(prof, edge_r, inside_win, lv)
    elif follow_halo:
        # A sharp step's graded halo, or a fade inside the lesion to its foot (edg_fadefoot).
        edge_r = edge_r + max(
            _enhancing_halo_mm(prof, edge_r, inside_win, lv),
            fade_foot_mm(
                prof, core_r, edge_r, inside_win, lv, RAY_STEP_MM, win.volume.spacing_mm[0]
            ),
        )
    limit = core_r >= rmax_mm - RAY_STEP_MM
    radii = _angular_clip(edge_r)
    if not centred:
        outline, mask = _outline(cy, cx, radii, (sy, sx), plane.shape)
        return _SliceCut(
            z, cy, cx, radii, float(limit.mean()), outline, mask, prof[:0, 0], beside_dark
        )
    radii = np.minimum(radii, MAX_ELONGATION * float(np.median(radii)))
    # A ray longer than most that did not end in liver slipped out of the liver (into a
    # neighbour, a fissure or the lung base): it is held to the typical length.
    after = (r[None, :] > radii[:, None] + SHELL_MM[0]) & (
        r[None, :] <= radii[:, None] + SHELL_MM[1]
    )
    liver_like = (np.abs(prof - lv.liver) <= lv.band) & after & inside_win
    ray_share = liver_like.sum(axis=1) / np.maximum(after.sum(axis=1), 1)
    typical = LEAK_RAY_FACTOR * float(np.median(radii))
    radii = np.where((ray_share < 0.5) & (radii > typical), typical, radii)
    if lv.offset != 0.0:
        # A correction moves each ray's edge one way from the default's: Looser's threshold
        # alone can stop inside the foot of a graded border the default followed (a ramped
        # sphere: 26.5 mm for the default's 28.0), Tighter's never passes the default's edge.
        base = _cast(win, z, cy, cx, replace(lv, offset=0.0), rmax_mm).radii
        radii = np.maximum(radii, base) if lv.offset < 0 else np.minimum(radii, base)
    outline, mask = _outline(cy, cx, radii, (sy, sx), plane.shape)
    shell_sel = _shell(r, radii, inside_win)
    return _SliceCut(
        z, cy, cx, radii, float(limit.mean()), outline, mask, prof[shell_sel], beside_dark
    )


def _angular_clip(radii: np.ndarray) -> np.ndarray:
    """Ray lengths ``radii`` (mm, one per ray around the circle) held within ANGULAR_CLIP of
    their neighbours' median (ANGULAR_WINDOW rays): one ray slipping through a gap or stopped
    by a speck does not shape the outline."""
    med = ndimage.median_filter(radii, size=ANGULAR_WINDOW, mode="wrap")
    return np.clip(radii, ANGULAR_CLIP[0] * med, ANGULAR_CLIP[1] * med)


def _shell(r: np.ndarray, radii: np.ndarray, inside_win: np.ndarray) -> np.ndarray:
    """The ``(ray, sample)`` samples at distances ``r`` (mm) SHELL_MM beyond each ray's edge
    ``radii`` and inside the window: the tissue just outside an outline."""
    return (
        (r[None, :] >= radii[:, None] + SHELL_MM[0])
        & (r[None, :] <= radii[:, None] + SHELL_MM[1])
        & inside_win
    )


def _ramp_to_fat(prof: np.ndarray, lv: _Levels) -> np.ndarray:
    """Samples of ``prof`` ``(ray, sample)`` of smoothed HU within RIM_MM before the first fat
    (below FAT_HU) on each ray, for an enhancing lesion on an arterial image (``lv.mixed``,
    hyper-attenuating; all False elsewhere): not lesion. Its darker side counts as lesion
    (necrosis), so the partial-volume ramp from the liver down to the lung or fat beside a lesion
    at the liver's surface read as necrosis and joined the lesion to the fat: the liver between
    them was crossed (IRCADb tumour 06 made hyper-enhancing, 10 mm, 1-2 mm from the lung, clicked
    off its centre: 13.5 mm, unflagged). A lesion against fat itself still ends at the fat."""
    out = np.zeros(prof.shape, dtype=bool)
    if not (lv.mixed and lv.sign > 0) or lv.texture:
        return out
    fat = prof < FAT_HU
    fat[:, 0] = False
    hit = fat.any(axis=1)
    first = np.where(hit, np.argmax(fat, axis=1), prof.shape[1])
    idx = np.arange(prof.shape[1])[None, :]
    run = math.ceil(RIM_MM / RAY_STEP_MM)
    return (idx < first[:, None]) & (idx >= first[:, None] - run) & hit[:, None]


def _fat_stop(prof: np.ndarray, lv: _Levels) -> np.ndarray:
    """Where each ray profile ``(ray, sample)`` of smoothed HU meets fat (below FAT_HU): the ray
    has left the lesion there, however short the fat run. Rays may cross EXIT_RUN_MM of
    non-lesion tissue (septa, small vessels), but never fat: on a noisy image a thin fat band (a
    fissure, the ligamentum venosum) breaks into specks smaller than the rim rule's
    MIN_RIM_AREA_MM2 and a ray would slip through a gap in it (IRCADb tumour 02 with 25 HU
    noise: 38.3 mm for 29.4, unflagged). Smoothed lesion tissue lies far above FAT_HU (a 50 HU
    lesion about ten smoothed noise SDs at 25 HU voxel noise), so noise alone does not stop a ray.
    All False when delineating by texture (the profile is a local SD, not HU)."""
    if lv.texture:
        return np.zeros(prof.shape, dtype=bool)
    fat = prof < FAT_HU
    fat[:, 0] = False
    return fat


def _slab_septum(prof: np.ndarray, lv: _Levels, slice_mm: float) -> np.ndarray:
    """On slabs (SLAB_MM or thicker), for a hypo-attenuating lesion delineated by value: where
    each ray ``(ray, sample)`` crossed a thin fat plane averaged by the slab above FAT_HU
    (:func:`septum.septum_stop`, with the edge's margin); all False elsewhere (on thinner
    slices the plane reads as fat and _fat_stop ends the ray). Not where the lesion's brighter
    side counts as lesion too (``lv.mixed``: an enhancing rim around a dark core, on arterial
    images): the rise before a trough may be the lesion's own rim (IRCADb 02 with a necrotic
    core, 5 mm slabs and 25 HU noise: its core's rays stopped at the rim, 25.9 -> 20.0 mm)."""
    if slice_mm < SLAB_MM or lv.texture or lv.sign > 0 or lv.mixed:
        return np.zeros(prof.shape, dtype=bool)
    c = abs(lv.lesion - lv.liver)
    margin = min(max(EDGE_FRACTION * c, EDGE_NOISE_K * lv.noise), c / 2.0)
    return septum_stop(prof, lv.lesion, lv.liver, margin, SEPTUM_SLABS * slice_mm, RAY_STEP_MM)


def _blobs_key(lv: _Levels, spacing_yx: Sequence[float]) -> tuple | None:
    """What :func:`_bright_blobs` depends on besides the plane (None when it gives None)."""
    if not (lv.mixed and lv.sign > 0 and not lv.texture):
        return None
    return ("blobs", lv.ceiling, lv.vessel_top, float(spacing_yx[0]), float(spacing_yx[1]))


def _bright_blobs(plane: np.ndarray, lv: _Levels, spacing_yx: Sequence[float]) -> np.ndarray | None:
    """On an arterial image (``lv.mixed``), for an enhancing lesion: the pixels of ``plane``
    ``(y, x)`` above its ceiling (and below VESSEL_MAX_HEADROOMS headrooms) that form blobs
    wider than a vessel (they survive an opening by a disk of VESSEL_RADIUS_MM): the brighter
    part of a heterogeneous tumour, not a vessel, which is a thin tube. None elsewhere."""
    if not (lv.mixed and lv.sign > 0 and not lv.texture):
        return None
    top = lv.vessel_top
    bright = (plane >= lv.ceiling) & (plane < top)
    if not bright.any():
        return None
    ry, rx = VESSEL_RADIUS_MM / spacing_yx[0], VESSEL_RADIUS_MM / spacing_yx[1]
    hy, hx = math.ceil(ry), math.ceil(rx)
    yy, xx = np.ogrid[-hy : hy + 1, -hx : hx + 1]
    disk = (yy / max(ry, 1e-6)) ** 2 + (xx / max(rx, 1e-6)) ** 2 <= 1.0
    blob = open_by(bright, disk)  # ndimage.binary_opening, faster
    if not blob.any():
        return None
    return _blob_fringe(blob, bright, spacing_yx)


def _lesion_at(
    plane: np.ndarray, lv: _Levels, cy: float, cx: float, at_hu: float, spacing_yx: Sequence[float]
) -> bool:
    """Whether the point ``(cy, cx)`` of ``plane`` ``(y, x)``, reading ``at_hu``, is lesion
    tissue: on the lesion's side of its half-way value, or in a bright blob of an enhancing
    lesion on an arterial image (see _bright_blobs). The outline's centre of a click near the
    edge of a heterogeneous enhancing lesion often lies in its brighter middle: before, only
    the first test was made, the click was not re-centred there and its rays were held to the
    edge's short ones (IRCADb tumour 05 made hyper-enhancing: 11.5 mm for 32.5, unflagged)."""
    if lv.lesion_side(np.asarray(at_hu), lv.threshold):
        return True
    if not (lv.mixed and lv.sign > 0 and not lv.texture and at_hu >= lv.ceiling):
        return False
    blob = _bright_blobs(plane, lv, spacing_yx)
    iy, ix = round(cy), round(cx)
    return blob is not None and bool(blob[iy, ix])


def _blob_fringe(blob: np.ndarray, bright: np.ndarray, spacing_yx: Sequence[float]) -> np.ndarray:
    """``blob`` ``(y, x)`` with the pixels of ``bright`` within BLOB_FRINGE_MM of it: the
    opening shaves an irregular bright blob's edge, and the shaved strips, thinner than a
    vessel, were taken as vessels whose rim stops the rays (seen on IRCADb tumour 05 made
    hyper-enhancing: such a strip lay between a click near its edge and its bright middle;
    measured only together with _lesion_at). A vessel leaving the blob keeps at most this
    much of its length, within its own rim anyway."""
    near = within_mm(blob, spacing_yx, BLOB_FRINGE_MM)
    return blob | (bright & near)


def _halo_mm(prof: np.ndarray, edge_r: np.ndarray, inside: np.ndarray, lv: _Levels) -> float:
    """Width (mm) of a graded border (a halo) beyond the edge as placed, the same for every
    ray of the slice: how far past each ray's edge the median profile across all rays keeps
    moving towards the liver's value (HALO_FOOT_FRACTION), less BLUR_FOOT_MM; 0 when the
    profile does not end at the liver's value or no halo is wider than the blur."""
    d = np.arange(0.0, HALO_MAX_MM + 1.0 + RAY_STEP_MM, RAY_STEP_MM)
    idx = np.rint((edge_r[:, None] + d[None, :]) / RAY_STEP_MM).astype(int)
    idx = np.minimum(idx, prof.shape[1] - 1)
    ok = np.take_along_axis(inside, idx, axis=1)
    vals = np.where(ok, np.take_along_axis(prof, idx, axis=1), np.nan)
    if not ok.all(axis=0).any():
        return 0.0
    with np.errstate(all="ignore"):
        g = nanmedian_axis(vals, 0)
    far = float(np.nanmedian(g[d >= HALO_MAX_MM]))
    if not math.isfinite(far) or lv.sign * (far - lv.liver) > 0:
        return 0.0
    se = _median_se(lv.noise, N_RAYS)
    gap = -lv.sign * (far - g)  # how far the median profile still is from the far value
    foot = gap <= max(HALO_FOOT_FRACTION * abs(lv.lesion - lv.liver), se)
    j = int(np.argmax(foot)) if foot.any() else len(d) - 1
    return float(min(max(0.0, d[j] - BLUR_FOOT_MM), HALO_MAX_MM))


def _median_se(noise_hu: float, n_rays: int) -> float:
    """Standard error of the median profile over ``n_rays`` rays of smoothed noise SD
    ``noise_hu``: sqrt(pi / 2) (1.2533) times the mean's, neighbouring rays counted four to one
    (they overlap within the smoothing)."""
    return 1.2533 * noise_hu / math.sqrt(n_rays / 4.0)


def border_profile(
    prof: np.ndarray,
    ref_r: np.ndarray,
    inside: np.ndarray,
    lv: _Levels,
    d: np.ndarray,
    past_mm: float,
    ceiling_hu: float,
    in_range: bool = False,
    step_mm: float = RAY_STEP_MM,
) -> tuple[np.ndarray, np.ndarray] | None:
    """The median border profile of an enhancing lesion's slice: ``prof`` ``(ray, sample)``
    (smoothed HU every ``step_mm``) read at ``d`` (mm) from each ray's ``ref_r``, over the rays
    that meet no other tissue (within the window, ``inside``; and, with ``in_range``, within
    the rays' samples; from ``past_mm`` on, never above ``ceiling_hu`` nor far below the liver:
    HALO_OTHER_FRACTION), and those rays; None when too few are (HALO_MIN_RAYS). The halo fit
    and edg_fadefoot read the same profile."""
    contrast = abs(lv.lesion - lv.liver)
    idx = np.rint((ref_r[:, None] + d[None, :]) / step_mm).astype(int)
    ok = (idx >= 0) & (idx < prof.shape[1]) if in_range else True
    idx = np.clip(idx, 0, prof.shape[1] - 1)
    vals = np.take_along_axis(prof, idx, axis=1)
    past = vals[:, d >= past_mm]
    clean = (
        (ok & np.take_along_axis(inside, idx, axis=1)).all(axis=1)
        & ~(past > ceiling_hu).any(axis=1)
        & ~(past < lv.liver - HALO_OTHER_FRACTION * contrast).any(axis=1)
    )
    if clean.mean() < HALO_MIN_RAYS:
        return None
    return np.median(vals[clean], axis=0), clean


def ends_at_liver(g: np.ndarray, d: np.ndarray, bottom: float, lv: _Levels, se: float) -> bool:
    """Whether a median border profile ``g`` (at ``d`` mm) whose far value is ``bottom`` ends at
    the liver's value, with no trough below it past the border (HALO_FOOT_FRACTION of the
    contrast, or HALO_FAR_SE standard errors ``se``): otherwise it runs on into something else."""
    tol = max(HALO_FOOT_FRACTION * abs(lv.lesion - lv.liver), HALO_FAR_SE * se)
    return abs(bottom - lv.liver) <= tol and float(g[d >= 0.0].min()) >= bottom - tol


@functools.cache
def _halo_steps() -> tuple[np.ndarray, ...]:
    """The blurred steps :func:`_enhancing_halo_mm` fits, for every width sigma and middle d0
    (HALO_FIT_MM), sampled at its distances d: sigma, d0, the steps less their means, their
    means and their sums of squares (read-only; the same for every ray fan, computed once)."""
    d = np.arange(HALO_FIT_MM[0], HALO_FIT_MM[1] + RAY_STEP_MM / 2, RAY_STEP_MM)
    sigma = np.arange(0.5, HALO_MAX_MM + RAY_STEP_MM / 2, RAY_STEP_MM)
    d0 = np.arange(HALO_FIT_MM[0], 3.0 + RAY_STEP_MM / 2, RAY_STEP_MM)
    z = (d[None, None, :] - d0[None, :, None]) / (sigma[:, None, None] * math.sqrt(2.0))
    step = 0.5 * special.erfc(z)
    sm = step.mean(axis=2, keepdims=True)
    var = ((step - sm) ** 2).sum(axis=2)
    out = (sigma, d0, step - sm, sm, var)
    for a in out:
        a.setflags(write=False)
    return out


def _enhancing_halo_mm(
    prof: np.ndarray, edge_r: np.ndarray, inside: np.ndarray, lv: _Levels
) -> float:
    """Width (mm) of the graded bright border of a hyper-attenuating lesion beyond the edge as
    placed, the same for every ray of the slice (:func:`_halo_mm`'s counterpart), from ``prof``
    ``(ray, sample)`` of smoothed HU every RAY_STEP_MM, each ray's edge ``edge_r`` (mm) and
    ``inside`` (samples within the window). 0 when no border wider than the blur is seen.

    Made symmetric, the hypo-attenuating rule overshot IRCADb tumours 06 and 07 made
    hyper-enhancing (14.5 and 28.8 mm for 10.0 and 21.4 from their deepest points) and still
    missed 05 (27.0 for 32.5). It follows the median profile to where it comes within 5 % of the
    contrast of its value 4 mm out, and asks only that this value not lie on the lesion's side
    of the liver's. Around 06 and 07 the profile runs on past the liver's value into a fissure
    or a dark neighbour (10-60 HU under the liver 2-5 mm out) and the descent was taken for a
    halo; around 05 the far value lay 1 HU above the liver's and the halo was refused, while on
    slices where it was not, a drift of 3 HU around 07 and 03 moved the foot as much as 05's
    halo did. Here the whole border is fitted (HALO_FIT_MM, HALO_MIN_SIGMA_MM) over the rays
    that meet no other tissue (HALO_OTHER_FRACTION, HALO_MIN_RAYS), and the fitted step must
    end at the liver's value on either side, with no trough on the way (HALO_FAR_SE)."""
    if lv.sign < 0 or lv.texture:
        return 0.0
    d = np.arange(HALO_FIT_MM[0], HALO_FIT_MM[1] + RAY_STEP_MM / 2, RAY_STEP_MM)
    found = border_profile(prof, edge_r, inside, lv, d, 1.0, lv.threshold)
    if found is None:
        return 0.0
    g, clean = found
    # Least squares of g = a * step + b for every step middle d0 and width sigma at once.
    sigma, d0, centred, sm, var = _halo_steps()
    cov = (centred * (g - g.mean())).sum(axis=2)
    amp = np.where(var > 0, cov / np.where(var > 0, var, 1.0), 0.0)
    resid = ((g - g.mean()) ** 2).sum() - amp * cov
    resid = np.where(amp > 0, resid, np.inf)
    i, k = np.unravel_index(int(np.argmin(resid)), resid.shape)
    bottom = float(g.mean() - amp[i, k] * sm[i, k, 0])
    if not ends_at_liver(g, d, bottom, lv, _median_se(lv.noise, int(clean.sum()))):
        return 0.0
    if sigma[i] < HALO_MIN_SIGMA_MM:
        return 0.0
    foot = d0[k] + 2.0 * sigma[i]
    return float(min(max(0.0, foot - BLUR_FOOT_MM), HALO_MAX_MM))


def _rim(
    mask: np.ndarray, spacing_yx: Sequence[float], rim_mm: float = RIM_MM
) -> np.ndarray | None:
    """Pixels within ``rim_mm`` of a structure of ``mask`` larger than a speck
    (MIN_RIM_AREA_MM2), or None when there is none."""
    if not mask.any():
        return None
    lab, _ = ndimage.label(mask)
    area = np.bincount(lab.ravel()) * spacing_yx[0] * spacing_yx[1]
    keep = area >= MIN_RIM_AREA_MM2
    keep[0] = False
    big = keep[lab]
    if not big.any():
        return None
    return within_mm(big, spacing_yx, rim_mm)


def _surface_rim_mm(slice_mm: float, lv: _Levels) -> float:
    """Width (mm) of the partial-volume rim kept out of the lesion around fat and air (values
    below FAT_HU) on slices ``slice_mm`` thick: RIM_MM, or SLAB_RIM_FRACTION of a slab's
    thickness for a hypo-attenuating lesion delineated by value (the liver's surface cut
    obliquely by a slab reads as dark as the lesion over about the slab's width; a
    hyper-attenuating lesion's rim is a vessel's, and texture has no partial-volume band)."""
    if slice_mm < SLAB_MM or lv.texture or lv.sign > 0:
        return RIM_MM
    return max(RIM_MM, SLAB_RIM_FRACTION * slice_mm)


def _outline(
    cy: float, cx: float, radii: np.ndarray, spacing_yx: Sequence[float], shape: Sequence[int]
) -> tuple[np.ndarray, np.ndarray]:
    """Outline ``(n, 2)`` (window pixels ``y, x``) of rays of ``radii`` mm from ``(cy, cx)`` and
    the mask of the pixel centres inside it."""
    angles = np.arange(len(radii)) * (2.0 * math.pi / len(radii))
    outline = np.column_stack(
        [cy + np.sin(angles) * radii / spacing_yx[0], cx + np.cos(angles) * radii / spacing_yx[1]]
    )
    return outline, polygon_mask(shape, outline)


def _max_chord(radii: np.ndarray) -> float:
    """Longest chord through the rays' origin (opposite rays), in mm."""
    half = len(radii) // 2
    return float((radii[:half] + radii[half : 2 * half]).max())


def _disk(plane: np.ndarray, cy: float, cx: float, radius_px: float) -> np.ndarray:
    """The pixels of ``plane``'s shape within ``radius_px`` (at least 1) of ``(cy, cx)``: the
    same expression, evaluated on the disk's box only (a pixel a whole pixel beyond the radius
    on one axis is outside it whatever the rounding)."""
    r2 = max(radius_px, 1.0) ** 2
    reach = math.sqrt(r2) + 1.0
    ny, nx = plane.shape[:2]
    out = np.zeros((ny, nx), dtype=bool)
    if not (math.isfinite(cy) and math.isfinite(cx) and math.isfinite(reach)):
        yy, xx = np.ogrid[:ny, :nx]
        return (yy - cy) ** 2 + (xx - cx) ** 2 <= r2
    y0, y1 = max(math.floor(cy - reach), 0), min(math.ceil(cy + reach) + 1, ny)
    x0, x1 = max(math.floor(cx - reach), 0), min(math.ceil(cx + reach) + 1, nx)
    if y0 < y1 and x0 < x1:
        yy, xx = np.ogrid[y0:y1, x0:x1]
        out[y0:y1, x0:x1] = (yy - cy) ** 2 + (xx - cx) ** 2 <= r2
    return out


def _liver_estimate(
    plane: np.ndarray, lv: _Levels, spacing_yx: Sequence[float], band: float | None = None
) -> np.ndarray:
    """The liver on a smoothed slice ``(y, x)``: its largest connected parenchyma-like region
    (within ``band`` HU of the liver's value, ``lv.band`` when None; thin partial-volume bridges
    opened), closed with a LIVER_CLOSING_MM disk and hole-filled, so that lesions and vessels
    inside it and fissures across it belong to it."""
    like = np.abs(plane - lv.liver) <= (lv.band if band is None else band)
    core = beyond_mm(like, spacing_yx, RIM_MM)  # distance_transform_edt(like) > RIM_MM, faster
    like &= within_mm(core, spacing_yx, RIM_MM)
    lab, n = ndimage.label(like)
    if n == 0:
        return like
    sizes = np.bincount(lab.ravel())
    sizes[0] = 0
    liver = lab == int(np.argmax(sizes))
    pad = math.ceil(LIVER_CLOSING_MM / min(spacing_yx)) + 1
    big = np.pad(liver, pad)
    grown = within_mm(big, spacing_yx, LIVER_CLOSING_MM)
    closed = beyond_mm(grown, spacing_yx, LIVER_CLOSING_MM)
    return fill_holes(closed[pad:-pad, pad:-pad] | liver)


def _capped_by_liver(win: _Window, cuts: dict[int, _SliceCut], lv: _Levels) -> bool:
    """Whether the region ends inside the liver in 3-D. From its first and from its last slice
    the end slice's outline ``(y, x)`` is followed through the slices beyond while the tissue
    under it is still mostly the lesion's (the region may have been stopped before the
    lesion's end), up to CAP_SEARCH_MM; on the first slice where it is not, CAP_LIVER_INSIDE or
    more of the outline must lie in the liver estimated on that slice and look like parenchyma
    (the tumour is capped by liver, not by fat or another organ)."""
    zs = sorted(cuts)
    dz = float(win.volume.spacing_mm[0])
    for z_end, step in ((zs[0], -1), (zs[-1], 1)):
        foot = cuts[z_end].mask
        if not foot.any():
            continue
        z = z_end + step
        while 0 <= z < win.volume.shape[0] and abs(z - z_end) * dz <= CAP_SEARCH_MM:
            plane = win.hu_plane(z)
            if lv.lesion_side(plane[foot], lv.threshold).mean() >= 1.0 - CAP_LIVER_INSIDE:
                z += step  # still the lesion (or whatever the region was)
                continue
            liver = _liver_estimate(plane, lv, win.volume.spacing_mm[1:])
            liver &= np.abs(plane - lv.liver) <= lv.band
            if float(liver[foot].mean()) >= CAP_LIVER_INSIDE:
                return True
            break
    return False


def _in_liver_by_body(
    win: _Window, cuts: dict[int, _SliceCut], lv: _Levels, z0: int
) -> float | None:
    """The liver's value around the region's body (``liverbody.body_levels``) when, judged
    against it, the region lies in the liver estimated on the click's slice or ends inside the
    liver in 3-D (:func:`_capped_by_liver`); None otherwise (it stays refused)."""
    zs = sorted(cuts)
    if len(zs) < 2 or len(zs) * float(win.volume.spacing_mm[0]) < MIN_BODY_MM:
        return None  # a cap, not a body: its surroundings are the cap's partial volume
    levels = body_levels(
        [cuts[z].shell for z in zs],
        [win.plane(z)[cuts[z].mask] for z in zs],
        lv.liver,
        lv.sign,
        _mode,
        SEED_EXCLUSION_HU,
        LOW_CONTRAST_HU,
    )
    if levels is None:
        return None
    body = replace(lv, liver=levels[0], lesion=levels[1])
    est = _liver_estimate(win.plane(z0), body, win.volume.spacing_mm[1:])
    m0 = cuts[z0].mask
    inside = float((m0 & est).sum() / max(int(m0.sum()), 1))
    if inside >= OUTSIDE_LIVER_INSIDE or _capped_by_liver(win, cuts, body):
        return body.liver
    return None


def _hu_levels(win: _Window, cuts: dict[int, _SliceCut], lv: _Levels) -> _Levels:
    """Values in HU of a lesion delineated by texture: its smoothed median, and the median and
    noise of a SHELL_MM ring around it (for the evidence and the viable threshold)."""
    sy, sx = win.volume.spacing_mm[1:]
    inside: list[np.ndarray] = []
    ring: list[np.ndarray] = []
    for z, c in cuts.items():
        plane = win.hu_plane(z)
        inside.append(plane[c.mask])
        ring.append(plane[ring_mm(c.mask, (sy, sx), *SHELL_MM, closed=True)])
    vin, vring = np.concatenate(inside), np.concatenate(ring)
    liver = float(np.median(vring)) if vring.size else float("nan")
    lesion = float(np.median(vin)) if vin.size else float("nan")
    return _Levels(liver, lesion, robust_sd(vring), 0.0)


def _levels_from_shell(
    cut: _SliceCut, plane: np.ndarray, lv: _Levels
) -> tuple[_Levels, float, bool]:
    """Liver value and noise from the shell samples that look like parenchyma, lesion value from
    the inner part of the outline; the share of the shell that looks like parenchyma; and
    whether those samples are the ones the liver's level settled on (shell_settle.py), not the
    first selection."""
    # A dark lesion off the arterial phase: the parenchyma judged against the level it settles
    # on, not the window's commonest value alone (shell_settle.py).
    like, settled = settled_selection(
        cut.shell, lv.liver, lv.band, lv.sign < 0 and not lv.mixed and not lv.texture
    )
    share = float(like.mean()) if cut.shell.size else 0.0
    liver, noise = lv.liver, lv.noise
    if like.sum() >= 30:
        liver = float(np.median(cut.shell[like]))
        noise = robust_sd(cut.shell[like])
    inner = ndimage.binary_erosion(cut.mask, iterations=2)
    vals = plane[inner] if inner.sum() >= 10 else plane[cut.mask]
    lesion = float(np.median(vals)) if vals.size else lv.lesion
    if lv.mixed:
        # The median of enhancing and necrotic parts is neither; but an enhancing lesion read
        # at a darker spot of its heterogeneous inside is re-measured upwards (clear contrast).
        up = (
            lv.sign > 0
            and lesion > lv.lesion
            and lesion - liver > 0.0
            and not low_contrast(lesion - liver, noise)
        )
        lesion = lesion if up else lv.lesion
    return replace(lv, liver=liver, lesion=lesion, noise=noise), share, settled


# ---------------------------------------------------------------------------------------------
# Public entry point


def measure_lesion(
    volume: CTVolume,
    prompt: LesionPrompt,
    *,
    phase: Phase | str | None = Phase.UNKNOWN,
) -> LesionMeasurement:
    """Delineate and measure the liver lesion a reader pointed at: :func:`_measure_lesion`
    (rays per slice; its docstring gives the parameters, result and errors), its outline then
    refined in 3-D by a random walker where the result is in doubt on arterial slabs
    (:func:`lesion_tool.measurement.refine.refine_where_doubtful`; issue 11, w9-refine), and
    flagged when its diameter's ends lie where the image stays within the noise of its threshold
    (:mod:`lesion_tool.measurement.lowcnr_border`). A click on a partial-volume end slab is
    measured again from the slab where the lesion reads its own value when that gives a sound,
    longer result (:mod:`lesion_tool.measurement.slb_brightslab`). A faint bright region by value
    on thick slabs, widest on its end slab, gives way to the texture region measured from the
    click's point one slab on (:mod:`lesion_tool.measurement.lct_texbeyond`). A click off the
    middle of a region delineated by texture is measured again from two points inside it and the
    median kept (:mod:`lesion_tool.measurement.tex_vote`), or the sound region by value one of them
    finds holding the click (:mod:`lesion_tool.measurement.texvote_value`); a lesion of 40 mm or
    more clicked far from its region's deepest point is measured again from there when that gives
    the same lesion, longer (:mod:`lesion_tool.measurement.lrg_deepclick`); an enhancing lesion
    clicked on its pale margin beside a brighter middle is measured again from that middle
    (:mod:`lesion_tool.measurement.brightmiddle`). A region far flatter than it is wide is
    flagged (:mod:`lesion_tool.measurement.flat_region`), as is one cut off on a wide end slice
    past which the lesion goes on (:mod:`lesion_tool.measurement.end_goes_on`), or one that is a
    small part of a larger area of its own value on its widest slice
    (:mod:`lesion_tool.measurement.part_of_more`) or, unflagged otherwise, on an inner slice
    (:mod:`lesion_tool.measurement.part_body`), and a dark result no flag warns of with
    enhancing tissue round much of it on two neighbouring slices
    (:mod:`lesion_tool.measurement.darkpart_slices`) or most of it as bright as the liver
    (:mod:`lesion_tool.measurement.dark_mostlybright`); an unflagged result whose sections narrow
    to a neck between two bodies through the slices is flagged too
    (:mod:`lesion_tool.measurement.necked_region`), as is a faint dark one that is a thin sheet
    along the liver's surface, darkest against the tissue beyond it
    (:mod:`lesion_tool.measurement.surface_sheet`), or, read through the slices, a band round
    darker tissue with no core at its own value: a cleft of fat inside the liver
    (:mod:`lesion_tool.measurement.cleft_band`).
    """
    from lesion_tool.measurement.brightmiddle import from_bright_middle
    from lesion_tool.measurement.cleft_band import flag_cleft
    from lesion_tool.measurement.dark_mostlybright import flag_mostly_bright
    from lesion_tool.measurement.darkpart_slices import flag_dark_part
    from lesion_tool.measurement.end_goes_on import flag_goes_on
    from lesion_tool.measurement.end_ring import flag_ring_end
    from lesion_tool.measurement.flat_region import flag_flat
    from lesion_tool.measurement.lct_texbeyond import texture_beyond
    from lesion_tool.measurement.lrg_deepclick import reclick_deepest
    from lesion_tool.measurement.necked_region import flag_necked
    from lesion_tool.measurement.part_body import flag_part_body
    from lesion_tool.measurement.part_of_more import flag_dark_more, flag_part
    from lesion_tool.measurement.slb_brightslab import from_brighter_slab
    from lesion_tool.measurement.surface_sheet import flag_sheet
    from lesion_tool.measurement.tex_vote import vote_texture

    first = _measure_whole(volume, prompt, phase)
    first = from_brighter_slab(volume, prompt, phase, first, _measure_whole)
    # A faint bright region by value widest on its end slab: the texture region beyond it
    # (lct_texbeyond.py; slabs of 4 mm or more).
    first = texture_beyond(volume, prompt, phase, first, _measure_whole)
    # A click's region by texture: the median of it and two re-clicks inside it (tex_vote.py).
    voted = vote_texture(volume, prompt, phase, first, _measure_whole)
    # A large lesion by value clicked far from its middle: again from its region's deepest
    # point (lrg_deepclick.py). After the rules that change the region (a texture region is
    # left to tex_vote), before the flags that read the final one.
    voted = reclick_deepest(volume, prompt, phase, voted, _measure_whole)
    # An enhancing lesion clicked on its pale margin, its brighter middle beside the outline
    # past the region's ceiling: again from that middle (brightmiddle.py; arterial images).
    voted = from_bright_middle(volume, prompt, phase, voted, _measure_whole)
    # Whatever path gave it, a region far flatter than it is wide is flagged (flat_region.py),
    # one cut off on a wide end slice past which the lesion goes on (end_goes_on.py), and one
    # that is a small part of a larger area of its own value on its widest slice (part_of_more.py).
    flagged = flag_part(volume, flag_goes_on(volume, flag_flat(volume, voted)))
    # Unflagged so far, the same on the region's inner slices (part_body.py).
    flagged = flag_part_body(volume, flagged)
    # A dark result no flag warns of, with enhancing tissue round much of it on two neighbouring
    # slices: possibly a part of a larger lesion (darkpart_slices.py); one most of which reads as
    # bright as the liver: not the dark tissue it was found by (dark_mostlybright.py).
    flagged = flag_mostly_bright(volume, flag_dark_part(volume, flagged))
    # Still unflagged, sections that narrow to a neck between two bodies (necked_region.py).
    flagged = flag_necked(volume, flagged)
    # Still unflagged, a faint dark sheet along the liver's surface, darkest against the tissue
    # beyond it (surface_sheet.py).
    flagged = flag_sheet(volume, flagged, LOW_CONTRAST_HU, LIVER_BAND_MIN_HU)
    # Still unflagged, a faint dark band round darker tissue read through the slices: a
    # cleft of fat inside the liver, a fold (cleft_band.py).
    flagged = flag_cleft(volume, flagged, LOW_CONTRAST_HU, LIVER_BAND_MIN_HU)
    # Still unflagged, a dark region that is a small part of a larger area of its own value on
    # its widest slice (part_of_more.flag_dark_more).
    flagged = flag_dark_more(volume, flagged)
    # Still unflagged, a region ending on a wide slice past which the lesion's tissue goes on
    # over its outline and spreads far wider (end_ring.py).
    return flag_ring_end(volume, flagged)


def _measure_whole(
    volume: CTVolume, prompt: LesionPrompt, phase: Phase | str | None
) -> LesionMeasurement:
    """:func:`measure_lesion`'s measurement from the prompt as given."""
    from lesion_tool.measurement.isl_mottledfill import fill_islets
    from lesion_tool.measurement.layer_end import layer_uncertainty_mm
    from lesion_tool.measurement.lowcnr_border import border_uncertainty_mm, flag_uncertain_border
    from lesion_tool.measurement.lungedge_border import reborder_band
    from lesion_tool.measurement.n3c_ringtrim import trim_to_ring
    from lesion_tool.measurement.ngb_tubethrough import flag_tube
    from lesion_tool.measurement.ngd_edgeband import flag_edge_band
    from lesion_tool.measurement.refine import refine_where_doubtful

    # The re-click chains' windows share their smoothed planes (speedmemo.py).
    with one_prompt(volume):
        m = refine_where_doubtful(volume, _measure_lesion(volume, prompt, phase=phase))
        # A necrotic lesion's whole stops on the graded seam from core to rim: its rim's edge.
        m = _to_rim_edge(volume, m, _phase(phase))
        # A region by value that ran on past a closed enhancing ring's outer edge is cut to
        # the ring's outline (n3c_ringtrim.py; arterial slabs only).
        m = trim_to_ring(volume, m, phase)
        # A large mottled enhancing lesion's final region cast again across the liver-valued
        # islets it encloses (isl_mottledfill.py; arterial images, results >= 40 mm).
        m = fill_islets(volume, m, prompt, phase)
    # Ends of the diameter in a band within the noise of the threshold (lowcnr_border.py),
    # flagged; the border re-placed where the tissue beyond is neither lesion nor liver
    # (lungedge_border.py), the flag kept from the result as found. Both read the same band
    # along the diameter: once. For the re-placing, an end on a thin layer at the threshold
    # over fat or air could lie anywhere along the layer, not half of it either way
    # (layer_end.py, which reads the profile again: 0.3 ms).
    u = border_uncertainty_mm(volume, m)
    flagged = flag_uncertain_border(volume, m, u)
    moved = reborder_band(volume, m, layer_uncertainty_mm(volume, m, u))
    if moved is not m:
        flagged = replace(moved, flags=(*flagged.flags, *moved.flags[len(m.flags) :]))
    # A faint dark click region on an arterial image cut at the enhancing rim read round its
    # core (t04w_corecut.py).
    arterial = _phase(phase) is Phase.ARTERIAL
    cut = cut_at_rim(volume, prompt, arterial, flagged)
    # A bright result no flag warns of, the bright structure running on beyond both its ends
    # slice after slice: a piece of a vessel (ngb_tubethrough.py).
    tube = flag_tube(volume, cut)
    # A large faint bright region judged against the liver around its body: a perfusion
    # difference rather than a lesion? flagged (ngl_liverrange.py; arterial images).
    faint = flag_faint(volume, arterial, tube, _mode, LOW_CONTRAST_HU)
    # A faint dark result no flag warns of that is the partial-volume ramp of the liver along
    # its edge, with no core at its own value: flagged (ngd_edgeband.py).
    edge = flag_edge_band(volume, faint, LOW_CONTRAST_HU, LIVER_BAND_MIN_HU)
    # Whatever path gave it, a line's result whose diameter is not within LINE_STRICT of the
    # line drawn is flagged as such (a 8 mm result for a 13 mm line came back unflagged when
    # only _finish's looser LINE_RATIO was checked on that path; issue 11, w26-lineflag).
    line_len_mm = _line_length_mm(volume, prompt)
    return edge if line_len_mm is None else _line_flagged(edge, line_len_mm)


def _measure_lesion(
    volume: CTVolume,
    prompt: LesionPrompt,
    *,
    phase: Phase | str | None = Phase.UNKNOWN,
) -> LesionMeasurement:
    """Delineate and measure the liver lesion a reader pointed at.

    In every slice the lesion reaches, rays are cast from the click (then from the outline's
    centre on the slices above and below); each ray leaves the lesion where it meets liver,
    a vessel, fat or a neighbour, and is kept in line with its neighbours, so a gap in the
    lesion's border cannot let the region flow out. The liver value is measured just outside
    the outline, the lesion's inside it.

    Parameters
    ----------
    volume
        CT volume in HU, ``(z, y, x)``, with its geometry (any contrast phase).
    prompt
        A click inside the lesion and/or a rough line across it, with optional corrections
        (:class:`LesionPrompt`, voxel indices ``(z, y, x)``).
    phase
        The contrast phase of ``volume`` as the caller knows it (:class:`Phase` or its value;
        ``"portal-venous"`` is accepted). The viable part (mRECIST) is measured only on an
        arterial image; otherwise ``viable`` is None and ``viable_reason`` says why.

    Returns
    -------
    LesionMeasurement
        Whole-lesion diameter and perpendicular (mm), the viable ones (or None), the lesion mask
        (a box of the volume and its offset), flags, evidence and time.

    Raises
    ------
    MeasurementError
        The prompt is outside the volume; the click is on tissue like the liver around it or on
        fat/air; the region is not surrounded by liver. The message says what to do (click
        inside the lesion, drag a line across it).
    """
    # A click on a lesion's cap may read as the liver or find its cap alone: the lesion
    # under the click, on the next slices (capclick.py).
    # (The cap rule's re-clicks on the next slices do not look for a vessel's lesion again.)
    measure = measure_once(_measure_followed)
    try:
        first = under_cap(volume, prompt, phase, measure)
    except LiverValue as err:
        # A small lesion's click whose region drifted off it: the blob holding the click, from
        # its middle (smallles_blob.py); arterial images only (see its docstring).
        arterial = _phase(phase) is Phase.ARTERIAL
        if not arterial:
            # ...on a non-arterial image, a mottled lesion's end slice: its textured body
            # (t4t_driftbody.py).
            found = None
            if isinstance(err, Drifted):
                found = body_of_drifted(volume, prompt, arterial, phase, _texture_at)
            if found is None:
                raise
            return found
        found = None
        if isinstance(err, Drifted):
            found = reclick_blob(volume, prompt, phase, _measure_prompt)
        if found is None:
            # A small necrotic lesion averaged to the liver's value on a slab: its ring
            # (t06_ringclick.py).
            found = ring_lesion(volume, prompt, phase)
        if found is None:
            # ...and its ring at the click's place when no dark blob stands out there, on its
            # slab or the next (n5s_slabring.py).
            found = ring_near_click(volume, prompt, phase)
        if found is None:
            raise
        return found
    except (NotWhole, Speck):
        # A click on one part of a heterogeneous lesion: from its textured middle (t04r_texmiddle).
        found = from_texture_middle(volume, prompt, phase, _texture_at)
        if found is None:
            raise
        return found
    # A click's region seen as a flat sliver on thin slices (the lesion's end): the lesion from
    # the same point on the next slices (end_flatsliver.py).
    first = reclick_sliver(volume, prompt, phase, first, measure)
    # A click's region that ran on through the slabs, where a small ring closes round a dark
    # core at the click: the ring's lesion (n5d_runsring.py; arterial slabs only).
    first = ring_for_runaway(volume, prompt, phase, first)
    # A bright part of a mottled lesion clicked on a non-arterial image: its textured body
    # (t4p_brightpart.py).
    arterial = _phase(phase) is Phase.ARTERIAL
    first = body_of_part(volume, prompt, arterial, phase, first, _texture_at)
    # ...or a dark part of it, flagged as a possible necrotic core whose whole was not found
    # (t4t_darkpart.py).
    return body_of_dark_part(volume, prompt, arterial, phase, first, _texture_at)


def _texture_at(
    volume: CTVolume, prompt: LesionPrompt, phase: Phase | str | None
) -> LesionMeasurement | None:
    """The region by texture at a click (t04r_texmiddle.py), or None when there is none: the
    window's liver value is the commonest smoothed value around, as for a click there."""
    t0 = time.perf_counter()
    assert prompt.seed is not None
    seed = tuple(round(v) for v in prompt.seed)
    win = _Window(volume, seed[1], seed[2], CLICK_SEARCH_MM + SHELL_MM[1] + 3.0 * SMOOTH_SIGMA_MM)
    z0 = seed[0]
    zs = range(max(z0 - 2, 0), min(z0 + 3, volume.shape[0]))
    win.hu_liver = _mode(np.stack([win.hu_plane(z) for z in zs])[:, ::2, ::2], exclude_near=None)
    if win.hu_liver is None:
        return None
    win.texture = True
    try:
        return _delineate(volume, win, prompt, _phase(phase), seed, None, CLICK_SEARCH_MM, t0)
    except MeasurementError:
        return None


def _measure_followed(
    volume: CTVolume, prompt: LesionPrompt, phase: Phase | str | None
) -> LesionMeasurement:
    """One delineation from the prompt, followed by the re-click steps (see
    :func:`_measure_lesion`); a click's region that left a necrotic lesion through its rim gives
    way to that lesion, measured from its core (n05_leftring.py)."""
    first = _followed_steps(volume, prompt, phase)
    return from_core_left(volume, prompt, phase, first, _measure_prompt)


def _followed_steps(
    volume: CTVolume, prompt: LesionPrompt, phase: Phase | str | None
) -> LesionMeasurement:
    """The delineation and re-click steps of :func:`_measure_followed`."""
    # A click on a graded lesion's pale margin stops against its core: click on the core.
    try:
        first = _measure_prompt(volume, prompt, phase)
    except (OffLiver, Speck, Drifted) as err:
        if not isinstance(err, Drifted):
            # A click on a vessel or speck deep in a lesion: lesion all around it (vesselclick.py).
            around = around_refused(volume, prompt, phase, _measure_chain)
            if around is not None:
                return around
        if isinstance(err, Speck):
            raise
        # A click on a lesion's end slab at the surface, its region drifted onto the liver or
        # not surrounded by it? (offliver.py; a drifted region with nothing beyond its open end
        # stays refused, and capclick looks under the click.)
        return from_cap(volume, prompt, phase, err, _measure_prompt)
    first = follow_core(volume, prompt, phase, first, _measure_prompt)
    # A click on the seam between an enhancing part and necrosis: click inside its region.
    first = follow_seam(volume, prompt, phase, first, _measure_prompt)
    # A click on a necrotic lesion's enhancing rim: click on the dark core it surrounds.
    first = follow_necrosis(volume, prompt, phase, first, _measure_prompt)
    # A click on a vessel inside a lesion, or on a thin piece of one: the lesion (vesselclick.py).
    first = follow_vessel(volume, prompt, phase, first, _measure_chain)
    # A click near one end of the lesion may stop short of its widest slice: click on beyond it.
    found = follow_open_end(volume, prompt, phase, first, _measure_prompt)
    if found.mask is not first.mask:
        return found
    # Or it reached that slice with edges set by the cap's diluted value: click on its middle.
    return follow_middle(volume, prompt, phase, found, _measure_prompt)


def _measure_chain(
    volume: CTVolume, prompt: LesionPrompt, phase: Phase | str | None
) -> LesionMeasurement:
    """A re-click measured as a reader's click is (its cap and re-click steps included)."""
    return under_cap(volume, prompt, phase, _measure_followed)


def _line_length_mm(volume: CTVolume, prompt: LesionPrompt) -> float | None:
    """The in-plane length (mm) of the prompt's rough line, or None without a line or for one
    under two pixels long (a click, not a line). A line end outside the volume is refused."""
    if prompt.line is None:
        return None
    shape = volume.shape
    spacing = tuple(float(s) for s in volume.spacing_mm)
    a, b = (np.asarray(p) for p in prompt.line)
    for p in (a, b):
        if not all(-0.5 <= v < n - 0.5 for v, n in zip(p, shape, strict=True)):
            raise MeasurementError(f"Line end {tuple(p)} is outside the volume {shape}.")
    line_len_mm = float(np.linalg.norm((b - a)[1:] * np.asarray(spacing[1:])))
    if line_len_mm < 2.0 * max(spacing[1:]):
        return None
    return line_len_mm


def _measure_prompt(
    volume: CTVolume, prompt: LesionPrompt, phase: Phase | str | None
) -> LesionMeasurement:
    """One delineation from the prompt as given (see :func:`measure_lesion`)."""
    t0 = time.perf_counter()
    ph = _phase(phase)
    shape = volume.shape

    line_len_mm = _line_length_mm(volume, prompt)
    seed_f = prompt.seed
    if seed_f is None:
        assert prompt.line is not None
        seed_f = tuple((np.asarray(prompt.line[0]) + np.asarray(prompt.line[1])) / 2.0)
    seed = tuple(round(v) for v in seed_f)
    if any(not 0 <= s < n for s, n in zip(seed, shape, strict=True)):
        raise MeasurementError(f"Click voxel {seed} is outside the volume of shape {shape}.")

    if line_len_mm is not None:
        rmax = LINE_SEARCH_FACTOR * line_len_mm + LINE_SEARCH_MARGIN_MM
    else:
        rmax = CLICK_SEARCH_MM
    win = _Window(volume, seed[1], seed[2], rmax + SHELL_MM[1] + 3.0 * SMOOTH_SIGMA_MM)
    for pt in prompt.exclude:
        z, y, x = pt
        if 0 <= z < shape[0] and win.y0 <= y < win.y1 and win.x0 <= x < win.x1:
            m = win.exclude.setdefault(z, np.zeros(win.shape, dtype=bool))
            m[max(y - win.y0 - 1, 0) : y - win.y0 + 2, max(x - win.x0 - 1, 0) : x - win.x0 + 2] = 1
    if line_len_mm is not None:
        return _measure_line(volume, win, prompt, ph, seed, line_len_mm, rmax, t0)
    return _delineate_prompt(volume, win, prompt, ph, seed, line_len_mm, rmax, t0)


def _delineate_prompt(
    volume: CTVolume,
    win: _Window,
    prompt: LesionPrompt,
    ph: Phase,
    seed: tuple[int, ...],
    line_len_mm: float | None,
    rmax: float,
    t0: float,
) -> LesionMeasurement:
    """The lesion at a click, or around a line's middle (see :func:`measure_lesion`): by value,
    else by texture, a darker ring or an enhancing rim, whichever the evidence supports."""
    try:
        by_value = _delineate(volume, win, prompt, ph, seed, line_len_mm, rmax, t0)
    except _NoContrast as err:
        # The click's value is the liver's (a ring-enhancing or speckled lesion whose mean
        # equals the parenchyma's): delineate by texture instead, or refuse as before. Unless
        # it is the seam beside a necrotic core: that core's whole lesion (seam.py).
        beside = _core_beside(volume, win, prompt, ph, seed)
        if beside is not None:
            return beside
        win.texture = True
        try:
            return _delineate(volume, win, prompt, ph, seed, line_len_mm, rmax, t0)
        except MeasurementError:
            pass
        finally:
            win.texture = False
        # Or an encapsulated nodule as dense as the liver: its darker rim closes around it.
        by_ring = _delineate_ring(volume, win, prompt, ph, seed, rmax, t0)
        if by_ring is None:
            # Or the click is in a necrotic core (or its seam) that an enhancing rim encloses;
            # or, failing that, a faint enhancing rim closes around a core as dense as the
            # liver or darker (the enhancing rim's own rule, arterial images, judges it first).
            by_rim = _rim_around_click(volume, win, prompt, ph, seed, rmax, t0)
            if by_rim is None:
                by_rim = _delineate_ring(volume, win, prompt, ph, seed, rmax, t0, bright=True)
            if by_rim is None:
                raise LiverValue(str(err)) from None  # typed for capclick.under_cap
            return by_rim
        return by_ring
    except MeasurementError as err:
        # A click in a necrotic core whose region by value failed (leaked through a fissure
        # beside it, or a speck of the core) may still lie inside an enhancing rim.
        by_rim = _rim_around_click(volume, win, prompt, ph, seed, rmax, t0, refused=True)
        if by_rim is None:
            # Or a click in the seam between core and rim, its sliver walled by both and
            # refused as not surrounded by liver: the core's whole lesion (t5q_seamoff.py).
            by_rim = core_beside_refused(
                err, prompt, lambda: _core_beside(volume, win, prompt, ph, seed)
            )
        if by_rim is None:
            raise
        return by_rim
    necrotic = _necrotic_whole(volume, win, prompt, ph, seed, line_len_mm, rmax, t0, by_value)
    if necrotic is not None:
        if necrotic[1]:
            return necrotic[0]
        by_value = necrotic[0]  # flagged as possibly a core; texture or a ring may do better
    e = by_value.evidence
    cnr = abs(e.contrast_hu) / max(e.noise_sd_hu, 1e-6)
    off_line = line_len_mm is not None and not (
        LINE_RATIO[0] <= by_value.whole.length_mm / line_len_mm <= LINE_RATIO[1]
    )
    if low_contrast(e.contrast_hu, e.noise_sd_hu) or off_line:
        # Barely any contrast by value (or a result the line disagrees with): a closed darker
        # rim around the click, confirmed on the slices next to it, is the stronger evidence (a
        # capsule around an iso-dense nodule). A line's ends hold the rim's path, and a ring
        # the line disagrees with is not taken.
        by_ring = _delineate_ring(volume, win, prompt, ph, seed, rmax, t0, line_len_mm)
        if by_ring is None:
            # Or a faint enhancing rim around a core as dense as the liver or darker.
            by_ring = _delineate_ring(
                volume, win, prompt, ph, seed, rmax, t0, line_len_mm, bright=True
            )
        if by_ring is not None and (
            line_len_mm is None
            or LINE_RATIO[0] <= by_ring.whole.length_mm / line_len_mm <= LINE_RATIO[1]
        ):
            return by_ring
    if line_len_mm is None and -RING_CLIP_HU < e.contrast_hu < 0:
        # A hypo-attenuating region as faint as a capsule may be the darker part of a rim around
        # a nodule as dense as the liver (a click on the rim): a confirmed ring enclosing it is
        # kept.
        enclosing = _enclosing_ring(volume, win, prompt, ph, seed, rmax, t0, by_value)
        if enclosing is None and necrotic is not None:
            # Or the darker core of a nodule whose faint enhancing rim encloses it: enhancing
            # tissue was seen around part of the region (it may be a core), and a bright ring
            # confirmed on the slices next to it closes around it. Without that, the liver
            # around a plain hypo-attenuating lesion could pass for the rim.
            enclosing = _enclosing_ring(
                volume, win, prompt, ph, seed, rmax, t0, by_value, bright=True
            )
        if enclosing is not None:
            return enclosing
    if abs(e.contrast_hu) >= LOW_CONTRAST_HU and not off_line:
        return by_value
    # Barely any contrast by value: a necrotic core beside the click (seam.py), else texture may
    # be the better evidence (a faint ring around a heterogeneous core); the one with the higher
    # contrast-to-noise ratio is kept.
    if not off_line and (beside := _core_beside(volume, win, prompt, ph, seed)) is not None:
        return beside
    win.texture = True
    try:
        by_texture = _delineate(volume, win, prompt, ph, seed, line_len_mm, rmax, t0)
    except MeasurementError:
        return by_value
    finally:
        win.texture = False
    if off_line:
        # The reader's line says how large the lesion is: texture is kept when it agrees with
        # the line and the value does not (a ring whose core the value found alone).
        assert line_len_mm is not None
        ratio = by_texture.whole.length_mm / line_len_mm
        return by_texture if LINE_RATIO[0] <= ratio <= LINE_RATIO[1] else by_value
    tex = by_texture.evidence.texture_sd_hu
    assert tex is not None
    tex_noise = by_texture.evidence.texture_noise_sd_hu
    if (tex[0] - tex[1]) / max(tex_noise, 1e-6) > cnr:
        return by_texture
    return by_value


def _core_beside(
    volume: CTVolume, win: _Window, prompt: LesionPrompt, ph: Phase, seed: tuple[int, ...]
) -> LesionMeasurement | None:
    """The whole lesion measured from a necrotic core beside a click that reads as the liver
    (:func:`.seam.from_core_beside`; arterial images only)."""
    if ph is not Phase.ARTERIAL:
        return None
    plane = win.hu_plane(seed[0])
    spacing_yx = volume.spacing_mm[1:]
    return from_core_beside(
        prompt,
        seed,
        plane,
        (win.y0, win.x0),
        spacing_yx,
        win.hu_liver,
        lambda p: _measure_prompt(volume, p, ph),
    )


def _delineate_ring(
    volume: CTVolume,
    win: _Window,
    prompt: LesionPrompt,
    ph: Phase,
    seed: tuple[int, ...],
    rmax: float,
    t0: float,
    line_len_mm: float | None = None,
    smoothed: dict[int, np.ndarray] | None = None,
    bright: bool = False,
    z_min: float = RING_Z_SCORE,
) -> LesionMeasurement | None:
    """The nodule around a click whose value is the liver's, delimited by a closed darker rim
    (a capsule) found on the click's slice and carried through the slices above and below while
    it is confirmed there (see :mod:`.ring`); None when no such ring is there. With a line
    (``line_len_mm``) the ring passes near the line's ends and is checked against its length.
    ``smoothed`` caches the window's planes smoothed for the ring between calls. With ``bright``
    the rim is a faint enhancing one instead (:func:`.ring.find_ring`); ``z_min`` the bar of the
    ring's test on the slices next to it (RING_Z_SCORE unless a line vouches, slabhyper_line.py)."""
    z0 = seed[0]
    nearby = np.stack(
        [win.hu_plane(z) for z in range(max(z0 - 2, 0), min(z0 + 3, volume.shape[0]))]
    )
    liver_hu = _mode(nearby[:, ::2, ::2], exclude_near=None)
    if liver_hu is None:
        return None
    spacing = tuple(float(s) for s in volume.spacing_mm)
    spacing_yx = spacing[1:]
    if smoothed is None:
        smoothed = {}

    def plane_at(z: int) -> np.ndarray | None:
        if not 0 <= z < volume.shape[0]:
            return None
        if z not in smoothed:
            raw = np.asarray(volume.array[z, win.y0 : win.y1, win.x0 : win.x1], dtype=np.float32)
            smoothed[z] = smooth_plane(raw, spacing_yx)
        return smoothed[z]

    cy, cx = float(seed[1] - win.y0), float(seed[2] - win.x0)
    through: list[tuple[float, float]] = []
    if line_len_mm is not None and prompt.line is not None:
        # The line's ends lie on the rim (roughly): the path is held near them.
        for end in prompt.line:
            dy, dx = (end[1] - win.y0 - cy) * spacing_yx[0], (end[2] - win.x0 - cx) * spacing_yx[1]
            through.append((math.atan2(dy, dx) % (2.0 * math.pi), math.hypot(dy, dx)))
    # The ring is tested on the nearest slices above and below with independent noise.
    gap = max(1, math.ceil(CHECK_GAP_MM / spacing[0]))
    checks = [c for c in (plane_at(z0 - gap), plane_at(z0 + gap)) if c is not None]
    plane = plane_at(z0)
    assert plane is not None

    def raw_at(z: int) -> np.ndarray:
        return np.asarray(volume.array[z, win.y0 : win.y1, win.x0 : win.x1], dtype=np.float32)

    ring = find_ring(
        plane,
        cy,
        cx,
        liver_hu,
        spacing_yx,
        rmax,
        checks,
        through=through,
        bright=bright,
        raw=raw_at(z0),
        slab_mm=spacing[0],
        z_min=z_min,
        arterial=ph is Phase.ARTERIAL,
    )
    if ring is None:
        return None
    # Lesions are about as deep as they are wide (MAX_Z_RATIO).
    depth = MAX_Z_RATIO * 2.0 * float(np.max(ring.radii))
    rings = carry_ring(
        plane_at,
        z0,
        ring,
        spacing,
        liver_hu,
        rmax,
        depth,
        bright=bright,
        raw_at=raw_at,
        z_min=z_min,
        arterial=ph is Phase.ARTERIAL,
    )
    if not deep_enough(rings, spacing[0], _max_chord(ring.radii)):
        return None  # a dark path crossing the plane (fissure, vein, surface), not a nodule
    cuts = {}
    for z, rc in rings.items():
        outline, mask = _outline(cy, cx, rc.radii, spacing_yx, win.shape)
        cuts[z] = _SliceCut(z, cy, cx, rc.radii, 0.0, outline, mask, np.zeros(0))
    sample = nearby[:, ::2, ::2]
    noise = robust_sd(sample[np.abs(sample - liver_hu) <= LIVER_BAND_MIN_HU])
    lv = _Levels(liver_hu, ring.inside_hu, noise, prompt.threshold_offset_hu)
    zs = sorted(rings)
    where = (
        f"outlined on {len(zs)} slices ({slice_name(volume, zs[0])} to "
        f"{slice_name(volume, zs[-1])}), where the rim is confirmed"
        if len(zs) > 1
        else "outlined on the click's slice only (not confirmed on the slices next to it)"
    )
    kind, than = ("enhancing", "brighter") if bright else ("darker", "darker")
    flags = [
        (
            f"{rim_flag_start(kind)}{ring.inside_hu:.0f} HU) is as dense as "
            f"the liver ({ring.outside_hu:.0f} HU beyond the rim), the rim is "
            f"{ring.rim_hu:.0f} HU ({ring.z_score:.1f} standard errors {than} than both sides on "
            f"the slices next to it); {where}: check the contour, or drag a line across it"
        )
    ]
    return _finish(volume, win, cuts, prompt, lv, 1.0, flags, ph, seed, line_len_mm, t0)


def _enclosing_ring(
    volume: CTVolume,
    win: _Window,
    prompt: LesionPrompt,
    ph: Phase,
    seed: tuple[int, ...],
    rmax: float,
    t0: float,
    by_value: LesionMeasurement,
    bright: bool = False,
) -> LesionMeasurement | None:
    """The nodule delimited by a darker rim (see :func:`_delineate_ring`, sought from the centre
    of the region found by value) when that region lies inside it and is much smaller on the
    click's slice: the value then found only the rim's darker part or a dark spot inside the
    nodule (ENCLOSED_SHARE, ENCLOSING_AREA_RATIO). With ``bright`` the rim is a faint enhancing
    one (the region is a darker core inside it). None otherwise."""
    z0 = seed[0]
    k = z0 - by_value.offset[0]
    if not 0 <= k < by_value.mask.shape[0] or not by_value.mask[k].any():
        return None
    yy, xx = np.nonzero(by_value.mask[k])
    cy, cx = yy.mean() + by_value.offset[1], xx.mean() + by_value.offset[2]
    shape = volume.shape
    region = _slice_mask(by_value, win, z0)
    area = int(region.sum())
    # The nodule's centre lies off a crescent's centroid (on its concave side, unknown): the
    # ring is sought from the centroid, then from ENCLOSING_CENTRES points around it at
    # ENCLOSING_OFFSET times the region's equivalent radius, the first one enclosing it kept.
    step = ENCLOSING_OFFSET * math.sqrt(area / math.pi)
    angles = np.arange(ENCLOSING_CENTRES) * (2.0 * math.pi / ENCLOSING_CENTRES)
    offsets = [(0.0, 0.0)] + [(step * math.sin(a), step * math.cos(a)) for a in angles]
    smoothed: dict[int, np.ndarray] = {}
    for dy, dx in offsets:
        centre = (z0, round(cy + dy), round(cx + dx))
        if not (0 <= centre[1] < shape[1] and 0 <= centre[2] < shape[2]):
            continue
        by_ring = _delineate_ring(
            volume, win, prompt, ph, centre, rmax, t0, None, smoothed, bright=bright
        )
        if by_ring is None:
            continue
        ring = _slice_mask(by_ring, win, z0)
        # The edge by value is placed up to EDGE_MM past its half-way value: so far out of
        # the ring's outline the region still lies inside it.
        near = within_mm(ring, volume.spacing_mm[1:], EDGE_MM)
        inside = int((region & near).sum()) / max(area, 1)
        if inside >= ENCLOSED_SHARE and ring.sum() >= ENCLOSING_AREA_RATIO * area:
            break
    else:
        return None
    part = "core inside the rim" if bright else "rim's darker side"
    note = (
        f"the region by value ({by_value.whole.length_mm:.0f} mm, "
        f"{by_value.evidence.contrast_hu:+.0f} HU against the liver) lies inside a "
        f"{'brighter' if bright else 'darker'} rim that closes around "
        f"{by_ring.whole.length_mm:.0f} mm: the part by value was only the "
        f"{part} or a spot inside the nodule; the rim is measured"
    )
    return replace(by_ring, flags=(*by_ring.flags, note))


def _necrotic_whole(
    volume: CTVolume,
    win: _Window,
    prompt: LesionPrompt,
    ph: Phase,
    seed: tuple[int, ...],
    line_len_mm: float | None,
    rmax: float,
    t0: float,
    by_value: LesionMeasurement,
) -> tuple[LesionMeasurement, bool] | None:
    """A dark region by value that an enhancing rim closes around is the necrotic core of a
    larger lesion (see :mod:`.necrosis`): the whole lesion, core and rim, is delineated by the
    rim's value and returned, flagged with what was done; when that whole fails, by the rim's
    outer edge (:func:`_rim_around_click` from the core, arterial images). A rim seen in only
    part of the directions, or a whole that does not hold the core, leaves the core flagged as
    possibly one. Returns the result and whether it is the whole; None when the region is not
    hypo-attenuating or no rim is around it."""
    if win.texture or by_value.evidence.contrast_hu >= 0:
        return None
    z0 = seed[0]
    core = _slice_mask(by_value, win, z0)
    e = by_value.evidence
    # The rim is judged against the liver measured just outside the region; and, for a flag
    # only, against the commonest value around when lower (a thick rim fills that shell: the
    # core would otherwise come out alone, unflagged; taking the whole from it made a plain
    # hypo-attenuating IRCADb tumour beside vessels 48 mm for 32.5).
    spacing_yx = volume.spacing_mm[1:]
    plane = win.hu_plane(z0)
    liver_hu = e.liver_hu
    # A dark region holding enhancing tissue took in the rim: its dark part is the core.
    # (Arterial images: the rim's outer edge, which then outlines the whole, is followed there;
    # thin slices: on a slab the core averaged with the rim above and below reads as bright.)
    cut = False
    if ph is Phase.ARTERIAL and volume.spacing_mm[0] < SLAB_MM:
        at = (seed[1] - win.y0, seed[2] - win.x0)
        dark = dark_core(core, plane, liver_hu, e.noise_sd_hu, spacing_yx, at)
        cut, region, core = dark is not core, core, dark
    flag_only = False
    rim = enhancing_rim(plane, core, liver_hu, e.noise_sd_hu, spacing_yx)
    lower = win.hu_liver
    if (rim is None or rim.share < RIM_ENCLOSE_SHARE) and lower is not None and lower < liver_hu:
        # The commonest value may be a darker part of the liver: the rim must also be brighter
        # than the tissue beyond it (issue 11: 05's halo read as a rim against it).
        low = enhancing_rim(plane, core, lower, e.noise_sd_hu, spacing_yx, RIM_BEYOND_MM)
        if low is not None and (rim is None or low.share > rim.share):
            liver_hu, rim, flag_only = lower, low, True
    if rim is None or rim.share < RIM_PARTIAL_SHARE:
        return None
    maybe_core = (
        f"{MAYBE_CORE_NOTE}{by_value.whole.length_mm:.0f} mm, {e.lesion_hu:.0f} HU) "
        f"with enhancing tissue ({rim.rim_hu:.0f} HU, liver {liver_hu:.0f} HU) around "
        f"{100 * rim.share:.0f}% of it: it may be the necrotic core of a larger lesion; check "
        "the contour, or click in the enhancing rim or drag a line across the whole lesion"
    )
    whole = None
    # A rough line reaching well past the dark region on both sides says it is not the whole
    # lesion: a rim broken by a vessel or the surface is then enough (linebound.py).
    enclosed = rim.share >= RIM_ENCLOSE_SHARE or (
        rim.share >= RIM_PARTIAL_SHARE
        and line_says_larger(by_value.whole.length_mm, line_len_mm, LINE_STRICT[0])
    )
    # A line whose ends lie on enhancing tissue past the dark region on both sides: the reader
    # drew the rim as lesion (r01_lineends.py).
    enclosed = enclosed or (
        rim.share >= RIM_PARTIAL_SHARE
        and ph is Phase.ARTERIAL
        and line_ends_on_rim(
            plane,
            core,
            win.line,
            (win.y0, win.x0),
            spacing_yx,
            liver_hu + rim_margin_hu(e.noise_sd_hu),
            liver_hu + RIM_TOP_HU,
        )
    )
    # Past a region that took in tissue as bright as the rim, the rim's value bounds the whole
    # only when the rim is a band with the liver beyond it (neccore_band.py); else the rim's
    # outer edge per ray is followed below.
    band = enclosed and not flag_only
    if (
        band
        and not cut
        and halo_not_rim(
            ph in (Phase.ARTERIAL, Phase.UNKNOWN), plane, core, liver_hu, e.noise_sd_hu, spacing_yx
        )
    ):
        # Off the arterial phase (known), brighter liver round a dark lesion reads as "rim" too:
        # no liver beyond it, the dark region is the lesion (t5p_halorim.py).
        note = HALO_NOTE.format(rim=rim.rim_hu, liver=liver_hu)
        return replace(by_value, flags=(*by_value.flags, note)), False
    if band and cut and not rim_is_band(plane, core, liver_hu, e.noise_sd_hu, spacing_yx):
        band = False
    elif band and cut:
        # A band with the liver beyond it: the bright share was the core's seam, not a leak;
        # the region by value is the core and its rim's value bounds the whole (neccore_band).
        kept = uncut_rim(plane, region, liver_hu, e.noise_sd_hu, spacing_yx)
        if kept is not None:
            core, rim = region, kept
    if band:
        if volume.spacing_mm[0] >= SLAB_MM:
            win.core = _core_and_seam(by_value, win, spacing_yx, (liver_hu + rim.rim_hu) / 2.0)
        # The rim's brightest part is rim, not a vessel; tongues leaving the rim are cut
        # (rimpeak.py).
        margin = rim_margin_hu(e.noise_sd_hu)
        peak = rim_peak(plane, core, liver_hu + margin, spacing_yx)
        rim_lv = _Levels(liver_hu, rim.rim_hu, e.noise_sd_hu, prompt.threshold_offset_hu, True)
        top = rim_lv.vessel_top
        win.rim_peak = rim.rim_hu if peak is None else min(peak, top)
        # The rim's brightness changes from slice to slice: on thin slices each other slice
        # the core reaches gets its own peak, read beside its core (rimpeak.slice_peaks;
        # 05's Im 113-118). Not on slabs: there a slice's band beside the core takes in the
        # partial volume of a neighbour above or below it.
        if volume.spacing_mm[0] < SLAB_MM:
            cores = {
                z: _slice_mask(by_value, win, z)
                for z in range(by_value.offset[0], by_value.offset[0] + by_value.mask.shape[0])
                if z != z0
            }
            win.rim_peaks = slice_peaks(win.hu_plane, cores, liver_hu + margin, top, spacing_yx)
        # From a cut core the whole is cast from the core's middle (neccore_band.core_middle).
        at_core = core_middle(core, seed, win.y0, win.x0, spacing_yx) if cut else seed
        try:
            whole = _delineate(volume, win, prompt, ph, at_core, line_len_mm, rmax, t0, rim.rim_hu)
        except MeasurementError:
            whole = None
        finally:
            win.core = {}
            win.rim_peak = None
            win.rim_peaks = {}

    def holds(m: LesionMeasurement) -> bool:
        # The whole holds the core, is larger than it, and agrees with the line drawn.
        held = _slice_mask(m, win, z0)
        kept = int((core & held).sum()) / max(int(core.sum()), 1)
        larger = held.sum() >= NECROTIC_AREA_RATIO * core.sum()
        fits = line_len_mm is None or (
            LINE_RATIO[0] <= m.whole.length_mm / line_len_mm <= LINE_RATIO[1]
        )
        # Off the arterial phase a rim is thin (RIM_MAX_GROWTH).
        thin = ph in (Phase.ARTERIAL, Phase.UNKNOWN) or (
            m.whole.length_mm <= RIM_MAX_GROWTH * by_value.whole.length_mm
        )
        return kept >= NECROTIC_KEPT_SHARE and larger and fits and thin

    if whole is not None and holds(whole):
        note = (
            f"a dark (necrotic?) core ({by_value.whole.length_mm:.0f} mm, "
            f"{e.lesion_hu:.0f} HU) inside an enhancing rim ({rim.rim_hu:.0f} HU against "
            f"the liver's {liver_hu:.0f} HU, around {100 * rim.share:.0f}% of it): the "
            "whole lesion, core and rim, is measured; check the contour"
        )
        whole = replace(whole, flags=(*whole.flags, note))
        return _viable_not_across_necrosis(volume, win, whole), True
    if rim.share >= RIM_ENCLOSE_SHARE:
        # The rim's value did not give the whole (on a thick noisy slab the rim, averaged with
        # the core and the liver, crosses that value in the liver too and the whole leaks, or
        # it stops in the seam): the lesion's outer border is the rim's outer edge, followed
        # from the core outwards as for a click in the core.
        by_rim = _rim_around_click(volume, win, prompt, ph, seed, rmax, t0, core=core, halo=cut)
        if by_rim is not None and holds(by_rim):
            return by_rim, True
    return replace(by_value, flags=(*by_value.flags, maybe_core)), False


def _rim_context(
    volume: CTVolume,
    m: LesionMeasurement,
    ph: Phase,
    rim_k: float = 2.0,
    core_k: float = 2.0,
    holes: bool = False,
) -> tuple[_Window, float, float, float] | None:
    """For ``m`` on an arterial image holding a dark (necrotic) core inside an enhancing rim
    (both clear of the liver's noise): its window, the liver's value, the rim's value (median
    of its rim pixels, smoothed HU) and the rim margin; None for any other result (off the
    arterial phase, by texture, no core or no rim). The rim must read ``rim_k`` rim margins
    above the liver and the core ``core_k`` below it; with ``holes``, the dark core may also
    lie in a hole of the mask (a region grown by value round it). Read by :func:`_to_rim_edge`
    and :mod:`.n3c_ringtrim`."""
    e = m.evidence
    if ph is not Phase.ARTERIAL or e.texture_sd_hu is not None or m.mask.size == 0:
        return None
    spacing = volume.spacing_mm
    nz, ny, nx = m.mask.shape
    reach = RIMEDGE_REACH_MM + max(ny * spacing[1], nx * spacing[2]) / 2.0
    win = _Window(volume, m.offset[1] + ny // 2, m.offset[2] + nx // 2, reach)
    z0 = m.offset[0]
    liver_hu = e.liver_hu
    margin = rim_margin_hu(e.noise_sd_hu)
    sm = np.stack([_slice_mask_values(win, z, m) for z in range(z0, z0 + nz)])
    held = np.stack([ndimage.binary_fill_holes(k) for k in m.mask]) if holes else m.mask
    dark = held & (sm < liver_hu - margin)
    rim_px = m.mask & (sm > liver_hu + margin) & (sm < liver_hu + RIM_TOP_HU)
    if not dark.any() or rim_px.sum() < RIMEDGE_MIN_RIM_PX:
        return None
    rim_hu = float(np.median(sm[rim_px]))
    # Both steps must stand clear of the liver's noise: the rim's edge is placed half-way
    # between rim and liver, so that half-step must exceed the rim margin (1.5 smoothed noise
    # SDs, >= 15 HU); and necrosis reads as far below the liver. A noisy hypo region flecked
    # with bright noise (IRCADb 04 on 2.5 mm slabs, 30 HU noise) has neither.
    if (
        rim_hu - liver_hu < rim_k * margin
        or float(np.median(sm[dark])) > liver_hu - core_k * margin
    ):
        return None
    return win, liver_hu, rim_hu, margin


def _to_rim_edge(volume: CTVolume, m: LesionMeasurement, ph: Phase) -> LesionMeasurement:
    """``m`` (a lesion on an arterial image holding a dark, necrotic core) widened on each
    slice to its enhancing rim's outer edge, and followed on through the slices where its core
    and rim go on (:mod:`.rimedge_outer`: a whole by the rim's value, or a core's region, stops
    on the graded seam from core to rim). Diameters and the viable part are measured again;
    unchanged when nothing widened, off the arterial phase, or by texture."""
    ctx = _rim_context(volume, m, ph)
    if ctx is None:
        return m
    win, liver_hu, rim_hu, margin = ctx
    z0, nz = m.offset[0], m.mask.shape[0]
    regions = {z: _slice_mask(m, win, z) for z in range(z0, z0 + nz)}
    wide = widen_slices(
        win.hu_plane,
        regions,
        liver_hu,
        rim_hu,
        liver_hu + margin,
        liver_hu - margin,
        volume.spacing_mm[1:],
        volume.shape[0],
        nz,
    )
    if sorted(wide) == sorted(regions) and all((wide[z] == regions[z]).all() for z in regions):
        return m
    zs = sorted(wide)
    empty = np.zeros(win.shape, dtype=bool)
    full = np.stack([wide.get(z, empty) for z in range(zs[0], zs[-1] + 1)])
    sub = ndimage.find_objects(full.view(np.uint8))[0]
    mask = full[sub]
    offset = (zs[0] + sub[0].start, win.y0 + sub[1].start, win.x0 + sub[2].start)
    whole, whole_p = longest_axial_diameter(boundary_points(mask, offset), volume)
    if whole.length_mm <= m.whole.length_mm:
        return m
    # The viable part: the one found before, and the rim added (enhancing by construction).
    viable, viable_p, viable_mask = m.viable, m.viable_perpendicular, m.viable_mask
    if viable_mask is not None:
        before = np.zeros_like(mask)
        old_vm = np.zeros_like(mask)
        at = tuple(o - n for o, n in zip(m.offset, offset, strict=True))
        box = tuple(slice(a, a + k) for a, k in zip(at, m.mask.shape, strict=True))
        before[box] = m.mask
        old_vm[box] = viable_mask
        sm = np.stack([win.hu_plane(z) for z in range(zs[0], zs[-1] + 1)])[sub]
        viable_mask = old_vm | (mask & ~before & (sm > liver_hu + margin))
        if viable_mask.any():
            viable, viable_p = longest_axial_diameter(boundary_points(viable_mask, offset), volume)
    note = (
        f"the whole was widened to the enhancing rim's outer edge (where the rim falls back to "
        f"the liver), {m.whole.length_mm:.1f} -> {whole.length_mm:.1f} mm, on "
        f"{len(zs)} slices ({len(zs) - nz:+d}): check the contour"
    )
    # The viable diameter not across the necrosis (mRECIST) is taken again on the new mask.
    flags = tuple(f for f in m.flags if not f.startswith(VIABLE_AROUND_NOTE))
    out = remasked(
        m, volume, mask, offset, (whole, whole_p), (viable, viable_p, viable_mask), (*flags, note)
    )
    return _viable_not_across_necrosis(volume, win, out)


def _core_and_seam(
    core: LesionMeasurement, win: _Window, spacing_yx: Sequence[float], rim_hu: float
) -> dict[int, np.ndarray]:
    """Per slice, the dark core found by value (``core``'s mask on the window's grid) widened
    by SEAM_MM in-plane through tissue darker than ``rim_hu`` (smoothed HU; the rim is not
    crossed, so the liver beyond a thin rim is not reached): on a slab the seam between core
    and rim, and the parts of the core averaged with the rim above or below it, read as the
    liver; they are lesion when the whole is delineated (:attr:`_Window.core`), so that rays
    from the core do not stop in them and the whole is followed through the slabs where the
    centre reads as the liver (IRCADb 01 given a necrotic core on 5 mm slabs: 63 -> 77 mm for
    78, its whole lost the slab through the core's end)."""
    out: dict[int, np.ndarray] = {}
    steps = max(1, round(SEAM_MM / min(spacing_yx)))
    for k in range(core.mask.shape[0]):
        z = core.offset[0] + k
        m = _slice_mask(core, win, z)
        if m.any():
            out[z] = ndimage.binary_dilation(m, iterations=steps, mask=win.hu_plane(z) < rim_hu)
            out[z] |= m
    return out


def _in_core(win: _Window, z: int, cy: float, cx: float) -> bool:
    """Whether window pixel ``(cy, cx)`` of slice ``z`` is in :attr:`_Window.core`."""
    m = win.core.get(z)
    iy, ix = round(cy), round(cx)
    return m is not None and 0 <= iy < m.shape[0] and 0 <= ix < m.shape[1] and bool(m[iy, ix])


def _rim_around_click(
    volume: CTVolume,
    win: _Window,
    prompt: LesionPrompt,
    ph: Phase,
    seed: tuple[int, ...],
    rmax: float,
    t0: float,
    *,
    refused: bool = False,
    core: np.ndarray | None = None,
    halo: bool = False,
) -> LesionMeasurement | None:
    """The whole lesion around a click whose value is the liver's, or whose region by value
    was refused (``refused``), or that lies in a dark ``core`` found by value (window pixels on
    the click's slice; clicks and lines) whose whole the rim's value did not give, when an
    enhancing rim closes around the click (arterial images; lines only with a ``core``): on thick
    noisy slabs a necrotic core is averaged with the rim above and below it, and the seam
    between core and rim reads as the liver, so that neither the value nor the texture at the
    click finds the lesion; a dark core beside a fissure leaks into its fat; and the rim's value,
    averaged with the liver on a slab, leaks the whole or stops it in the seam.

    The rim is judged (:func:`.necrosis.enhancing_rim`) around the ``core``, else a disk of
    CLICK_CORE_MM at the click, against the commonest value around; when it closes around it
    (RIM_ENCLOSE_SHARE of the directions), the lesion is outlined by the rim's outer edge
    (:func:`_rim_cut`, rays from the core's centre) on the click's slice and on the slices next
    to it while a rim or an enhancing body is found there, and returned flagged when it is as
    deep as a confirmed ring must be (RING_MIN_DEPTH_RATIO of its width) and surrounded by liver
    (OUTSIDE_LIVER_SHARE). None otherwise (the click is refused as before)."""
    if ph is not Phase.ARTERIAL or (prompt.line is not None and core is None):
        return None
    z0 = seed[0]
    spacing = tuple(float(s) for s in volume.spacing_mm)
    spacing_yx = spacing[1:]
    cy, cx = seed[1] - win.y0, seed[2] - win.x0
    nearby = np.stack(
        [win.hu_plane(z) for z in range(max(z0 - 2, 0), min(z0 + 3, volume.shape[0]))]
    )
    sample = nearby[:, ::2, ::2]
    liver_hu = _mode(sample, exclude_near=None)
    if liver_hu is None:
        return None
    noise = robust_sd(sample[np.abs(sample - liver_hu) <= LIVER_BAND_MIN_HU])
    plane = win.hu_plane(z0)
    # The rays start from the core's centre and enter the rim within its farthest edge.
    oy, ox, reach = float(cy), float(cx), CLICK_CORE_MM + RIM_SEARCH_MM
    region = _disk(plane, cy, cx, CLICK_CORE_MM / min(spacing_yx)) if core is None else core
    if core is not None:
        yy, xx = np.nonzero(core)
        oy, ox = float(yy.mean()), float(xx.mean())
        far = np.hypot((yy - oy) * spacing_yx[0], (xx - ox) * spacing_yx[1]).max()
        reach = float(far) + RIM_SEARCH_MM
    rim = enhancing_rim(plane, region, liver_hu, noise, spacing_yx)
    if rim is None or rim.share < RIM_ENCLOSE_SHARE:
        return None
    lv = _Levels(liver_hu, rim.rim_hu, noise, prompt.threshold_offset_hu, mixed=True)
    level = liver_hu + rim_margin_hu(noise)
    # From a core, the rim is thin and the plane smoothed well beyond it: its edge is placed on
    # the less smoothed profiles aligned along it (.rimedge; 2.5 + 1 mm over on each side else).
    sharp = core is not None
    cut = _rim_cut(win, z0, oy, ox, lv, level, reach, sharp)
    if cut is None:
        return None
    # The edge is half-way to the liver measured just outside this first outline (the
    # commonest value of the window may be another lobe's).
    if cut.shell.size:
        lv = replace(lv, liver=float(np.median(cut.shell)))
        cut = _rim_cut(win, z0, oy, ox, lv, level, reach, sharp)
        if cut is None:
            return None
    # Once more from the outline's centre (a click off the core's centre sees the rim
    # obliquely), reaching as far as the outline did.
    ncy, ncx = cut.centre()
    again = _rim_cut(win, z0, ncy, ncx, lv, level, RIM_REACH_FACTOR * float(cut.radii.max()), sharp)
    if again is not None and again.mask[cy, cx]:
        cut = again
    if not cut.mask[cy, cx]:
        return None
    cuts = {z0: cut}
    growth = max(SLICE_GROWTH_MM, 2.0 * spacing[0])
    depth = MAX_Z_RATIO * 2.0 * cut.radius_mm(spacing)
    for step in (1, -1):
        prev, z = cut, z0 + step
        while 0 <= z < volume.shape[0] and abs(z - z0) * spacing[0] <= depth:
            pcy, pcx = prev.centre()
            reach_z = RIM_REACH_FACTOR * float(np.median(prev.radii))
            nxt = _rim_cut(win, z, pcy, pcx, lv, level, reach_z, sharp)
            if nxt is None or nxt.radius_mm(spacing) > prev.radius_mm(spacing) + growth:
                break
            # Beyond the click's slice a lesion narrows: no ray outgrows the one before much.
            cap = ANGULAR_CLIP[1] * prev.radii
            if np.any(nxt.radii > cap):
                nxt.radii = np.minimum(nxt.radii, cap)
                nxt.outline_yx, nxt.mask = _outline(pcy, pcx, nxt.radii, spacing_yx, win.shape)
            if nxt.radius_mm(spacing) < MIN_SLICE_RADIUS_MM:
                break
            cuts[z] = nxt
            prev, z = nxt, z + step
    if len(cuts) * spacing[0] < RING_MIN_DEPTH_RATIO * _max_chord(cut.radii):
        return None  # a lesion is about as deep as it is wide (as a ring must be confirmed)
    shell = np.concatenate([c.shell for c in cuts.values()])
    # From a dark core cut out of a region that took in tissue as bright as the rim (``halo``),
    # the liver just outside the rim may be brighter than the commonest value: it is the liver
    # there (neccore_band.py).
    ref = outside_liver(liver_hu, lv.liver, rim.rim_hu) if halo else liver_hu
    share = float((np.abs(shell - ref) <= lv.band).mean()) if shell.size else 0.0
    if share < OUTSIDE_LIVER_SHARE and not off_liver_kept():
        return None  # not surrounded by liver: a neighbour's wall, not a rim in the liver
    zs = sorted(cuts)
    why = (
        "the region found by value at the click was refused"
        if refused
        else "the click's value is the liver's"
        if core is None
        else "the dark region found by value is a core whose whole the rim's value did not give"
    )
    flags = [
        (
            f"{why}, but enhancing tissue ({rim.rim_hu:.0f} HU against "
            f"the liver's {liver_hu:.0f} HU) closes around it within {reach:.0f} mm, in "
            f"{100 * rim.share:.0f}% of the directions: a necrotic core or its seam with the rim "
            "(thick slices average them); the whole lesion, core and rim, is outlined by the rim's "
            "outer edge; check the contour, or drag a line across the lesion"
        )
    ]
    if len(zs) < MIN_SLICES and volume.shape[0] >= MIN_SLICES:
        flags.append(
            f"seen on {len(zs)} slice(s) of {spacing[0]:.1f} mm only: partial volume with the "
            "tissue above and below blurs its edge; check the contour (thinner slices measure "
            "it better)"
        )
    m = _finish(volume, win, cuts, prompt, lv, share, flags, ph, seed, None, t0)
    return _viable_not_across_necrosis(volume, win, m)


def _rim_cut(
    win: _Window,
    z: int,
    cy: float,
    cx: float,
    lv: _Levels,
    level: float,
    reach_mm: float,
    sharp: bool = False,
) -> _SliceCut | None:
    """The outline on slice ``z`` of a lesion whose rim (or body) enhances, from ``(cy, cx)``
    (window pixels): each ray enters tissue at ``level`` (HU, smoothed RIM_SMOOTH_MM more)
    within ``reach_mm``, peaks within RIM_SEARCH_MM after, and leaves it where it falls below
    half-way between that peak and the lowest value in RIM_SEARCH_MM past it (the liver on
    that side); rays that meet no such tissue, or peak above the ceiling of ``lv`` (a vessel),
    take their neighbours' length. None when fewer than RIM_ENCLOSE_SHARE of the rays end so."""
    sy, sx = win.volume.spacing_mm[1:]
    plane = ndimage.gaussian_filter(win.hu_plane(z), (RIM_SMOOTH_MM / sy, RIM_SMOOTH_MM / sx))
    angles = np.arange(N_RAYS) * (2.0 * math.pi / N_RAYS)
    r = np.arange(0.0, 2.0 * reach_mm + SHELL_MM[1] + RAY_STEP_MM, RAY_STEP_MM)
    ys, xs, inside_win, prof = ray_profiles(plane, cy, cx, angles, r, (sy, sx))
    enter = (prof >= level) & inside_win & (r <= reach_mm)[None, :]
    found = enter.any(axis=1)
    if found.mean() < RIM_ENCLOSE_SHARE:
        return None
    j0 = np.argmax(enter, axis=1)
    after = r[None, :] >= r[j0][:, None]
    # The peak is the rim's top just past its entry (within a rim's width), not a vessel beyond.
    near = after & (r[None, :] <= r[j0][:, None] + RIM_SEARCH_MM)
    peak = np.where(near & inside_win, prof, -np.inf).max(axis=1)
    # Half-way down from the peak to the lowest value just past it on the same ray (the liver
    # there: a heterogeneous liver differs by 10-15 HU from one side of a lesion to the other,
    # as much as a faint rim enhances).
    j_peak = np.argmax(np.where(near & inside_win, prof, -np.inf), axis=1)
    past = (r[None, :] >= r[j_peak][:, None]) & (r[None, :] <= r[j_peak][:, None] + RIM_SEARCH_MM)
    low = np.where(past & inside_win, prof, np.inf).min(axis=1)
    low = np.maximum(np.where(np.isfinite(low), low, lv.liver), lv.liver - lv.band)
    half = low + 0.5 * (peak - low)
    found &= peak <= lv.ceiling  # a vessel's lumen beyond the rim, not the rim
    out = (r[None, :] >= r[j_peak][:, None]) & (
        (prof < half[:, None]) | ~inside_win | (prof < FAT_HU)
    )
    ended = out.any(axis=1)
    edge = r[np.argmax(out, axis=1)]
    ok = found & ended
    if ok.mean() < RIM_ENCLOSE_SHARE:
        return None
    raw = ndimage.map_coordinates(win.hu_plane(z), [ys, xs], order=1, mode="nearest")
    if sharp:
        off = rim_edge_offset(raw[ok], j_peak[ok], RAY_STEP_MM)
        if off is not None:
            edge = np.where(ok, np.minimum(edge, r[j_peak] + off), edge)
    radii = np.where(ok, edge, np.nan)
    idx = np.arange(N_RAYS)
    good = idx[ok]
    radii = np.interp(
        idx, np.concatenate([good - N_RAYS, good, good + N_RAYS]), np.tile(radii[ok], 3)
    )
    radii = _angular_clip(radii)
    radii = np.minimum(radii, MAX_ELONGATION * float(np.median(radii)))
    outline, mask = _outline(cy, cx, radii, (sy, sx), plane.shape)
    shell_sel = _shell(r, radii, inside_win)
    return _SliceCut(z, cy, cx, radii, 0.0, outline, mask, raw[shell_sel])


def _viable_not_across_necrosis(
    volume: CTVolume, win: _Window, m: LesionMeasurement
) -> LesionMeasurement:
    """``m`` (a whole lesion around a necrotic core, arterial) with its viable diameter taken
    as mRECIST measures it, "not across major areas of necrosis": when there is necrosis (tissue
    darker than the liver by the viable margin), the longest axial chord that stays in the
    viable tissue (gaps of CHORD_TOLERANCE_MM crossed), when shorter than the viable diameter
    across it; a note gives both. Unchanged elsewhere."""
    if m.viable is None or m.viable_mask is None or m.viable.length_mm <= 0:
        return m
    e = m.evidence
    margin = max(VIABLE_MIN_ENHANCEMENT_HU, 3.0 * e.noise_sd_hu)
    z0 = m.offset[0]
    sm = np.stack([_slice_mask_values(win, z, m) for z in range(z0, z0 + m.mask.shape[0])])
    necrosis = m.mask & (sm < e.liver_hu - margin)
    if not necrosis.any():
        return m
    chord = longest_chord_within(m.viable_mask, volume.spacing_mm)
    if chord is None or chord[0] >= m.viable.length_mm - CHORD_TOLERANCE_MM:
        return m
    _, k, a, b = chord
    ends = np.array([[k, *a], [k, *b]]) + np.asarray(m.offset, dtype=float)
    viable, _ = longest_axial_diameter(ends, volume)
    note = (
        f"{VIABLE_AROUND_NOTE}: its longest diameter not across "
        f"the necrosis (mRECIST) is {viable.length_mm:.1f} mm, {m.viable.length_mm:.1f} mm "
        "across it; check which the protocol wants"
    )
    return replace(m, viable=viable, flags=(*m.flags, note))


def _slice_mask_values(win: _Window, z: int, m: LesionMeasurement) -> np.ndarray:
    """The smoothed HU of slice ``z`` over the box of ``m``'s mask."""
    y0, x0 = m.offset[1] - win.y0, m.offset[2] - win.x0
    ny, nx = m.mask.shape[1:]
    return win.hu_plane(z)[y0 : y0 + ny, x0 : x0 + nx]


def _slice_mask(m: LesionMeasurement, win: _Window, z: int) -> np.ndarray:
    """Slice ``z`` of a result's mask on the window's grid (empty where the mask is not)."""
    out = np.zeros(win.shape, dtype=bool)
    k = z - m.offset[0]
    if not 0 <= k < m.mask.shape[0]:
        return out
    y0, x0 = m.offset[1] - win.y0, m.offset[2] - win.x0
    src = m.mask[k]
    ys, xs = max(y0, 0), max(x0, 0)
    ye, xe = min(y0 + src.shape[0], win.shape[0]), min(x0 + src.shape[1], win.shape[1])
    if ye > ys and xe > xs:
        out[ys:ye, xs:xe] = src[ys - y0 : ye - y0, xs - x0 : xe - x0]
    return out


class _NoContrast(LiverValue):
    """The prompt's value does not differ from the liver's (texture may still)."""


def _delineate(
    volume: CTVolume,
    win: _Window,
    prompt: LesionPrompt,
    ph: Phase,
    seed: tuple[int, ...],
    line_len_mm: float | None,
    rmax: float,
    t0: float,
    value_hu: float | None = None,
    line_levels: tuple[float, float] | None = None,
) -> LesionMeasurement:
    """Delineate the lesion around ``seed`` in ``win`` (by value, or by texture when
    ``win.texture``) and measure it. ``value_hu`` sets the lesion's value instead of the click's
    (an enhancing rim's around a necrotic core, which is then lesion too on any phase);
    ``line_levels`` the lesion's and the liver's values read along a line (:func:`_line_levels`)."""
    spacing = tuple(float(s) for s in volume.spacing_mm)
    shape = volume.shape
    z0 = seed[0]
    cy, cx = float(seed[1] - win.y0), float(seed[2] - win.x0)
    plane = win.plane(z0)
    px = min(spacing[1:])

    # The lesion's value: at the click, or along the middle of the line.
    if value_hu is not None:
        lesion_hu = value_hu
    elif line_len_mm is not None:
        assert prompt.line is not None
        ends = np.asarray(prompt.line, dtype=float)[:, 1:] - [win.y0, win.x0]
        t = np.linspace(0.3, 0.7, 25)[:, None]
        pts = ends[0] + t * (ends[1] - ends[0])
        lesion_hu = float(np.median(ndimage.map_coordinates(plane, pts.T, order=1)))
    else:
        lesion_hu = float(np.median(plane[_disk(plane, cy, cx, SEED_DISK_MM / px)]))
    # The liver's value: the commonest soft-tissue value around, other than the lesion's.
    nearby = np.stack([win.plane(z) for z in range(max(z0 - 2, 0), min(z0 + 3, shape[0]))])
    sample = nearby[:, ::2, ::2]
    if win.texture:
        sample = sample[sample > 0]  # vessels and fat are left out of the texture
    liver_hu = _mode(sample, exclude_near=lesion_hu)
    if line_levels is not None:
        lesion_hu, liver_hu = line_levels
    if not win.texture:
        win.hu_liver = liver_hu
    if liver_hu is None or (lesion_hu <= FAT_HU and not win.texture):
        raise MeasurementError(
            f"No lesion at voxel {seed}: the click is on fat or air ({lesion_hu:.0f} HU) or "
            "there is no soft tissue around it. Click inside a liver lesion."
        )
    common = _mode(sample, exclude_near=None)
    if (
        common is not None
        and abs(common - lesion_hu) < SEED_EXCLUSION_HU
        and line_len_mm is None
        and not win.texture
    ):
        raise _NoContrast(
            f"No lesion at voxel {seed}: its value ({lesion_hu:.0f} HU) is the commonest one "
            f"within {rmax:.0f} mm (the liver?). Click inside a lesion, or drag a line across it."
        )
    noise0 = robust_sd(sample[np.abs(sample - liver_hu) <= LIVER_BAND_MIN_HU])
    lv = _Levels(
        liver_hu,
        lesion_hu,
        noise0,
        prompt.threshold_offset_hu,
        mixed=(ph is Phase.ARTERIAL or value_hu is not None) and not win.texture,
        texture=win.texture,
        peak=win.rim_peak if value_hu is not None else None,
    )
    if win.texture and not (
        lv.liver > 0
        and common is not None
        and lv.lesion >= TEXTURE_MIN_RATIO * max(lv.liver, common)
    ):
        raise MeasurementError(f"No texture contrast at voxel {seed}.")
    if abs(lv.lesion - lv.liver) < MIN_CONTRAST_HU:
        raise _NoContrast(
            f"No lesion at voxel {seed}: it ({lesion_hu:.0f} HU) does not differ from the liver "
            f"around it ({liver_hu:.0f} HU). Click inside the lesion, or drag a line across it."
        )

    # Where the lesion's centre is on the click's slice: the centre of the outline seen from the
    # click (a click near the edge sees the far side through long rays).
    first = _cast(win, z0, cy, cx, lv, rmax, centred=False)
    ncy, ncx = first.centre()
    at = float(np.median(plane[_disk(plane, ncy, ncx, SEED_DISK_MM / px)]))
    if _lesion_at(plane, lv, ncy, ncx, at, spacing[1:]):
        cy, cx = ncy, ncx
    # Two passes on the click's slice: the second with the liver measured around the outline.
    cut = _cast(win, z0, cy, cx, lv, rmax)
    lv2, share, settled = _levels_from_shell(cut, plane, lv)
    # A texture outline on slabs: the lesion's level where the window is all lesion (t4s_texlevel).
    lv2 = raise_texture_level(
        lv2, cut.mask, plane, spacing, SLAB_MM, TEXTURE_SIGMA_MM, ph is Phase.ARTERIAL
    )
    if abs(lv2.lesion - lv2.liver) >= MIN_CONTRAST_HU and lv2.sign == lv.sign:
        lv = lv2
        cut = _cast(win, z0, cy, cx, lv, rmax)
        _, share, _ = _levels_from_shell(cut, plane, lv)
    else:
        settled = False
    # Again from the outline's centre (rays from an off-centre click see the far side
    # obliquely), when that centre is lesion tissue, until the centre settles: the rays of a
    # click on a mottled lesion's margin stop at its liver-like specks and the outline creeps
    # towards the middle (w10-slab: IRCADb 03 in 5 mm slabs, 49 -> 117 -> 214 px in 3 casts).
    # A line's middle is the reader's centre: once, as before.
    for k in range(RECENTRE_CASTS if line_len_mm is None else 1):
        ncy, ncx = cut.centre()
        moved = math.hypot((ncy - cut.cy) * spacing[1], (ncx - cut.cx) * spacing[2])
        if k and moved < RECENTRE_MM:
            break
        at = float(np.median(plane[_disk(plane, ncy, ncx, SEED_DISK_MM / px)]))
        if not _lesion_at(plane, lv, ncy, ncx, at, spacing[1:]):
            break
        cut = _cast(win, z0, ncy, ncx, lv, rmax)
    if line_len_mm is None and value_hu is None and not win.texture and not off_liver_kept():
        # The outline must still hold the click (driftclick.py); not when the region is wanted
        # for its shape only (offliver.from_cap looks beyond its open end).
        check_click(cut.mask, float(seed[1] - win.y0), float(seed[2] - win.x0), spacing[1:], seed)
    if abs(lv.lesion - lv.liver) < MIN_CONTRAST_HU:
        raise _NoContrast(
            f"No lesion at voxel {seed}: the region around it ({lv.lesion:.0f} HU) does not "
            f"differ from the liver around it ({lv.liver:.0f} HU). Click inside the lesion, or "
            "drag a line across it."
        )

    in_rim = False
    if lv.mixed and lv.sign > 0 and not lv.texture and value_hu is None:
        # A click in an enhancing rim around a necrotic core: as for the whole from the core,
        # the rim's own bright part is rim, and tongues leaving it are cut (rimpeak.py).
        margin = rim_margin_hu(lv.noise)
        core = core_in_rim(cut.mask, plane, lv.liver - margin, spacing[1:])
        peak = None if core is None else rim_peak(plane, core, lv.liver + margin, spacing[1:])
        if peak is not None:
            lv = replace(lv, peak=min(peak, lv.vessel_top))
            cut = _cast(win, z0, cut.cy, cut.cx, lv, rmax)
            in_rim = True

    # Follow the lesion through the slices from the outline's centre.
    flags: list[str] = []
    cuts = {z0: cut}
    growth = max(SLICE_GROWTH_MM, 2.0 * spacing[0])
    widest = cut.radius_mm(spacing)
    lv_click = lv
    beyond_end: dict[int, float | None] = {}  # the centre's value on the slab past each end
    relevelled: tuple[int, float, float] | None = None  # (slice, value before, after)
    # A necrotic core (a dark click, the rim counting as lesion) ends before its lesion does:
    # past it, the rim-only cap narrows (rimcap.py).
    dark_core = lv.mixed and lv.sign < 0 and not lv.texture
    for step in (1, -1):
        prev = cut
        lv = lv_click
        past_core = False
        z = z0 + step
        while 0 <= z < shape[0]:
            beyond_end[step] = None
            if abs(z - z0) * spacing[0] > MAX_Z_RATIO * 2.0 * widest:
                flags.append(
                    f"{RUNS_ON_FLAG} beyond "
                    f"{slice_name(win.volume, z - step)} (more than "
                    f"{MAX_Z_RATIO:g} times its width from the click): a vessel or an organ? it "
                    "was stopped there; check the slices above and below"
                )
                break
            ncy, ncx = prev.centre()
            p = win.plane(z)
            r_prev = prev.radius_mm(spacing)
            at = _seed_value(win, z, prev)
            beyond_end[step] = at
            lv_slab = _slab_levels(lv, at, spacing[0])
            pending = None if lv_slab is lv else (z, lv.lesion, at)
            lv = lv_slab
            if not lv.lesion_side(np.asarray(at), lv.threshold) and not _in_core(win, z, ncy, ncx):
                break
            nxt = _cast_next(win, z, prev, lv, rmax, growth)
            r_next = nxt.radius_mm(spacing)
            if r_next < MIN_SLICE_RADIUS_MM:
                break
            like = np.abs(nxt.shell - lv.liver) <= lv.band
            if nxt.shell.size and like.mean() < SLICE_LIVER_SHARE:
                break  # the lesion's end: this slice's outline lies outside the liver
            if dark_core and past_core and cap_widens(r_next, r_prev):
                break  # brighter liver beyond the core's cap, not the lesion
            if r_next > r_prev + growth:
                flags.append(
                    f"the region widens abruptly on {slice_name(win.volume, z)} ({r_prev:.0f} to "
                    f"{r_next:.0f} mm "
                    "radius): a neighbouring structure? it was stopped there; check the slices "
                    "above and below"
                )
                break
            cuts[z] = nxt
            past_core = past_core or (dark_core and core_gone(p[nxt.mask], lv.threshold))
            beyond_end[step] = None
            relevelled = relevelled or pending
            widest = max(widest, r_next)
            prev = nxt
            z += step

    lv = lv_click
    zs = sorted(cuts)
    # Through the slices too, a ray may not reach far beyond the same ray on the slices next to it
    # (a one-slice leak into a vessel or a neighbour).
    if len(zs) >= 3:
        radii = np.stack([cuts[z].radii for z in zs])
        padded = np.concatenate([radii[:1], radii, radii[-1:]])
        nb = np.median(np.stack([padded[:-2], padded[1:-1], padded[2:]]), axis=0)
        capped = np.minimum(radii, ANGULAR_CLIP[1] * nb + growth / 2.0)
        for k, z in enumerate(zs):
            if np.any(capped[k] < radii[k]):
                c = cuts[z]
                c.radii = capped[k]
                c.outline_yx, c.mask = _outline(c.cy, c.cx, c.radii, spacing[1:], win.shape)
    if spacing[0] >= SLAB_MM and len(zs) >= MIN_SLICES:
        for end, inner, step in ((zs[0], zs[1], -1), (zs[-1], zs[-2], 1)):
            past = beyond_end.get(step)
            if end != z0 and past is not None and abs(past - lv.liver) > lv.band:
                _cap_within(cuts[end], cuts[inner], spacing[1:], win.shape)
    shell = np.concatenate([cuts[z].shell for z in zs])
    like = np.abs(shell - lv.liver) <= lv.band
    share = float(like.mean()) if shell.size else 0.0
    if share < REFUSE_LIVER_SHARE and not off_liver_kept():
        raise OffLiver(
            f"The region grown from voxel {seed} is not surrounded by liver (only "
            f"{100 * share:.0f}% of its surroundings look like the parenchyma at "
            f"{lv.liver:.0f} HU): it is not a liver lesion, or it leaked. Click inside the "
            "lesion, or drag a line across it."
        )
    inside = None
    if share < OUTSIDE_LIVER_SHARE and not win.texture:
        plane0, sp_yx = win.plane(z0), win.volume.spacing_mm[1:]
        liver_est = _liver_estimate(plane0, lv, sp_yx)
        m0 = cuts[z0].mask
        # In the liver only at a dark level's wide band (an organ on the liver's surface read
        # as liver and engulfed): judged at the liver's own narrow band (narrow_liver.py).
        liver_est = narrow_estimate(
            m0,
            liver_est,
            lv.band,
            LIVER_BAND_MIN_HU,
            OUTSIDE_LIVER_INSIDE,
            lambda band: _liver_estimate(plane0, lv, sp_yx, band=band),
        )
        inside = float((m0 & liver_est).sum() / max(int(m0.sum()), 1))
        if inside < OUTSIDE_LIVER_INSIDE and ph is Phase.ARTERIAL and lv.mixed:
            # A necrotic tumour replacing the liver's surface (a rim or core read with the
            # necrosis or rim beside it, lv.mixed): its enhancing rim and the core the rim and
            # the liver enclose are in the liver (wallrim.py). Not a plain bright region: the
            # kidney's enhancing upper pole sits in the liver's renal impression.
            liver_est = liver_with_rim(
                win.plane(z0), liver_est, lv.liver, lv.noise, win.volume.spacing_mm[1:]
            )
            inside = float((m0 & liver_est).sum() / max(int(m0.sum()), 1))
        # A region on a level settled off the window's (shell_settle.py) lying outside the liver
        # is not let through by its ends or its body when the region on the window's own level
        # is refused as not in the liver: that refusal stands (sst_inliver.py).
        kept = off_liver_kept()
        strict = (
            not kept
            and outside_settled(settled, inside, line_len_mm is None, OUTSIDE_LIVER_INSIDE)
            and refusal_stands(
                lambda: _delineate(
                    volume, win, prompt, ph, seed, line_len_mm, rmax, t0, value_hu, line_levels
                )
            )
        )
        capped = inside >= OUTSIDE_LIVER_INSIDE or _capped_by_liver(win, cuts, lv)
        through = not strict and (capped or _line_in_liver(liver_est, win))
        if not through and not kept:
            body = None if strict else _in_liver_by_body(win, cuts, lv, z0)
            if body is None:
                raise NotInLiver(
                    f"The click at voxel {seed} is not in the liver: the region found there lies "
                    f"outside the liver estimated from the image (only {100 * inside:.0f}% of it "
                    f"inside, {100 * share:.0f}% of its surroundings like the parenchyma at "
                    f"{lv.liver:.0f} HU): a neighbouring organ (kidney, bowel, spleen?), or a "
                    "region that left the liver. Click inside a liver tumour, nearer its middle, "
                    "or drag a line across it."
                )
            # The liver around its body is another value (liverbody.py): it is in the liver.
            capped = True
            flags.append(BODY_NOTE.format(body=body, click=lv.liver))
    if inside is not None and inside < OUTSIDE_LIVER_INSIDE:
        flags.append(
            f"only {100 * inside:.0f}% of it lies in the liver outlined on "
            f"{slice_name(win.volume, z0)}, though "
            + (
                "it ends inside the liver"
                if capped
                else "the line drawn across it lies partly in the liver"
            )
            + ": a tumour bulging from the liver's surface? check that it is not a neighbouring "
            "organ"
        )
    contrast = lv.lesion - lv.liver
    if not win.texture and low_contrast(contrast, lv.noise):
        flags.append(
            f"low contrast: lesion {lv.lesion:.0f} HU against liver {lv.liver:.0f} HU "
            f"(difference {abs(contrast):.0f} HU, noise {lv.noise:.1f} HU); check the contour, "
            "tighten or loosen the threshold"
        )
    dark_side = cuts[z0].beside_dark
    if dark_side >= BESIDE_DARK_SHARE:
        flags.append(
            f"{100 * dark_side:.0f}% of its rays on {slice_name(win.volume, z0)} ended at darker "
            "tissue beyond the liver (muscle, bowel?), not at the liver: at the liver's surface; "
            "check the contour there"
        )
    if share < SURFACE_LIVER_SHARE:
        flags.append(
            f"only {100 * share:.0f}% of the lesion's surroundings look like liver: at the liver "
            "surface or next to another structure; check the contour there"
        )
    areas = [int(cuts[z].mask.sum()) for z in zs]
    widest_z = zs[int(np.argmax(areas))]
    open_end = (widest_z == zs[0] and zs[0] > 0) or (widest_z == zs[-1] and zs[-1] < shape[0] - 1)
    if relevelled is not None:
        flags.append(
            f"the lesion reads {relevelled[2]:.0f} HU on {slice_name(volume, relevelled[0])} "
            f"against {relevelled[1]:.0f} HU at the click: the click's slab holds its end, "
            "averaged with the tissue beyond (partial volume); its value was re-measured there. "
            "Check the contour, or click on its largest slice"
        )
    if len(zs) < MIN_SLICES and shape[0] >= MIN_SLICES:
        flags.append(
            f"seen on {len(zs)} slice(s) of {spacing[0]:.1f} mm only: partial volume with the "
            "tissue above and below blurs its edge; check the contour (thinner slices measure "
            "it better)"
        )
    if len(zs) > 1 and open_end:
        flags.append(
            f"{OPEN_END_FLAG} ({slice_name(volume, widest_z)}): the "
            "lesion probably goes on "
            "beyond it; click nearer its middle, or drag a line across it on its largest slice"
        )
    limit = max(cuts[z].at_limit for z in zs)
    if limit > LIMIT_RAYS_SHARE:
        flags.append(
            f"the region reaches the {rmax:.0f} mm {SEARCH_LIMIT} on {100 * limit:.0f}% of its "
            "rays: it may have leaked, or the lesion is larger; drag a line across the lesion"
        )
    disk = line_disk(win.line, spacing, (win.y0, win.x0))
    trim_mm = None
    if win.rim_peak is not None or in_rim:
        trim_mm = RIM_TRIM_RADIUS_MM  # a necrotic lesion's whole from its rim (rimpeak.py)
    elif win.texture or percolates(contrast, lv.noise, ph is Phase.ARTERIAL) or tongues_past(disk):
        trim_mm = TRIM_RADIUS_MM
    if trim_mm is not None:
        # A tongue narrower than the texture window is a vessel's fringe, not the nodule's; a
        # faint enhancing region's tongues are the liver's noise passing its threshold; past a
        # rough line's reach only the lesion's body goes on (linebound.py).
        for z, c in cuts.items():
            r = trimmed_radii(c.radii, c.cy, c.cx, c.mask, spacing[1:], trim_mm)
            if r is not None:
                # Not back inside the lesion a rough line says is there (linebound.py).
                # A texture outline's edge is spread by its window: the line does not bound it.
                r = bounded_by_line(
                    c.radii, r, c.cy, c.cx, spacing[1:], None if win.texture else disk
                )
                if disk is not None and not win.texture:
                    # A lesion's own pointed end past the line's reach (taper_tip.py).
                    r = keep_taper(
                        c.radii, r, c.cy, c.cx, c.mask, win.plane(z), spacing[1:],
                        lv.threshold, lv.lesion, lv.liver,
                    )  # fmt: skip
                outline, mask = _outline(c.cy, c.cx, r, spacing[1:], win.shape)
                cuts[z] = replace(c, radii=r, outline_yx=outline, mask=mask)
    if prompt.line is not None and line_len_mm is not None and lv.sign > 0 and not win.texture:
        _past_bay(win, cuts, prompt, lv, rmax)
    m = _finish(volume, win, cuts, prompt, lv, share, flags, ph, seed, line_len_mm, t0)
    if relevelled is None or relevelled[0] not in cuts or win.texture:
        return m
    # Where the lesion reads its own value: a re-click there (slb_brightslab.py).
    cy_r, cx_r = cuts[relevelled[0]].centre()
    at = (relevelled[0], round(cy_r) + win.y0, round(cx_r) + win.x0)
    return replace(m, evidence=replace(m.evidence, brighter_slab=at))


def _seed_value(win: _Window, z: int, prev: _SliceCut) -> float:
    """The median of slice ``z`` over the seed disk at the centre of the slice before's outline
    ``prev``: the value the next slice of :func:`_delineate`'s loop is judged and cast by."""
    spacing = win.volume.spacing_mm
    ncy, ncx = prev.centre()
    p = win.plane(z)
    r = min(SEED_DISK_MM, prev.radius_mm(spacing)) / min(spacing[1:])
    return float(np.median(p[_disk(p, ncy, ncx, r)]))


def _cast_next(
    win: _Window, z: int, prev: _SliceCut, lv: _Levels, rmax: float, growth: float
) -> _SliceCut:
    """Slice ``z``'s outline cast from the centre of the slice before's ``prev``, each ray
    capped near the same ray before it: away from the click a ray may not outgrow its
    predecessor by much (at a lesion's ends partial volume opens gaps the rays would slip
    through)."""
    spacing = win.volume.spacing_mm
    ncy, ncx = prev.centre()
    nxt = _cast(win, z, ncy, ncx, lv, rmax)
    cap = ANGULAR_CLIP[1] * prev.radii + growth / 2.0
    if np.any(nxt.radii > cap):
        nxt.radii = np.minimum(nxt.radii, cap)
        nxt.outline_yx, nxt.mask = _outline(ncy, ncx, nxt.radii, spacing[1:], win.shape)
    return nxt


def _past_bay(
    win: _Window, cuts: dict[int, _SliceCut], prompt: LesionPrompt, lv: _Levels, rmax: float
) -> None:
    """Join to the line's slice the enhancing lesion its line runs on through past the
    outline's edge (a bay the rays stopped at; :mod:`.linebay`)."""
    if prompt.line is None:
        return
    z0 = round((prompt.line[0][0] + prompt.line[1][0]) / 2.0)
    if z0 not in cuts:
        return
    c = cuts[z0]
    spacing_yx = tuple(float(s) for s in win.volume.spacing_mm[1:])
    ends = np.asarray(prompt.line, dtype=float)[:, 1:] - [win.y0, win.x0]

    def cast(cy: float, cx: float, reach: float) -> tuple[np.ndarray, np.ndarray]:
        part = _cast(win, z0, cy, cx, lv, min(reach, rmax))
        return part.outline_yx, part.mask

    parts = beyond_bay(
        win.plane(z0),
        c.mask,
        ends,
        spacing_yx,
        lv.threshold,
        lv.ceiling,
        cast,
        lambda v: np.abs(v - lv.liver) <= lv.band,
        SHELL_MM,
    )
    if parts:
        cuts[z0] = replace(
            c,
            outline_yx=np.concatenate([c.outline_yx, *(o for o, _ in parts)]),
            mask=np.logical_or.reduce([c.mask, *(m for _, m in parts)]),
        )


def _slab_levels(lv: _Levels, at_hu: float, slice_mm: float) -> _Levels:
    """The levels for the next slice of a lesion followed through thick slices, whose centre
    reads ``at_hu`` (smoothed HU).

    A slab is the mean of the tissue it spans: clicked on a lesion's end slab, the lesion's
    value is diluted by the liver above or below it (a fraction f of the contrast), and the
    slab nearer the lesion's middle reads a stronger contrast, beyond the floor (or ceiling)
    derived from the diluted value, which would end the lesion there. When the centre of the
    next slice lies on the lesion's side of its value by more than the noise, with a clearly
    stronger contrast (and short of fluid, or of the brightest value a hyper-enhancing part may
    have), the lesion's value is taken from that slice onwards. On slices thinner than SLAB_MM
    (partial volume with the next slice is small) the levels are kept.
    """
    if lv.texture or slice_mm < SLAB_MM:
        return lv
    beyond = lv.sign * (at_hu - lv.lesion)
    if beyond <= SLAB_NOISE_K * lv.noise or lv.lesion_side(np.asarray(at_hu), lv.threshold):
        return lv
    if abs(at_hu - lv.liver) < SLAB_DILUTION * abs(lv.lesion - lv.liver):
        return lv
    if lv.sign < 0 and at_hu <= FLUID_HU:
        return lv
    if lv.sign > 0 and at_hu >= lv.vessel_top:
        return lv
    return replace(lv, lesion=at_hu)


def _cap_within(
    cap: _SliceCut, inner: _SliceCut, spacing_yx: Sequence[float], shape: Sequence[int]
) -> None:
    """Hold the outline of a lesion's end slab (``cap``) within the outline of the slab next to
    it inside the lesion (``inner``), ray by ray from the cap's centre.

    Used where the slab past the end is not liver: a thick slab at a lesion's end then averages
    its cap with that neighbour (the gallbladder under it) to lesion-like values wider than the
    lesion, while the cap's cross-section is smaller than the slab's inside it. (Where the
    lesion ends in liver, its end slab is only diluted, and may be its widest when the region
    was not followed to the lesion's real end.) Rays starting outside ``inner`` are left
    alone."""
    sy, sx = spacing_yx
    iy, ix = round(cap.cy), round(cap.cx)
    if not (0 <= iy < shape[0] and 0 <= ix < shape[1] and inner.mask[iy, ix]):
        return
    angles = np.arange(N_RAYS) * (2.0 * math.pi / N_RAYS)
    r = np.arange(0.0, float(cap.radii.max()) + RAY_STEP_MM, RAY_STEP_MM)
    ys = cap.cy + np.outer(np.sin(angles), r) / sy
    xs = cap.cx + np.outer(np.cos(angles), r) / sx
    hit = ndimage.map_coordinates(inner.mask.view(np.uint8), [ys, xs], order=0, cval=0) > 0
    out = ~hit
    inner_r = np.where(out.any(axis=1), r[np.argmax(out, axis=1)], r[-1])
    if np.all(cap.radii <= inner_r):
        return
    cap.radii = np.minimum(cap.radii, inner_r)
    cap.outline_yx, cap.mask = _outline(cap.cy, cap.cx, cap.radii, spacing_yx, shape)


def viable_part(
    volume: CTVolume,
    mask: np.ndarray,
    offset: Sequence[int],
    smoothed: np.ndarray,
    threshold_hu: float,
) -> tuple[Diameter, Diameter, np.ndarray]:
    """The viable (arterially enhancing) part of a lesion ``mask`` (a box of ``volume`` at
    ``offset``): its voxels whose ``smoothed`` HU (the same box) lie above ``threshold_hu`` and
    below VIABLE_MAX_HU, in pieces of at least MIN_VIABLE_ML (an enhancing speck is noise), with
    its longest axial diameter and perpendicular (empty when there is none) and its mask. The
    one rule for every delineation and its 3-D refinement (:mod:`.refine`)."""
    vm = mask & (smoothed > threshold_hu) & (smoothed < VIABLE_MAX_HU)
    if vm.any():
        lab, _ = ndimage.label(vm, _FACES)
        sizes = np.bincount(lab.ravel())[1:] * Geometry.of(volume).voxel_volume_ml
        vm = np.concatenate([[False], sizes >= MIN_VIABLE_ML])[lab]
    if not vm.any():
        return Diameter.empty(), Diameter.empty(), vm
    viable, viable_p = longest_axial_diameter(boundary_points(vm, offset), volume)
    return viable, viable_p, vm


def _finish(
    volume: CTVolume,
    win: _Window,
    cuts: dict[int, _SliceCut],
    prompt: LesionPrompt,
    lv: _Levels,
    share: float,
    flags: list[str],
    phase: Phase,
    click: tuple[int, int, int],
    line_len_mm: float | None,
    t0: float,
) -> LesionMeasurement:
    """Assemble the mask, measure the outlines (and the viable part on arterial images) and
    check the result's plausibility."""
    zs = sorted(cuts)
    full = np.zeros((zs[-1] - zs[0] + 1, *win.shape), dtype=bool)
    for z in zs:
        full[z - zs[0]] = cuts[z].mask
    for pt in prompt.include:
        z, y, x = pt
        if zs[0] <= z <= zs[-1] and win.y0 <= y < win.y1 and win.x0 <= x < win.x1:
            full[
                z - zs[0],
                max(y - win.y0 - 1, 0) : y - win.y0 + 2,
                max(x - win.x0 - 1, 0) : x - win.x0 + 2,
            ] = True
    for z in zs:
        if z in win.exclude:
            full[z - zs[0]] &= ~win.exclude[z]
    if not full.any():
        if prompt.exclude:
            raise MeasurementError(f"No lesion left at voxel {click} after the exclude strokes.")
        raise MeasurementError(
            f"No region found at voxel {click}: every ray left the lesion at once (a speck or "
            "the edge of a lesion?). Click in the lesion's bulk, or drag a line across it."
        )
    sub = ndimage.find_objects(full.view(np.uint8))[0]
    mask = full[sub]
    offset = (zs[0] + sub[0].start, win.y0 + sub[1].start, win.x0 + sub[2].start)

    # Diameters from the outlines (sub-pixel) where no stroke changed the mask, else its edges.
    if prompt.include or prompt.exclude:
        pts = boundary_points(mask, offset)
    else:
        pts = np.concatenate(
            [
                np.column_stack(
                    [
                        np.full(len(cuts[z].outline_yx), float(z)),
                        cuts[z].outline_yx + np.array([win.y0, win.x0]),
                    ]
                )
                for z in zs
            ]
        )
    whole, whole_p = longest_axial_diameter(pts, volume)
    if whole.length_mm < MIN_DIAMETER_MM:
        raise Speck(
            f"The region found at voxel {click} is only {whole.length_mm:.1f} mm across: the "
            "click is on a speck (a vessel or a bright or dark spot inside a lesion?). Click in "
            "the lesion's bulk, or drag a line across the lesion."
        )
    voxel_ml = Geometry.of(volume).voxel_volume_ml
    volume_ml = float(mask.sum()) * voxel_ml

    if whole.slice_index is not None:
        solidity = _solidity(mask[whole.slice_index - offset[0]])
        if solidity < MIN_SOLIDITY:
            flags.append(
                f"irregular outline (area {100 * solidity:.0f}% of its convex hull on the "
                "diameter's slice): a leak into a vessel or a neighbour, or two lesions; check "
                "the contour, or drag a line across the lesion"
            )
    if whole.slice_index is not None and whole.slice_index in cuts:
        # A diameter the slices next to it do not come near is a one-slice leak or a vessel.
        z = whole.slice_index
        chords = {k: _max_chord(cuts[k].radii) for k in (z - 1, z + 1) if k in cuts}
        if chords and max(chords.values()) < SLICE_JUMP * _max_chord(cuts[z].radii):
            flags.append(
                f"the diameter's slice ({slice_name(volume, z)}) reaches {whole.length_mm:.0f} mm "
                "but the slices next "
                f"to it only {max(chords.values()):.0f} mm: a leak on that slice? check it"
            )
        if whole_p.length_mm < MIN_ASPECT * whole.length_mm:
            flags.append(
                f"tube-like outline ({whole.length_mm:.0f} x {whole_p.length_mm:.0f} mm): a vessel "
                "or a leak along one? check the contour"
            )
        r_eq = 2.0 * cuts[z].radius_mm(volume.spacing_mm)
        if r_eq > 0 and whole.length_mm > MAX_ELONGATION * r_eq:
            flags.append(
                f"elongated outline ({whole.length_mm:.0f} mm long for the area of a "
                f"{r_eq:.0f} mm disk): a leak into a vessel or a neighbour? check the contour"
            )
    if line_len_mm is not None and line_len_mm > 0:
        ratio = whole.length_mm / line_len_mm
        if not LINE_RATIO[0] <= ratio <= LINE_RATIO[1]:
            flags.append(_line_disagreement(whole.length_mm, line_len_mm))

    hu = lv
    if win.texture:
        hu = _hu_levels(win, cuts, lv)
        flags.append(
            f"delineated by texture: its mean value ({hu.lesion:.0f} HU) equals the liver's "
            f"({hu.liver:.0f} HU) but it is heterogeneous (local SD {lv.lesion:.0f} against "
            f"{lv.liver:.0f} HU in the liver); check the contour, or drag a line across it"
        )
    if hu.sign > 0 and phase is not Phase.ARTERIAL and not win.texture:
        # (A region by texture is flagged so already; its mean a few HU over the liver's is no
        # vessel's: issue 11, w8-flags.)
        flags.append(
            "hyper-attenuating on a "
            + ("non-arterial" if phase is not Phase.UNKNOWN else "phase-unknown")
            + " image, like contrast-filled vessels: check that it is not a vessel"
        )
    if hu.sign > 0 and phase is Phase.ARTERIAL and not win.texture:
        # a vessel crossing the slices, or one running on beyond the region (issue 11)
        tube = vessel_flag(volume, mask, offset, (hu.liver, hu.lesion))
        if tube:
            flags.append(tube)
    viable = viable_p = None
    viable_mask = None
    viable_thr = None
    reason = ""
    if phase is Phase.ARTERIAL:
        viable_thr = hu.liver + max(VIABLE_MIN_ENHANCEMENT_HU, 3.0 * hu.noise)
        sm = np.stack([win.hu_plane(z) for z in range(zs[0], zs[-1] + 1)])[sub]
        viable, viable_p, viable_mask = viable_part(volume, mask, offset, sm, viable_thr)
    elif phase is Phase.UNKNOWN:
        reason = (
            "viable (arterially enhancing) tissue is measured only on an arterial-phase image; "
            "the phase was not given: state it (phase='arterial') to measure it"
        )
    else:
        reason = (
            "viable (arterially enhancing) tissue is measured only on an arterial-phase image; "
            f"this image is {phase.value.replace('_', '-')}"
        )
    spacing = volume.spacing_mm
    evidence = LesionEvidence(
        liver_hu=hu.liver,
        lesion_hu=hu.lesion,
        threshold_hu=hu.threshold,
        contrast_hu=hu.lesion - hu.liver,
        noise_sd_hu=hu.noise,
        liver_share=share,
        box_mm=(
            len(cuts) * spacing[0],
            win.shape[0] * spacing[1],
            win.shape[1] * spacing[2],
        ),
        viable_threshold_hu=viable_thr,
        texture_sd_hu=(lv.lesion, lv.liver) if win.texture else None,
        texture_noise_sd_hu=lv.noise if win.texture else 0.0,
    )
    return LesionMeasurement(
        whole=whole,
        whole_perpendicular=whole_p,
        viable=viable,
        viable_perpendicular=viable_p,
        viable_reason=reason,
        mask=mask,
        viable_mask=viable_mask,
        offset=tuple(int(v) for v in offset),  # type: ignore[arg-type]
        volume_ml=volume_ml,
        seed_voxel=click,
        phase=phase,
        flags=tuple(flags),
        evidence=evidence,
        time_s=time.perf_counter() - t0,
    )


# ---------------------------------------------------------------------------------------------
# A rough line: the reader's strong prompt (issue 11, w9-line)

LINE_INSIDE_T = (0.3, 0.7)
"""The lesion's value along a line: the median of its middle part (as a fraction of its length)."""
LINE_OUTSIDE_MM = (3.0, 9.0)
"""The liver's value along a line: the median of the soft tissue this far (mm) beyond the point
where the lesion's border may lie at most, LINE_BORDER_SLACK of the line past each end (a line
drawn 20 % short leaves the border 12.5 % of its length past each end; its ends may also be
off by 3 mm, which the first millimetres of this range cover)."""
LINE_BORDER_SLACK = 0.15
LINE_DISAGREES = "times the line drawn"
"""In the flag of a diameter that disagrees with the line (:func:`_line_disagreement`)."""
SEARCH_LIMIT = "search limit"
"""In the flag of a region whose rays ran to the search limit (a leak, for a line's result)."""
LINE_STRICT = (0.7, 1.4)
"""A result agrees with a rough line when its diameter is within these multiples of the line's
length (a reader's line is within 10-20 % of the lesion's longest diameter, its ends within a
few millimetres of the border); outside them the other delineations are tried, and a result
outside them is flagged."""


def _line_levels(
    win: _Window, prompt: LesionPrompt, line_len_mm: float
) -> tuple[float, float] | None:
    """The lesion's and the liver's values (smoothed HU) read along a rough line ``(z, y, x)``
    on its middle slice: the lesion's in the middle of the line, the liver's beyond its ends
    (soft tissue only; of the two sides, the one nearer the commonest value around when they
    differ by more than the liver's band). None when the line leaves the window or the two do not
    differ by MIN_CONTRAST_HU."""
    assert prompt.line is not None
    a, b = (np.asarray(p, dtype=float) for p in prompt.line)
    z = round((a[0] + b[0]) / 2.0)
    plane = win.hu_plane(z)
    ends = np.stack([a[1:], b[1:]]) - [win.y0, win.x0]
    d = ends[1] - ends[0]
    t_in = np.linspace(*LINE_INSIDE_T, 25)
    inside = ndimage.map_coordinates(plane, (ends[0] + t_in[:, None] * d).T, order=1)
    lesion = float(np.median(inside))
    sides = []
    for sign, base in ((-1.0, 0.0), (1.0, 1.0)):
        mm = np.linspace(*LINE_OUTSIDE_MM, 13)
        t = base + sign * (LINE_BORDER_SLACK + mm / line_len_mm)
        pts = ends[0] + t[:, None] * d
        ok = (pts >= 0).all(axis=1) & (pts <= np.asarray(plane.shape) - 1).all(axis=1)
        vals = ndimage.map_coordinates(plane, pts[ok].T, order=1) if ok.any() else np.zeros(0)
        vals = vals[vals > FAT_HU]
        if vals.size >= 4:
            sides.append(float(np.median(vals)))
    common = _mode(plane[::2, ::2].ravel(), exclude_near=lesion)
    if common is not None:
        # Beyond an end may lie fat, a vessel or another organ: only liver-like sides count.
        sides = [v for v in sides if abs(v - common) <= LIVER_BAND_MIN_HU]
    if not sides:
        return None
    liver = float(np.mean(sides))
    if abs(lesion - liver) < MIN_CONTRAST_HU:
        return None
    return lesion, liver


def _line_ratio(m: LesionMeasurement, line_len_mm: float) -> float:
    return m.whole.length_mm / line_len_mm


def _measure_line(
    volume: CTVolume,
    win: _Window,
    prompt: LesionPrompt,
    ph: Phase,
    seed: tuple[int, ...],
    line_len_mm: float,
    rmax: float,
    t0: float,
) -> LesionMeasurement:
    """The lesion across a rough line. The line says where the lesion is, about how large, and on
    which slice: the delineation a click would get (:func:`_delineate_prompt`) is kept when it
    agrees with the line (:func:`_line_fits`); otherwise the other delineations available are
    tried (by value with the levels read along the line, as a click at the line's middle, by
    the enhancing rim around the middle, by a faint enhancing ring through the line's ends, by
    texture) and the one that agrees with the line best
    is kept. A result whose diameter is not within LINE_STRICT of the line stays flagged."""
    win.line = prompt.line
    cands: list[LesionMeasurement] = []
    first_err: MeasurementError | None = None
    try:
        cands.append(_delineate_prompt(volume, win, prompt, ph, seed, line_len_mm, rmax, t0))
    except MeasurementError as err:
        first_err = err
    if cands and _line_fits(cands[0], line_len_mm) and not _line_says_larger(cands[0], line_len_mm):
        return cands[0]
    hu_liver = win.hu_liver

    def attempt(delineate: Callable[[], LesionMeasurement | None]) -> None:
        try:
            m = delineate()
        except MeasurementError:
            m = None
        finally:
            win.hu_liver, win.texture = hu_liver, False
        if m is not None:
            cands.append(m)

    levels = _line_levels(win, prompt, line_len_mm)
    if levels is not None:
        attempt(
            lambda: _delineate(volume, win, prompt, ph, seed, line_len_mm, rmax, t0, None, levels)
        )
    # As a click at the line's middle (its value there, not the median along the line).
    at_mid = replace(prompt, seed=seed, line=None)
    attempt(lambda: _delineate_prompt(volume, win, at_mid, ph, seed, None, rmax, t0))
    # The enhancing rim around the line's middle (a necrotic core averaged with its rim on thick
    # noisy slabs reads as the liver), judged as for a click there.
    n = len(cands)
    attempt(lambda: _rim_around_click(volume, win, at_mid, ph, seed, rmax, t0))
    if len(cands) == n:
        attempt(lambda: _rim_around_click(volume, win, at_mid, ph, seed, rmax, t0, refused=True))

    # A faint enhancing rim through the line's ends (a core as dense as the liver or darker
    # inside it), confirmed on the slices next to it.
    attempt(
        lambda: _delineate_ring(volume, win, prompt, ph, seed, rmax, t0, line_len_mm, bright=True)
    )

    def by_texture() -> LesionMeasurement:
        win.texture = True
        return _delineate(volume, win, prompt, ph, seed, line_len_mm, rmax, t0)

    attempt(by_texture)
    if not cands:
        assert first_err is not None
        raise first_err

    def off(c: LesionMeasurement) -> float:
        return abs(math.log(max(_line_ratio(c, line_len_mm), 1e-6)))

    # The first delineation in the order above that agrees with the line (the line checks the
    # result, it is not a target); else the first one as before (flagged by _finish when outside
    # LINE_RATIO); without one, the nearest to the line within LINE_RATIO, flagged.
    fits = [c for c in cands if _line_fits(c, line_len_mm)]
    if fits:
        return (
            _texture_whole(win, fits[0], cands, seed[0], line_len_mm)
            or _core_whole(win, fits, seed[0], line_len_mm)
            or fits[0]
        )
    low = any(f.startswith(LOW_CONTRAST_FLAG) for f in cands[0].flags)
    if first_err is None and not too_long(cands[0].whole.length_mm, line_len_mm, low):
        return cands[0]
    near = [c for c in cands if LINE_RATIO[0] <= _line_ratio(c, line_len_mm) <= LINE_RATIO[1]]
    if near:
        return _line_flagged(min(near, key=off), line_len_mm)
    # On thick slabs, a faint rim pinned at the line's ends at the bar the line vouches for
    # (slabhyper_line.py); else far longer than the line: it ran out of the lesion (linereach.py).
    vouched = _vouched_ring(volume, win, prompt, ph, seed, line_len_mm, rmax, t0)
    if vouched is not None:
        return vouched
    # Past the ratio but held by a short line's ends: the lesion, flagged (lineends_reach.py).
    if first_err is None:
        for c in cands:
            if _held_by_line(c, volume, prompt):
                return _line_flagged(c, line_len_mm)
    raise first_err or past_line(cands[0].whole.length_mm, line_len_mm)


def _held_by_line(m: LesionMeasurement, volume: CTVolume, prompt: LesionPrompt) -> bool:
    """Whether ``m`` did not run to the search limit and lies within the uncertainty of the
    rough line's ends (:func:`.lineends_reach.held_by_line_ends`)."""
    assert prompt.line is not None
    if any(SEARCH_LIMIT in f for f in m.flags):
        return False
    return held_by_line_ends(m.mask, m.offset, volume.spacing_mm, prompt.line, m.whole.length_mm)


def _line_says_larger(m: LesionMeasurement, line_len_mm: float) -> bool:
    """Whether ``m``, a region by value, is shorter than the rough line: the reader sees more
    lesion, so a texture outline holding it is looked for (texstack_line.py)."""
    by_value = m.evidence.texture_sd_hu is None
    return by_value and line_says_larger(m.whole.length_mm, line_len_mm, 1.0)


def _texture_whole(
    win: _Window,
    pick: LesionMeasurement,
    cands: list[LesionMeasurement],
    z: int,
    line_len_mm: float,
) -> LesionMeasurement | None:
    """The texture outline among ``cands`` of which ``pick`` (the region by value the line
    agrees with first) is a part, within LINE_RATIO of the line; None when there is none
    (texstack_line.py)."""
    if not _line_says_larger(pick, line_len_mm):
        return None
    part = _slice_mask(pick, win, z)
    for c in cands:
        if c.evidence.texture_sd_hu is None:
            continue
        if not LINE_RATIO[0] <= _line_ratio(c, line_len_mm) <= LINE_RATIO[1]:
            continue
        if part_of_whole(pick.whole.length_mm, part, _slice_mask(c, win, z), line_len_mm):
            return _line_flagged(c, line_len_mm)
    return None


def _core_whole(
    win: _Window, fits: list[LesionMeasurement], z: int, line_len_mm: float
) -> LesionMeasurement | None:
    """The first of ``fits`` (results agreeing with the line, in the order tried) after the
    first that holds it and is longer, when the first is a dark region flagged as possibly a
    necrotic core and shorter than the line (r01_lineends.py); None otherwise."""
    pick = fits[0]
    if not any(f.startswith(MAYBE_CORE_NOTE) for f in pick.flags):
        return None
    part = _slice_mask(pick, win, z)
    for c in fits[1:]:
        if longer_whole(
            pick.whole.length_mm, part, c.whole.length_mm, _slice_mask(c, win, z), line_len_mm
        ):
            return c
    return None


def _vouched_ring(
    volume: CTVolume,
    win: _Window,
    prompt: LesionPrompt,
    ph: Phase,
    seed: tuple[int, ...],
    line_len_mm: float,
    rmax: float,
    t0: float,
) -> LesionMeasurement | None:
    """The enhancing (then darker) rim through a rough line's ends on thick slabs, confirmed at
    the bar the line vouches for (:mod:`.slabhyper_line`) and agreeing with the line (within
    LINE_STRICT), flagged; None otherwise."""
    slab_mm = float(volume.spacing_mm[0])
    z_min = vouched_z(slab_mm)
    if z_min is None:
        return None
    for bright in (True, False):
        try:
            m = _delineate_ring(
                volume, win, prompt, ph, seed, rmax, t0, line_len_mm, bright=bright, z_min=z_min
            )
        except MeasurementError:
            m = None
        finally:
            win.texture = False
        if m is not None and _line_fits(m, line_len_mm):
            return replace(m, flags=(*m.flags, vouched_flag(slab_mm)))
    return None


def _line_fits(m: LesionMeasurement, line_len_mm: float) -> bool:
    """Whether a result agrees with the line: its diameter within LINE_STRICT of the line's
    length, and its rays not run out to the search limit the line set (a leak)."""
    ratio = _line_ratio(m, line_len_mm)
    leak = any(SEARCH_LIMIT in f for f in m.flags)
    return LINE_STRICT[0] <= ratio <= LINE_STRICT[1] and not leak


def _line_flagged(m: LesionMeasurement, line_len_mm: float) -> LesionMeasurement:
    """``m`` with the line's disagreement flag when its diameter is not within LINE_STRICT of
    the line's length, or is well past a short line (:mod:`lesion_tool.measurement.short_line`),
    and no such flag is there yet."""
    ratio = _line_ratio(m, line_len_mm)
    fits = LINE_STRICT[0] <= ratio <= LINE_STRICT[1]
    if fits and not past_short_line(m.whole.length_mm, line_len_mm):
        return m
    if any(LINE_DISAGREES in f for f in m.flags):
        return m
    return replace(m, flags=(*m.flags, _line_disagreement(m.whole.length_mm, line_len_mm)))


def _line_disagreement(length_mm: float, line_len_mm: float) -> str:
    """The flag of a diameter that disagrees with the rough line drawn."""
    return (
        f"the diameter ({length_mm:.0f} mm) is {length_mm / line_len_mm:.1f} {LINE_DISAGREES} "
        f"({line_len_mm:.0f} mm): check the contour, or redraw the line"
    )


def _line_in_liver(liver_est: np.ndarray, win: _Window) -> bool:
    """Whether the rough line the window was opened for (``win.line``) has its middle or an end
    in the liver estimated on its slice (``liver_est``, window pixels ``(y, x)``): the reader
    drew it on a liver lesion, which is then never refused as "not in the liver" (it is flagged
    when it lies mostly outside that estimate: a tumour bulging from the liver's surface)."""
    if win.line is None:
        return False
    a, b = (np.asarray(p, dtype=float) for p in win.line)
    pts = [((a[1:] + b[1:]) / 2.0), a[1:], b[1:]]
    for p in pts:
        y, x = (round(v) for v in p - [win.y0, win.x0])
        if 0 <= y < liver_est.shape[0] and 0 <= x < liver_est.shape[1] and liver_est[y, x]:
            return True
    return False
