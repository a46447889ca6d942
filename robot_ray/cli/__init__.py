"""``robot-ray`` command line: builds config objects and calls the library; no logic of its own.

Every user error (:class:`RobotRayError`) becomes one line on stderr and exit code 2.
Subcommands live in the modules listed in ``_COMMAND_MODULES`` and attach themselves to
:data:`main` on import.
"""

from __future__ import annotations

import importlib

import click

from robot_ray.errors import RobotRayError


class _Group(click.Group):
    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except RobotRayError as exc:
            click.echo(f"robot-ray: error: {exc}", err=True)
            ctx.exit(2)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="robot-ray")
def main() -> None:
    """RoBoT training-free NAS on Ray: precompute metrics, search, compare, report."""


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


# Modules that define subcommands (each does ``@main.command()``); imported for registration.
_COMMAND_MODULES: list[str] = [
    "robot_ray.cli.search",
    "robot_ray.cli.describe",
    "robot_ray.cli.report",
    "robot_ray.cli.precompute",
]

for _name in _COMMAND_MODULES:
    importlib.import_module(_name)

