"""Reports from result directories: a method x dataset table (Markdown + CSV) and PNG figures.

.. code-block:: python

    from robot_ray.report import make_report
    make_report(["results/nb201_T20"], "docs/results/nb201")
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from robot_ray.report.collect import ResultDir, find_results, read_result_dir
from robot_ray.report.plots import has_robot_detail, plot_curves, plot_robot
from robot_ray.report.table import load_benchmarks, summary_table, to_markdown

TABLE_MD = "table.md"
TABLE_CSV = "table.csv"


def _slug(*parts) -> str:
    return "_".join(str(p).replace("/", "-").replace(" ", "") for p in parts)


def make_report(inputs: Sequence[str | os.PathLike], out: str | os.PathLike, *, title: str | None = None,
                data_dir: str | os.PathLike | None = None) -> list[Path]:
    """Write ``table.md``, ``table.csv``, ``curves_<space>_<dataset>_T<T>.png`` per (space,
    dataset, T), and ``<method>_<space>_<dataset>_T<T>.png`` for runs with T0/weights (RoBoT).

    Values are labelled by what they are (the summaries' ``test_name``). TNB101 and DARTS (NB301)
    rows also get the rank of each run's returned arch among the benchmark's archs, from the
    benchmark table in ``data_dir`` (else the run's own data directory, else ``$ROBOT_RAY_DATA``);
    without a readable table those ranks are left empty.

    Returns:
        The paths written.

    Raises:
        RobotRayError: no result directory under ``inputs``, or unreadable files.
    """
    results = find_results(inputs)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    table = summary_table(results, load_benchmarks(results, data_dir))
    written = [out / TABLE_CSV, out / TABLE_MD]
    table.to_csv(written[0], index=False, float_format="%.4f")
    written[1].write_text(to_markdown(table, title=title))
    groups: dict[tuple, list[ResultDir]] = {}
    for r in results:
        groups.setdefault((r.space, r.dataset, r.budget), []).append(r)
    for (space, dataset, budget), group in sorted(groups.items()):
        written.append(plot_curves(group, out / f"curves_{_slug(space, dataset)}_T{budget}.png"))
        for r in group:
            if has_robot_detail(r):
                written.append(plot_robot(r, out / f"{_slug(r.method, space, dataset)}_T{budget}.png"))
    return written


__all__ = ["ResultDir", "find_results", "make_report", "read_result_dir", "summary_table", "to_markdown"]
