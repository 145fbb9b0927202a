"""DICOM input: series discovery, contrast-phase detection and geometry-exact volumes."""
