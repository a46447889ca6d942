"""Versioned state: read a JSON object and check the format version it was written under.

Why: cache manifests, checkpoints and saved searcher and ledger states all carry a version, so
that a robot-ray which does not know a format refuses it by name instead of misreading it. One
reader and one check, so every refusal names the same three things: the file, the version it
holds and the versions this robot-ray reads. (Writing is :func:`robot_ray.io.atomic.atomic_write_json`.)
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from robot_ray.errors import RobotRayError


def json_float(value: float | None) -> float | None:
    """A number for JSON: a finite float, or None for a missing, NaN or infinite one (JSON has no NaN)."""
    return None if value is None or not math.isfinite(value) else float(value)


def float_from_json(value: float | None) -> float:
    """The inverse of :func:`json_float`: None back to NaN."""
    return math.nan if value is None else float(value)


def _fix(hint: str) -> str:
    return f": {hint}" if hint else ""


def check_version(state: Mapping[str, Any], *, kind: str, supported: Iterable[int], key: str = "version",
                  source: str | os.PathLike | None = None, hint: str = "") -> Mapping[str, Any]:
    """``state`` itself when ``state[key]`` is one of ``supported`` (for state already in memory).

    Args:
        kind: what the state is, for the message (``"metric cache manifest"``).
        supported: the versions this code reads.
        key: where the version is stored.
        source: the file it came from, named in the message.
        hint: how to fix it, appended to the message.

    Raises:
        RobotRayError: naming ``source``, the version found and the versions expected.
    """
    ok = tuple(supported)
    found = state.get(key)
    if found not in ok:
        where = f"{source}: " if source is not None else ""
        raise RobotRayError(
            f"{where}{kind} {key} {found!r} is not one this robot-ray reads ({', '.join(map(str, ok))}; "
            f"written by another robot-ray version?){_fix(hint)}"
        )
    return state


def read_json_object(path: str | os.PathLike, *, kind: str, hint: str = "") -> dict[str, Any]:
    """The JSON object in ``path``; its version is the caller's to check (:func:`check_version`).

    Raises:
        RobotRayError: the file cannot be read or is not a JSON object.
    """
    path = Path(path)
    try:
        state = json.loads(path.read_text())
    except (OSError, ValueError) as exc:  # ValueError: JSONDecodeError, UnicodeDecodeError
        raise RobotRayError(f"cannot read the {kind} {str(path)!r} ({exc}){_fix(hint)}") from exc
    if not isinstance(state, dict):
        raise RobotRayError(f"{str(path)!r} is not a {kind}: it holds a JSON {type(state).__name__}{_fix(hint)}")
    return state


def read_versioned_json(path: str | os.PathLike, *, kind: str, supported: Iterable[int], key: str = "version",
                        fixed: Mapping[str, Any] | None = None, hint: str = "") -> dict[str, Any]:
    """The JSON object in ``path``, after checking ``fixed`` fields and then the version.

    Args:
        kind, supported, key, hint: as for :func:`check_version`.
        fixed: fields that must hold exactly these values (``{"format": "robot-ray-metric-cache"}``),
            checked before the version: a file of another kind is named as such.

    Raises:
        RobotRayError: the file cannot be read, is not a JSON object, is of another kind, or holds
            a version this code does not read.
    """
    path = Path(path)
    state = read_json_object(path, kind=kind, hint=hint)
    for name, want in (fixed or {}).items():
        if state.get(name) != want:
            raise RobotRayError(
                f"{str(path)!r} is not a {kind}: {name} is {state.get(name)!r}, expected {want!r}{_fix(hint)}"
            )
    check_version(state, kind=kind, supported=supported, key=key, source=repr(str(path)), hint=hint)
    return state
