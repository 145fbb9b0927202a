"""w20-speed (issue 11, the first click): the slice names in a measurement's messages come from
the display info the viewer already read to show the series, so the first click on a series
without SeriesNumber (IRCADb) does not read all its headers a second time."""

from __future__ import annotations

from lesion_tool.measurement import naming


def test_slice_names_from_the_viewers_headers_without_reading_them_again(ircadb, monkeypatch):
    """IRCADb's files carry no SeriesNumber: naming read all 129 headers on the first click. The
    viewer's display info (read to show the series, window included), remembered, gives the
    same names and no header is read."""
    from lesion_tool.io.slices import series_display_info

    image = ircadb[0]
    monkeypatch.setattr(naming, "_cache", type(naming._cache)())
    fresh = [naming.slice_name(image, k) for k in range(image.shape[0])]
    assert fresh[5] == "Im 5"  # IRCADb's InstanceNumbers start at 0, no SeriesNumber
    info = series_display_info(image)
    monkeypatch.setattr(naming, "_cache", type(naming._cache)())
    naming.remember_display_info(image, info)

    def no_read(*a, **k):
        raise AssertionError("headers read again")

    monkeypatch.setattr(naming, "series_display_info", no_read)
    assert [naming.slice_name(image, k) for k in range(image.shape[0])] == fresh
