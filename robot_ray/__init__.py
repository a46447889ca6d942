"""robot-ray: RoBoT training-free NAS as a scalable Ray Tune searcher."""

__version__ = "0.1.0"
