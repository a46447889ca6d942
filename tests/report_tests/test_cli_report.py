"""``robot-ray compare`` argument handling (no Ray needed: errors surface before it starts)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from robot_ray.cli import main
from robot_ray.cli.report import parse_options
from robot_ray.errors import RobotRayError


def test_parse_options():
    opts = parse_options(("weaknas.top_n=50", "rea.variant=tournament", "weaknas.hidden=(64, 64)", "single-metric.metric=nwot"))
    assert opts == {"weaknas": {"top_n": 50, "hidden": (64, 64)}, "rea": {"variant": "tournament"}, "single_metric": {"metric": "nwot"}}
    with pytest.raises(RobotRayError, match="METHOD.NAME=VALUE"):
        parse_options(("top_n=50",))


def test_compare_lists_its_options_and_rejects_bad_seeds(tmp_path):
    runner = CliRunner()
    help_text = runner.invoke(main, ["compare", "--help"]).output
    for flag in ("--space", "--datasets", "--methods", "--seeds", "--budget", "--metrics", "--data-dir", "--out"):
        assert flag in help_text
    result = runner.invoke(main, ["compare", "--seeds", "5-1", "--out", str(tmp_path)])
    assert result.exit_code == 2 and "malformed seeds" in result.output
    result = runner.invoke(main, ["compare", "--label", "a/b", "--out", str(tmp_path)])
    assert result.exit_code == 2 and "label 'a/b'" in result.output
