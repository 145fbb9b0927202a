"""A bright part's textured body on 2.5 mm slabs: one slab past it on both sides is enough, and
it is looked for under a one-slab sliver at the click.

``t4p_brightpart`` swaps a bright region clicked on a portal-venous image for the textured body
holding it when that body reaches :data:`~.t4p_brightpart.BEYOND_MM` (3 mm) or more through the
slices past the part: the part is an end of a mottled lesion whose body goes on, not a bright
spot whose "body" is the mottle beside it on the very same slices (0 mm past it). 3 mm was set
on 1.6 mm slices (two slices; 04's body reached 6.4-8.0 mm past its bright end there). Counted
in slices it asks two 1.6 mm slices, one 5 mm slab, but **two** 2.5 mm slabs (5 mm): one 2.5 mm
slab past the part, a whole slab of tissue beyond it (more than the two thin slices asked on
1.6 mm), did not count.

IRCADb 04 on the plain 2.5 mm variant (17.3 mm over slabs 57-66, a faint ring round a darker
core, brighter at its ends; liver 108-120 HU), seed 8's random click (64, 246, 196): the region
by value is a bright focus on slabs 63-64 (130 / 124 HU smoothed against 108-116 HU around,
flagged "hyper-attenuating on a non-arterial image", "low contrast", "seen on 2 slices",
"widest on its last slice"): 9.5 mm for 17.3. The textured body at the click (the delineation a
click in 04's middle gets: local SD 29 HU against 15 HU in the liver, mean 121 HU against
115 HU) lies on slabs 62-65, 17.6 mm (per slab 16.8 / 16.9 / 14.4 / 9.8 mm against the expert's
16.3 / 16.8 / 16.5 / 14.9; 3-D Dice 0.55 against the part's 0.05), closed, holding the click:
the lesion clicked. It reaches one slab past the part on each side, 2.5 mm: short of 3 mm by
the slab's quantisation alone, so the bright part was kept.

Here, on slabs (slices at least ``segment.SLAB_MM`` thick, which average their thickness and
so sample the tissue beyond the part whole), a body that goes on past the part by one slab **on
both sides** is taken too: the part lies inside the body through the slices, as a part of a
lesion does (:func:`encloses_part`). One slab on one side only is not enough: on the bench's
no-tumour clicks of the 2.5 mm variant two bright regions had a textured region reaching one slab
past them on one side only (seed 3's liver click (62, 130, 149): part slabs 61-63, texture 60-62,
14.3 mm; seed 6's vessel click (67, 195, 310): part 66-67, texture 65-67, 15.3 mm), and a first
version that asked one slab on either side (``min(3 mm, one slice)``) took both (flagged before
and after, never refused; 04's clicks alike). It changes nothing on thinner slices (1.6 mm) and
nothing on 5 mm slabs (one slab past the part already reaches 5 mm), and the other tests of
``t4p_brightpart`` (non-arterial image, a click, the part flagged bright and not as a vessel
nor running on, a closed body holding the click 1.1 times the part's length) are unchanged.

**A click on the end slab.** The textured body is looked for at the click, or, when the click
has no texture contrast (the lesion's end slice, whose thin section reads less mottled), at the
same in-plane point on the slices within ``t04r_texmiddle.CAP_MM`` (3.5 mm): one slice's
thickness of partial volume, one 2.5 mm slab. On 2.5 mm slabs the end slab reads half the
lesion's mottle, averaged with the liver beyond: the texture there can still pass the click's
test and give a region on that slab alone, a partial-volume sliver ("seen on 1 slice(s)"),
which is no body and, being texture at the click, decided: no body. Seed 9's random click in
04, (66, 241, 205), on 04's last slab (66, 9.8 mm wide there): the region by value is 04's
bright end with the liver-valued tissue above it, slabs 65-68 (13.2 mm on 66, 106 of its 238 px
outside 04's mask), 13.7 mm for 17.3, flagged "hyper-attenuating on a non-arterial image" and
"low contrast"; the texture at the click is a 15.2 mm sliver on slab 66 only; the textured body
under it, from the same in-plane point on slab 65, lies on slabs 61-65 (per slab 18.1 / 19.1 /
15.8 / 11.4 mm on 62-65 against the expert's 16.3 / 16.8 / 16.5 / 14.9), 19.6 mm, 3-D Dice
0.57, holding that point. Here a one-slab sliver at the click on such slabs (thick enough to
average, ``segment.SLAB_MM``, and no thicker than the cap ``CAP_MM``: on 5 mm slabs one slab
is a whole lesion's section, not a cap) is read as no texture at the click, so the slab under
it is looked at as for a click without texture; ``t4p_brightpart``'s tests then decide as
before (a closed body holding the click's point, 1.1 times the part, reaching past it). The body
must end short of the click's slab: the premise is that the click's slab is the body's cap,
past its end. Seed 1's random click in 04 on the same image, (59, 242, 198), on slab 59 (11.1 mm
wide there, not an end): its texture is an 8.3 mm sliver too, and from slab 60 a texture region
leaking to 38.1 mm over slabs 59-66 (Dice 0.42; the bright part 10.0 mm) - it covers the
click's own slab, so the click was not past its end: not taken (a first version without this
test measured it, flagged). Bright parts on non-arterial images only (t4p's gate); thin
slices and 5 mm slabs are unchanged.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lesion_tool.measurement.capclick import ONE_SLICE_FLAG

if TYPE_CHECKING:
    from lesion_tool.io.volume import CTVolume
    from lesion_tool.measurement.segment import LesionMeasurement, LesionPrompt
    from lesion_tool.measurement.t04r_texmiddle import TexAt

ENABLED = True
"""Module switch (A/B runs): when False a body must reach t4p_brightpart's BEYOND_MM past the
part on every slice thickness, and a one-slab sliver at the click decides, as before."""


def encloses_part(
    part_zs: tuple[int, int], body_zs: tuple[int, int], slice_mm: float, slab_mm: float
) -> bool:
    """Whether a textured body on slices ``body_zs`` (first, last) goes on past a bright part on
    slices ``part_zs`` by at least one slice on both sides, on slabs (``slice_mm >= slab_mm``):
    the part lies inside it through the slices (see the module's docstring)."""
    if not ENABLED or slice_mm < slab_mm:
        return False
    return body_zs[0] < part_zs[0] and body_zs[1] > part_zs[1]


def past_end_sliver(
    texture_at: TexAt,
    seed: tuple[int, int, int],
    slice_mm: float,
    slab_mm: float,
    cap_mm: float,
) -> TexAt:
    """``texture_at``, but reading no texture at the click ``seed`` when the region there is a
    one-slice sliver on slabs ``slab_mm <= slice_mm <= cap_mm`` (the lesion's end slab: see the
    module's docstring), so that the body under it is looked for; such a body must end short of
    the click's slab (the slab is its cap, past its end). ``texture_at`` itself elsewhere, or
    when the rule is off."""
    if not ENABLED or not slab_mm <= slice_mm <= cap_mm:
        return texture_at
    skipped = False

    def at(volume: CTVolume, prompt: LesionPrompt, phase: object) -> LesionMeasurement | None:
        nonlocal skipped
        tex = texture_at(volume, prompt, phase)
        if tex is None or prompt.seed is None:
            return tex
        if tuple(round(v) for v in prompt.seed) != seed:
            return None if skipped and _on_slice(tex, seed[0]) else tex
        if any(f.startswith(ONE_SLICE_FLAG) for f in tex.flags):
            skipped = True
            return None
        return tex

    return at


def _on_slice(m: LesionMeasurement, z: int) -> bool:
    """Whether ``m``'s region has voxels on slice ``z`` (volume index)."""
    k = z - m.offset[0]
    return 0 <= k < m.mask.shape[0] and bool(m.mask[k].any())


__all__ = ["ENABLED", "encloses_part", "past_end_sliver"]
