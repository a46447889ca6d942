"""Search spaces: parse, format and sample architectures; build their networks elsewhere."""

from robot_ray.errors import RobotRayError

SPACES: tuple[str, ...] = ("nb201", "tnb101_micro", "darts")


def check_space(name: str) -> str:
    if name not in SPACES:
        raise RobotRayError(f"unknown search space {name!r}; choose one of {', '.join(SPACES)}")
    return name
