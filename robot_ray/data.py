"""Where the shared benchmark data lives: a flag, else ``$ROBOT_RAY_DATA``.

The data are public files of other projects and are never shipped with robot-ray, so every
reader takes the directory explicitly and fails with a message that names both ways to give it.
"""

from __future__ import annotations

import os
from pathlib import Path

from robot_ray.errors import RobotRayError

ENV_VAR = "ROBOT_RAY_DATA"


def resolve_data_dir(data_dir: str | os.PathLike | None = None, *, required: bool = True) -> Path | None:
    """Return the data directory from the argument or ``$ROBOT_RAY_DATA``.

    Raises:
        RobotRayError: neither is set (when ``required``) or the directory does not exist.
    """
    raw = data_dir if data_dir not in (None, "") else os.environ.get(ENV_VAR) or None
    if raw is None:
        if not required:
            return None
        raise RobotRayError(
            f"no data directory given: pass --data-dir DIR or set the environment variable {ENV_VAR}=DIR "
            "(the directory that holds nasbench201/, transnas101_micro/, darts_nb301/, images/)"
        )
    path = Path(raw).expanduser()
    if not path.is_dir():
        raise RobotRayError(
            f"data directory {str(path)!r} does not exist: pass --data-dir DIR or set {ENV_VAR}=DIR "
            "to the directory that holds nasbench201/, transnas101_micro/, darts_nb301/, images/"
        )
    return path


def data_file(data_dir: str | os.PathLike | None, *parts: str) -> Path:
    """Path of one file under the data directory, with a clear error when it is missing."""
    root = resolve_data_dir(data_dir)
    path = root.joinpath(*parts)
    if not path.is_file():
        raise RobotRayError(
            f"{'/'.join(parts)} not found under data directory {str(root)!r}: "
            f"point --data-dir (or {ENV_VAR}) at the shared data directory that contains it"
        )
    return path
