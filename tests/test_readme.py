"""The README's "Python API" examples, run as written (in order, one namespace, in a temp dir)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def readme_examples() -> list[str]:
    text = (REPO / "README.md").read_text()
    section = text.split("## Python API", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    assert len(blocks) >= 3, "the README's Python API section lost its examples"
    return blocks


@pytest.mark.slow
def test_python_api_examples_run_as_written(data_dir, ray_session, tmp_path, monkeypatch):
    monkeypatch.setenv("ROBOT_RAY_DATA", str(data_dir))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RAY_AIR_NEW_OUTPUT", "0")
    namespace: dict = {"__name__": "readme"}
    for block in readme_examples():
        exec(compile(block, "README.md", "exec"), namespace)  # noqa: S102 - our own README
    assert (tmp_path / "out" / "api_search" / "summary.json").is_file()
    assert namespace["best"]["arch_id"] == 9930
    assert namespace["stopped"] and namespace["finished"]  # ASHA did stop trials, and some finished
    assert list((tmp_path / "out" / "api_report").glob("*.png"))
