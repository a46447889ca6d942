"""Limits the command line checks before anything starts: numbers, seed lists, output locations.

Why: a value Ray or Tune cannot use does not fail there, it hangs (``--trial-cpus nan``, a
request no node can meet) or runs away (``--seeds 0-100000000`` expands to 10^8 Python ints).
Every check here is pure or reads only metadata, so it runs before Ray starts and before
``--out`` is created; each failure is a :class:`RobotRayError` naming the flag and the fix.
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path

from robot_ray.errors import RobotRayError
from robot_ray.ranges import parse_int_list

MAX_SEEDS = 10_000
"""Seeds of one search: each is a full RoBoT run; more belongs in several searches (or jobs)."""
MAX_SEED = 2**31 - 1
"""Seeds seed numpy, torch and Ax alike; 0..2**31-1 is what all of them accept."""

_INT = r"\s*[+-]?\d+\s*"
_SINGLE = re.compile(rf"^{_INT}$")
_RANGE = re.compile(rf"^({_INT})-({_INT})$")


def check_number(value: float | int | None, flag: str, *, minimum: float, inclusive: bool = True,
                 hint: str = "") -> None:
    """``value`` (None: not given) is a finite number ``>= minimum`` (``> minimum`` when not ``inclusive``)."""
    if value is None:
        return
    bound = f">= {minimum:g}" if inclusive else f"> {minimum:g}"
    ok = math.isfinite(value) and (value >= minimum if inclusive else value > minimum)
    if not ok:
        raise RobotRayError(f"{flag} must be a finite number {bound}, got {value!r}" + (f"; {hint}" if hint else ""))


def parse_seeds(spec: str, *, flag: str = "--seeds", limit: int = MAX_SEEDS) -> list[int]:
    """``"10-19"`` or ``"1,5,9"`` as seeds, counted and bounded before a range is expanded.

    Raises:
        RobotRayError: malformed, more than ``limit`` seeds, or a seed outside 0..2**31-1.
    """
    count, low, high = 0, None, None
    for part in (spec or "").split(","):
        if not part.strip():
            continue
        m = _RANGE.match(part)
        if m and not _SINGLE.match(part):
            lo, hi = int(m.group(1)), int(m.group(2))
        elif _SINGLE.match(part):
            lo = hi = int(part)
        else:
            break  # malformed: parse_int_list below says so in its words
        count += max(0, hi - lo + 1)
        low = lo if low is None else min(low, lo)
        high = hi if high is None else max(high, hi)
    if low is not None and (low < 0 or high > MAX_SEED):
        raise RobotRayError(f"{flag} {spec!r}: seeds must be in 0..{MAX_SEED}, got {low if low < 0 else high}")
    if count > limit:
        raise RobotRayError(f"{flag} {spec!r} names {count} seeds; at most {limit} per run: split them over several runs")
    return parse_int_list(spec, what=flag.lstrip("-"))


def check_output_location(out: str | os.PathLike, flag: str = "--out") -> None:
    """``out`` is a directory, or can be created as one, by this user (nothing is created here)."""
    path = Path(out).expanduser()
    if path.exists():
        if not path.is_dir():
            raise RobotRayError(f"{flag} {str(out)!r} is a file: pass a directory")
        if not os.access(path, os.W_OK | os.X_OK):
            raise RobotRayError(f"{flag} {str(out)!r} is not writable by this user: pass another directory")
        return
    parent = path.absolute().parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise RobotRayError(f"cannot create {flag} {str(out)!r}: {str(parent)!r} is a file, not a directory")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise RobotRayError(f"cannot create {flag} {str(out)!r}: {str(parent)!r} is not writable by this user")
