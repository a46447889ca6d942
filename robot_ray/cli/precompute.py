"""``robot-ray precompute``: metric values for many architectures into a resumable Parquet cache."""

from __future__ import annotations

import shlex
import sys

import click

from robot_ray.cli import main
from robot_ray.cli.checks import check_local_cpus, check_not_empty, check_number
from robot_ray.errors import RobotRayError


def parse_metric_names(spec: str) -> tuple[str, ...]:
    names = tuple(m.strip() for m in spec.split(",") if m.strip())
    if not names:
        raise RobotRayError(f"no metric names in --metrics {spec!r}: pass e.g. grad_norm,snip,synflow,nwot")
    return names


@main.command("precompute")
@click.option("--space", default="nb201", show_default=True, help="nb201 or darts.")
@click.option("--dataset", default="cifar10", show_default=True, help="cifar10, cifar100, ImageNet16-120 or digits.")
@click.option("--data-dir", default=None, help="Shared data directory (else $ROBOT_RAY_DATA; optional for digits).")
@click.option("--metrics", default=None, help="Comma-separated metric names, e.g. grad_norm,snip,synflow,nwot "
              "(required unless --repair alone).")
@click.option("--archs", default=None,
              help="Arch ids: a list 1,5,9, a range 0-99, all, or sample:N[:seed] (DARTS: sample first; required "
                   "unless --repair alone).")
@click.option("--batch-size", type=int, default=64, show_default=True, help="Images in the metric batch.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the batch and the weights.")
@click.option("--out", required=True, help="Cache directory (created, or resumed/extended if it exists).")
@click.option("--num-actors", type=int, default=None, help="Actors in the pool (default: as resources allow).")
@click.option("--shard-size", type=int, default=64, show_default=True, help="Archs per shard file.")
@click.option("--cpus-per-actor", type=float, default=1.0, show_default=True, help="CPUs (and torch threads) per actor.")
@click.option("--gpus-per-actor", type=float, default=None,
              help="GPU fraction per actor (default: 0.25 when the cluster has GPUs, else 0).")
@click.option("--channels", type=int, default=None, help="Network channels (default: 16).")
@click.option("--cells", type=int, default=None, help="Cells per stage (NB201, default 5) or layers (DARTS, default 8).")
@click.option("--address", default=None, help="Ray cluster address (default: start a local Ray).")
@click.option("--num-cpus", type=int, default=None, help="CPUs of the local Ray (default: all).")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.option("--wait", type=float, default=0.0, show_default=True,
              help="Seconds to wait for another precompute writing --out to finish (default: refuse at once).")
@click.option("--repair", is_flag=True,
              help="Rebuild a missing or damaged _manifest.json of --out from its self-verifying shards (shards "
                   "that do not verify go to _quarantine/); with --metrics and --archs, then precompute as usual.")
def precompute_command(space, dataset, data_dir, metrics, archs, batch_size, seed, out, num_actors, shard_size,
                       cpus_per_actor, gpus_per_actor, channels, cells, address, num_cpus, quiet, wait,
                       repair) -> None:
    """Compute training-free metrics for many architectures on a Ray actor pool.

    Rerun the same command to resume; a cache is complete when every planned shard is written.
    """
    from robot_ray.cache.archs import parse_arch_spec
    from robot_ray.precompute import PrecomputeConfig, repair_cache, run_precompute

    check_number(wait, "--wait", minimum=0, hint="seconds to wait for another writer of --out")
    check_not_empty(out=out, data_dir=data_dir, address=address)
    if repair:
        click.echo(repair_cache(out, wait=wait).summary())
        if metrics is None and archs is None:
            return
    for value, name in ((metrics, "--metrics"), (archs, "--archs")):
        if value is None:
            raise click.MissingParameter(param_type="option", param_hint=f"'{name}'")
    check_number(num_cpus, "--num-cpus", minimum=1, hint="or leave it out to use all CPUs")
    check_local_cpus(num_cpus, address)
    parse_arch_spec(archs)
    config = PrecomputeConfig(
        space=space, dataset=dataset, metrics=parse_metric_names(metrics), archs=archs, out=out,
        batch_size=batch_size, seed=seed, data_dir=data_dir, channels=channels, cells=cells,
        shard_size=shard_size, num_actors=num_actors, cpus_per_actor=cpus_per_actor,
        gpus_per_actor=gpus_per_actor, progress=not quiet, wait=wait,
        command="robot-ray " + shlex.join(sys.argv[1:]),
    )
    report = run_precompute(config, address=address, num_cpus=num_cpus)  # checks all input before Ray starts
    rate = f", {report.rate:.2f} archs/s on {report.num_actors} actors" if report.computed else ""
    click.echo(f"{report.out}: {report.num_archs} archs, computed {report.computed} "
               f"({report.shards_computed} shards{rate}), {report.skipped} already cached"
               + (f", {report.failures} shard failures retried" if report.failures else ""))
