"""lesion-tool's napari plugin: open a patient's studies, measure lesions, see the response live.

A thin layer over :mod:`lesion_tool` (which never imports napari): the reader
(:mod:`._reader`), the sample data (:mod:`._sample_data`) and the assessment widget
(:mod:`._widget`) are declared in ``napari.yaml`` and found by napari through the
``napari.manifest`` entry point of the ``lesion-tool`` distribution. Heavy imports happen when a
contribution is used, not when napari starts.
"""

__all__: list[str] = []
