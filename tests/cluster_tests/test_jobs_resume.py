"""The documented cluster resume: ``jobs/search.py --resume URI`` stages the run down and back up."""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

JOBS = Path(__file__).resolve().parents[2] / "jobs"


def _jobs_common():
    sys.path.insert(0, str(JOBS))
    try:
        return importlib.import_module("_common")
    finally:
        sys.path.remove(str(JOBS))


def test_search_resume_from_a_file_uri(data_dir, tmp_path):
    run = _jobs_common().run
    out = tmp_path / "bucket" / "run"
    uri = f"file://{out}"
    args = ["--data-dir", str(data_dir), "--budget", "5", "--seeds", "0", "--no-ray", "--quiet"]
    assert run("search", [*args, "--out", uri]) == 0
    first = json.loads((out / "summary.json").read_text())
    (out / "summary.json").unlink()
    # as docs/cluster.md shows it: --out and --resume name the same URI
    assert run("search", ["--out", uri, "--resume", uri, "--quiet"]) == 0
    again = json.loads((out / "summary.json").read_text())
    assert again["runs"][0]["best_arch_id"] == first["runs"][0]["best_arch_id"]
    assert run("search", ["--out", f"file://{tmp_path}/other", "--resume", uri]) == 2
