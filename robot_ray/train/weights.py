"""Trained weights kept per architecture, so a later child can start from its parent's.

One file per (lineage, architecture) under a directory or storage URI (``file://``, ``s3://``,
``gs://``: multi-node runs need a location every worker reaches). A file holds a versioned
record: the space, the architecture, the training settings it was trained under, and the CPU
``state_dict``. It is written with :func:`torch.save` and read back with
``torch.load(weights_only=True)``, which loads tensors and plain containers only and runs no
code from the file; writes are atomic (:func:`robot_ray.io.storage.write_bytes_atomic`).
A lineage (e.g. ``prenas-seed3``) keeps one search seed's weights apart from another's.
"""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Mapping
from typing import Any

import torch

from robot_ray.errors import RobotRayError
from robot_ray.io import storage
from robot_ray.io.state import check_version

VERSION = 1
SPACES = ("nb201", "darts")
"""The spaces LiveObjective trains."""
_LINEAGE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")


def canonical_arch(space: str, arch: str) -> str:
    """The string a store keys an architecture by (DARTS genotypes in canonical edge order)."""
    if space == "darts":
        from robot_ray.spaces.darts import canonical

        return canonical(arch)
    return arch


class WeightStore:
    """Trained ``state_dict`` per (lineage, architecture) at ``location`` (a path or URI)."""

    def __init__(self, location: str) -> None:
        if not str(location):
            raise RobotRayError("a weight store needs a location: a directory or an s3://, gs://, file:// URI")
        self.location = str(location)

    def uri(self, lineage: str, space: str, arch: str) -> str:
        """Where one architecture's weights live."""
        if not isinstance(lineage, str) or not _LINEAGE.match(lineage):
            raise RobotRayError(f"a lineage name is 1-100 letters, digits, '_', '.', '-'; got {lineage!r}")
        if space not in SPACES:
            raise RobotRayError(f"a weight store keeps {', '.join(SPACES)} networks, not {space!r}")
        key = hashlib.sha256(f"{space}\n{canonical_arch(space, arch)}".encode()).hexdigest()[:24]
        return f"{self.location.rstrip('/')}/{lineage}/{space}-{key}.pt"

    def save(self, lineage: str, space: str, arch: str, state: Mapping[str, torch.Tensor],
             settings: Mapping[str, Any]) -> str:
        """Write the weights (moved to CPU) atomically; returns their URI."""
        record = {"version": VERSION, "space": space, "arch": canonical_arch(space, arch),
                  "settings": dict(settings), "state": {k: v.detach().cpu() for k, v in state.items()}}
        buf = io.BytesIO()
        torch.save(record, buf)
        uri = self.uri(lineage, space, arch)
        storage.write_bytes_atomic(uri, buf.getvalue())
        return uri

    def load(self, lineage: str, space: str, arch: str, settings: Mapping[str, Any]) -> dict[str, torch.Tensor] | None:
        """The weights of ``arch`` in ``lineage``, or None when none were saved.

        Raises:
            RobotRayError: the file is damaged, of another version, or was trained for another
                architecture or under other settings (a store shared between runs).
        """
        uri = self.uri(lineage, space, arch)
        if not storage.exists(uri):
            return None
        data = storage.read_bytes(uri)
        try:
            record = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
        except Exception as exc:  # noqa: BLE001 - any unreadable file is the same user-facing problem
            raise RobotRayError(f"{uri} is not a robot-ray weight file ({type(exc).__name__}: {exc}); "
                                "delete it so the architecture trains again") from exc
        if not isinstance(record, dict):
            raise RobotRayError(f"{uri} is not a robot-ray weight file; delete it so the architecture trains again")
        check_version(record, kind="weight file", supported=(VERSION,), source=uri, hint="use a fresh weight store")
        want = canonical_arch(space, arch)
        if record.get("space") != space or record.get("arch") != want:
            raise RobotRayError(f"{uri} holds {record.get('space')} {record.get('arch')!r}, not {want!r}: "
                                "use a fresh weight store")
        if record.get("settings") != dict(settings):
            raise RobotRayError(f"{uri} was trained under {record.get('settings')}, this run trains under "
                                f"{dict(settings)}: use a fresh weight store for other settings")
        return record["state"]
