"""Search settings: paths made absolute for trials, embedded-search flags honoured or refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from robot_ray.cli import main
from robot_ray.runs.search import SearchConfig


def test_input_paths_are_absolute_for_trials(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = SearchConfig(data_dir="../data", cache="cache", out="out")
    assert config.data_dir == str((tmp_path / ".." / "data").resolve())
    assert config.cache == str(tmp_path / "cache") and Path(config.data_dir).is_absolute()


@pytest.mark.parametrize("args,message", [
    (["--no-ray"], "--no-ray do(es) not apply to the embedded live search"),
    (["--seeds", "1-2"], "runs one seed"),
    (["--budget", "101"], "pass at most 100"),
    (["--epochs", "0"], "--epochs"),
])
def test_embedded_search_refuses_flags_it_would_ignore(args, message, tmp_path, monkeypatch):
    monkeypatch.delenv("ROBOT_RAY_DATA", raising=False)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["search", *args])
    assert result.exit_code == 2 and message in result.output and "Traceback" not in result.output
    assert not (tmp_path / "out").exists()
