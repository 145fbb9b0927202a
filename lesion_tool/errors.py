"""Exceptions and warnings of lesion-tool.

Problems the user can fix (a broken file, a malformed assessment, an impossible diameter) raise a
:class:`LesionToolError` subclass whose message names the file or object, says what is wrong and,
where possible, what to do. Programmer errors raise ``TypeError`` / ``ValueError``; anything else
propagates.
"""

from __future__ import annotations


class LesionToolError(Exception):
    """Base class for problems the user can fix."""


class SeriesError(LesionToolError, ValueError):
    """A DICOM file or series cannot be used as it is."""


class GeometryError(SeriesError):
    """A series' geometry would change a measurement (tilt, missing slices, mixed orientation)."""


class MeasurementError(LesionToolError, ValueError):
    """A measurement cannot be made or is impossible (negative, non-finite, outside the image)."""


class AssessmentError(LesionToolError, ValueError):
    """A stored assessment is malformed; the message names the file and the JSON path."""


class CriteriaError(LesionToolError, ValueError):
    """An assessment cannot be scored under the requested criteria (e.g. no baseline)."""


class ExportError(LesionToolError, ValueError):
    """An export or import (DICOM SR, report) cannot be written or read."""


class PacsError(LesionToolError):
    """A PACS (DICOMweb server) cannot be reached, refuses a request or answers unexpectedly."""


class HeaderWarning(UserWarning):
    """A harmless oddity in a DICOM header (it changes no millimetre)."""


class StrayImagesWarning(HeaderWarning):
    """Files of a series were left out of the volume loaded (a stray reformat, scout or lone
    slice of another geometry beside the series' main stack); the message names them."""


class PixelDataWarning(UserWarning):
    """Decoded pixel values may be wrong: a decoder complained about a file it still decoded, or
    a slice disagrees grossly with both neighbouring slices (a corrupted compressed image); the
    message names the files."""


class AssessmentWarning(UserWarning):
    """Something in an assessment worth the reader's attention that does not stop scoring."""
