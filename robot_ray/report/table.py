"""Method x dataset table of final results (like RoBoT's Table 2), as CSV and Markdown.

Per method and dataset: mean and std over seeds of the test value of the best-by-value arch
(std with ddof=0, as ``np.std`` in RoBoT's code), its standard error, the mean query cost of a
run (seconds of training the queried archs would take; training-free metric time excluded),
and RoBoT's mean T0. The ``single_metric-*`` rows are also folded into two summary rows: the
average over metrics and the best metric (an oracle choice: it looks at test values).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from robot_ray.report.collect import ResultDir

SINGLE_PREFIX = "single_metric-"
METHOD_ORDER = ("rs", "rea", "reinforce", "weaknas", "prenas", "single_metric", "swapnas", "robot")
COLUMNS = ["space", "dataset", "budget", "method", "seeds", "mean_test", "std_test", "sem_test", "mean_cost", "mean_t0"]


DATASET_ORDER = ("cifar10", "cifar100", "ImageNet16-120")


def method_rank(method: str) -> tuple[int, int, str]:
    """Sort key: the paper's row order (a labelled ``method@label`` beside its method); single
    metrics together, their summary rows last; unknown methods last."""
    base = method.split("@")[0]
    base = "single_metric" if base.startswith("single_metric") else base
    summary_row = int(method.startswith("single_metric ("))
    return (METHOD_ORDER.index(base) if base in METHOD_ORDER else len(METHOD_ORDER), summary_row, method)


def dataset_rank(dataset: str) -> tuple[int, str]:
    """NB201's usual column order first, other datasets (TNB101 tasks) alphabetically."""
    return (DATASET_ORDER.index(dataset) if dataset in DATASET_ORDER else len(DATASET_ORDER), dataset)


def row(result: ResultDir) -> dict:
    """One table row from a result directory's per-seed summaries."""
    tests = np.array([r["best_test_value"] for r in result.runs], dtype=float)
    costs = np.array([r.get("cost", math.nan) for r in result.runs], dtype=float)
    t0s = [r["t0"] for r in result.runs if r.get("t0") is not None]
    n = len(tests)
    return {
        "space": result.space,
        "dataset": result.dataset,
        "budget": result.budget,
        "method": result.method,
        "seeds": n,
        "mean_test": float(tests.mean()) if n else math.nan,
        "std_test": float(tests.std()) if n else math.nan,
        "sem_test": float(tests.std(ddof=1) / math.sqrt(n)) if n > 1 else math.nan,
        "mean_cost": float(costs.mean()) if n else math.nan,
        "mean_t0": float(np.mean(t0s)) if t0s else math.nan,
    }


def _single_metric_rows(group: pd.DataFrame) -> list[dict]:
    singles = group[group["method"].str.startswith(SINGLE_PREFIX)]
    if len(singles) < 2:
        return []
    first = singles.iloc[0]
    best = singles.loc[singles["mean_test"].idxmax()]
    common = {"space": first["space"], "dataset": first["dataset"], "budget": first["budget"], "seeds": first["seeds"], "mean_t0": math.nan}
    return [
        {**common, "method": f"single_metric (average of {len(singles)})", "mean_test": singles["mean_test"].mean(),
         "std_test": singles["mean_test"].std(ddof=0), "sem_test": math.nan, "mean_cost": singles["mean_cost"].mean()},
        {**common, "method": f"single_metric (best: {best['method'][len(SINGLE_PREFIX):]})", "mean_test": best["mean_test"],
         "std_test": best["std_test"], "sem_test": best["sem_test"], "mean_cost": best["mean_cost"]},
    ]


def summary_table(results: Sequence[ResultDir]) -> pd.DataFrame:
    """Long table, one row per (space, dataset, T, method), plus single-metric average/best rows."""
    frame = pd.DataFrame([row(r) for r in results], columns=COLUMNS)
    extra = [r for _, g in frame.groupby(["space", "dataset", "budget"]) for r in _single_metric_rows(g)]
    if extra:
        frame = pd.concat([frame, pd.DataFrame(extra, columns=COLUMNS)], ignore_index=True)
    frame["_rank"] = frame["method"].map(method_rank)
    frame["_drank"] = frame["dataset"].map(dataset_rank)
    frame = frame.sort_values(["space", "budget", "_rank", "_drank"]).drop(columns=["_rank", "_drank"])
    return frame.reset_index(drop=True)


def _fmt(mean: float, std: float) -> str:
    if math.isnan(mean):
        return "–"
    return f"{mean:.2f} ± {std:.2f}" if not math.isnan(std) else f"{mean:.2f}"


def _fmt_cost(cost: float) -> str:
    return "–" if math.isnan(cost) else f"{cost:,.0f}"


def to_markdown(table: pd.DataFrame, *, title: str | None = None) -> str:
    """One Markdown table per (space, T): methods as rows, per dataset test value and cost."""
    out = [f"# {title}", ""] if title else []
    for (space, budget), group in table.groupby(["space", "budget"], sort=True):
        datasets = sorted(dict.fromkeys(group["dataset"]), key=dataset_rank)
        seeds = sorted(set(group["seeds"]))
        out.append(f"## {space}, T = {budget} queries ({'/'.join(map(str, seeds))} seeds)")
        out.append("")
        header = ["method"] + [h for d in datasets for h in (f"{d} test acc. (%)", f"{d} cost (s)")]
        has_t0 = group["mean_t0"].notna().any()
        if has_t0:
            header.append("mean T0")
        out.append("| " + " | ".join(header) + " |")
        out.append("|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|")
        methods = sorted(dict.fromkeys(group["method"]), key=method_rank)
        for method in methods:
            cells = [method]
            t0 = []
            for d in datasets:
                hit = group[(group["method"] == method) & (group["dataset"] == d)]
                if hit.empty:
                    cells += ["–", "–"]
                    continue
                r = hit.iloc[0]
                cells += [_fmt(r["mean_test"], r["std_test"]), _fmt_cost(r["mean_cost"])]
                if not math.isnan(r["mean_t0"]):
                    t0.append(f"{r['mean_t0']:.1f}")
            if has_t0:
                cells.append(" / ".join(t0) if t0 else "–")
            out.append("| " + " | ".join(cells) + " |")
        out.append("")
    out.append(
        "Test accuracy of the best-by-value queried architecture, mean ± std over seeds (np.std, ddof=0); "
        "cost = mean seconds of training the queried architectures would take (query cost only; "
        "metric computation not included). `single_metric (average of k)`: mean ± std over the k metrics "
        "of their mean; `single_metric (best: m)`: the metric with the highest mean (chosen with test values)."
    )
    if table["method"].str.startswith("swapnas").any():
        out[-1] += (
            " `swapnas`: a training-free search on one metric (its fitness, each run's `fitness_metric` in "
            "summary.json), then **one** query, the returned architecture, whatever T; its cost is that one query."
        )
    return "\n".join(out) + "\n"
