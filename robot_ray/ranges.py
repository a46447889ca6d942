"""Integer lists and ranges as users type them (``"10-19"``, ``"1,5,9"``, ``"0-3,7"``).

Why here: the CLI parses ``--seeds`` with it and the cache parses the id part of ``--archs``
with it; the cache must not import the CLI (DESIGN.md "Layers"), so the parser lives below both.
"""

from __future__ import annotations

from robot_ray.errors import RobotRayError


def parse_int_list(spec: str, *, what: str = "seeds") -> list[int]:
    """``"10-19"``, ``"1,5,9"`` or ``"0-3,7"`` -> list of ints."""
    out: list[int] = []
    try:
        for part in spec.split(","):
            part = part.strip()
            if "-" in part[1:]:
                lo, hi = part.split("-", 1) if not part.startswith("-") else (part, "")
                lo_i, hi_i = int(lo), int(hi)
                if hi_i < lo_i:
                    raise ValueError
                out.extend(range(lo_i, hi_i + 1))
            elif part:
                out.append(int(part))
    except ValueError:
        raise RobotRayError(f"malformed {what} {spec!r}: use a list like 1,5,9 or a range like 10-19") from None
    if not out:
        raise RobotRayError(f"no {what} in {spec!r}")
    return out
