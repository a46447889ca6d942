"""``robot-ray describe``: print an architecture's canonical form, params and multiply-adds as JSON."""

from __future__ import annotations

import json

import click

from robot_ray.cli import main


@main.command("describe")
@click.option("--space", required=True, help="search space: darts or nb201")
@click.option("--arch", required=True, help="architecture string, e.g. \"Genotype(normal=[...], ...)\"")
@click.option("--network", type=click.Choice(["cifar", "imagenet"]), default="cifar", show_default=True,
              help="network kind (darts): 32x32 CIFAR or 224x224 ImageNet stem")
@click.option("--channels", type=int, default=None, help="initial channels (default: the evaluation size, 36 / 48)")
@click.option("--layers", type=int, default=None, help="number of cells (default: 20 / 14)")
@click.option("--classes", type=int, default=None, help="output classes (default: 10 / 1000)")
def describe_command(space: str, arch: str, network: str, channels: int | None, layers: int | None,
                     classes: int | None) -> None:
    """Describe one architecture: canonical arch, params, flops (conv + linear multiply-adds)."""
    from robot_ray.describe import describe

    click.echo(json.dumps(describe(space, arch, network=network, channels=channels, layers=layers, classes=classes),
                          indent=2))
