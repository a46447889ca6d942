"""What robot-ray's searchers accept from a Tune ``param_space``: constants, passed through.

The searchers choose architectures themselves, so a search domain (``tune.uniform``, a grid)
would be silently ignored; it is refused instead, naming the keys. Keys a searcher writes into
every config may not be taken by a constant.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

from ray.tune.search.variant_generator import parse_spec_vars

from robot_ray.errors import RobotRayError


def constants_of(config: dict[str, Any], cls: str, reserved: Sequence[str]) -> dict[str, Any]:
    """A deep copy of ``config`` after checking it holds constants only, and none of ``reserved``."""
    _, domains, grids = parse_spec_vars(config)
    paths = ["/".join(map(str, path)) for path, _ in domains + grids]
    if paths:
        raise RobotRayError(
            f"{cls} chooses the architectures itself; search domains in param_space are not supported "
            f"(found {', '.join(paths)}): pass constants only, or tune those keys with another searcher"
        )
    taken = [k for k in reserved if k in config]
    if taken:
        raise RobotRayError(f"{cls} sets {', '.join(taken)} in every trial config; rename that param_space key")
    return copy.deepcopy(config)
