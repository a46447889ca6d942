"""``robot-ray`` command line: builds config objects and calls the library; no logic of its own.

Every user error (:class:`RobotRayError`, and click's own usage errors: a value that is not a
number, an unknown option or choice) becomes one line on stderr, ``robot-ray: error: ...``, and
exit code 2; an interrupted run (:class:`RunInterrupted`, SIGINT) exit code 130 and a hint to resume.
Subcommands live in the modules listed in ``_COMMAND_MODULES`` and attach themselves to
:data:`main` on import.
"""

from __future__ import annotations

import importlib

import click

from robot_ray.errors import RobotRayError, RunInterrupted
from robot_ray.ranges import parse_int_list  # noqa: F401  (subcommands import it from here)


def _usage_line(exc: click.UsageError) -> str:
    """A click usage error (bad flag value, unknown option) as the one line every other error is."""
    sub = exc.ctx.info_name if exc.ctx is not None and exc.ctx.parent is not None else None
    command = f"robot-ray {sub}" if sub else "robot-ray"
    return f"robot-ray: error: {exc.format_message().rstrip('.')}; see `{command} --help`"


class _Group(click.Group):
    def make_context(self, info_name, args, parent=None, **extra):
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except click.UsageError as exc:  # the group's own options (`robot-ray --bogus`)
            click.echo(_usage_line(exc), err=True)
            raise click.exceptions.Exit(2) from None

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:  # a subcommand's flags: one line, not click's usage block
            click.echo(_usage_line(exc), err=True)
            ctx.exit(2)
        except RobotRayError as exc:
            click.echo(f"robot-ray: error: {exc}", err=True)
            ctx.exit(2)
        except RunInterrupted as exc:
            # an interruption is a state to resume, not a result: no summary was written
            click.echo(f"robot-ray: interrupted: {exc}; continue it with `robot-ray search --resume OUT`", err=True)
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("robot-ray: interrupted before any result was written", err=True)
            ctx.exit(130)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="robot-ray")
def main() -> None:
    """RoBoT training-free NAS on Ray: precompute metrics, search, compare, report."""


# Modules that define subcommands (each does ``@main.command()``); imported for registration.
_COMMAND_MODULES: list[str] = [
    "robot_ray.cli.search",
    "robot_ray.cli.describe",
    "robot_ray.cli.report",
    "robot_ray.cli.precompute",
]

for _name in _COMMAND_MODULES:
    importlib.import_module(_name)

