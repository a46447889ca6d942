"""``robot-ray compare`` and ``robot-ray report``: build arguments, call the library, print."""

from __future__ import annotations

import ast
from pathlib import Path

import click

from robot_ray.cli import main
from robot_ray.errors import RobotRayError
from robot_ray.cli.checks import check_local_cpus, check_not_empty, check_number, check_output_location, parse_seeds

_ALL_BASELINES = "rs,rea,reinforce,weaknas,prenas,swapnas,single-metric"


def _split(spec: str | None) -> list[str] | None:
    return [p.strip() for p in spec.split(",") if p.strip()] if spec else None


def parse_options(pairs: tuple[str, ...]) -> dict[str, dict]:
    """``("weaknas.top_n=50", "rea.variant=tournament")`` -> ``{"weaknas": {"top_n": 50}, ...}``."""
    out: dict[str, dict] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        method, dot, name = key.partition(".")
        if not sep or not dot or not method or not name:
            raise RobotRayError(f"malformed --option {pair!r}: use METHOD.NAME=VALUE, e.g. weaknas.top_n=50")
        try:
            value = ast.literal_eval(raw)
        except (ValueError, SyntaxError):
            value = raw  # a bare word such as tournament
        out.setdefault(method.replace("-", "_"), {})[name] = value
    return out


@main.command("compare")
@click.option("--space", default="nb201", show_default=True, help="search space: nb201, tnb101_micro, darts")
@click.option("--datasets", default="cifar10,cifar100,ImageNet16-120", show_default=True, help="comma list (tasks for tnb101_micro)")
@click.option("--methods", default=_ALL_BASELINES, show_default=True, help="comma list of rs, rea, reinforce, weaknas, prenas, swapnas, single-metric, robot")
@click.option("--seeds", default="0-49", show_default=True, help="seed list or range, e.g. 0-49 or 1,5,9")
@click.option("--budget", type=int, default=20, show_default=True, help="T: distinct architectures queried per run")
@click.option("--metrics", default=None, help="comma list of metric columns for single-metric and robot (NB201 default: synflow,snip,nwot,zen)")
@click.option("--metric-table", type=click.Path(dir_okay=True), default=None, help="Parquet metric table; default the space's published table")
@click.option("--data-dir", envvar="ROBOT_RAY_DATA", default=None, help="shared data directory (or $ROBOT_RAY_DATA)")
@click.option("--out", required=True, type=click.Path(file_okay=False), help="result root: OUT/<space>/<dataset>/<method>/")
@click.option("--option", "options", multiple=True, help="METHOD.NAME=VALUE runner option, repeatable (e.g. rea.variant=tournament)")
@click.option("--label", default=None, help="suffix for method names (robot@LABEL), to report a second configuration beside the first")
@click.option("--num-cpus", type=int, default=None, help="CPUs for a local Ray (default: all); ignored when Ray is already up")
def compare_cmd(space, datasets, methods, seeds, budget, metrics, metric_table, data_dir, out, options, label, num_cpus) -> None:
    """Run several methods x datasets x seeds on Ray and write one result directory per pair."""
    from robot_ray.runs.compare import check_comparison, check_label, run_comparison

    check_number(budget, "--budget", minimum=1, hint="T, the distinct architectures queried per run, e.g. 20")
    check_number(num_cpus, "--num-cpus", minimum=1, hint="or leave it out to use all CPUs")
    check_local_cpus(num_cpus, None)
    check_not_empty(out=out, data_dir=data_dir, metric_table=metric_table)
    check_output_location(out)
    if label is not None:
        check_label(label)

    kwargs = dict(
        space=space,
        datasets=_split(datasets) or [],
        methods=_split(methods) or [],
        seeds=parse_seeds(seeds),
        budget=budget,
        out=out,
        data_dir=data_dir,
        metrics=_split(metrics),
        metric_table=metric_table,
        method_options=parse_options(options),
        progress=click.echo,
        label=label,
    )  # parsed first, so a typo fails before Ray starts
    check_comparison(**{k: kwargs[k] for k in ("space", "datasets", "methods", "metrics", "metric_table",
                                                 "method_options")})
    from robot_ray.cluster import connect

    connect(num_cpus=num_cpus)
    run_comparison(**kwargs)
    click.echo(f"results in {out}; next: robot-ray report {out}")


@main.command("report")
@click.argument("inputs", nargs=-1, required=True, type=click.Path(exists=True, file_okay=False))
@click.option("--to", "to", type=click.Path(file_okay=False), default=None, help="output directory (default: FIRST_INPUT/report)")
@click.option("--title", default=None, help="heading of the Markdown table")
@click.option("--data-dir", envvar="ROBOT_RAY_DATA", default=None,
              help="shared data directory (or $ROBOT_RAY_DATA), for the ranks of TNB101 and DARTS results")
def report_cmd(inputs, to, title, data_dir) -> None:
    """Tables (Markdown + CSV) and PNG plots from result directories found under INPUTS."""
    from robot_ray.report import make_report

    check_not_empty(to=to, data_dir=data_dir)
    if to is not None:
        check_output_location(to, "--to")
    to = to or str(Path(inputs[0]) / "report")
    written = make_report(list(inputs), to, title=title, data_dir=data_dir)
    for path in written:
        click.echo(path)
