"""Method x dataset table of final results (like RoBoT's Table 2), as CSV and Markdown.

Per method and dataset: mean and std over seeds of the reported value of the best-by-value arch
(the summary's ``test_name``: NB201's ``test_acc_200ep``, a TNB101 task's validation metric,
NB301's surrogate validation accuracy; labelled by that name, never as a test accuracy it is not)
(std with ddof=0, as ``np.std`` in RoBoT's code), its standard error, the mean query cost of a
run (seconds of training the queried archs would take; training-free metric time excluded),
RoBoT's mean T0, and for TNB101 and DARTS (NB301) the mean rank of the returned arch among all
the benchmark's archs (1 = best; the measure RoBoT's TNB101 table reports). The ``single_metric-*`` rows are also folded into two summary rows: the
average over metrics and the best metric (an oracle choice: it looks at test values).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from robot_ray.errors import RobotRayError
from robot_ray.report.collect import ResultDir

SINGLE_PREFIX = "single_metric-"
METHOD_ORDER = ("rs", "rea", "reinforce", "weaknas", "prenas", "single_metric", "swapnas", "robot")
COLUMNS = ["space", "dataset", "budget", "method", "seeds", "value_name", "mean_test", "std_test", "sem_test",
           "mean_rank", "std_rank", "num_archs", "mean_cost", "mean_t0"]
RANKED_SPACES = ("tnb101_micro", "darts")
"""Spaces whose tables show ranks: TNB101 is judged by rank, NB301 has only surrogate values."""
_SPACE_TEST_NAMES = {"nb201": "test_acc_200ep"}  # for summaries written before test_name was recorded
_PERCENT_HINTS = ("acc", "top1", "top5")


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


def value_name(result: ResultDir) -> str:
    """What a result's reported value is: its ``test_name`` (else ``objective``), without notes in
    brackets (NB301's ``val_acc_surrogate (no test value exists)`` -> ``val_acc_surrogate``)."""
    name = result.summary.get("test_name") or _SPACE_TEST_NAMES.get(result.space) or result.summary.get("objective") or ""
    return str(name).split(" (")[0].strip() or "value"


def value_label(name: str) -> str:
    """``name`` with its unit: ``test_acc_200ep (%)``, ``valid_top1 (%)``, ``valid_ssim``, ``valid_neg_loss``."""
    return f"{name} (%)" if any(h in name.lower() for h in _PERCENT_HINTS) else name


def ranks(result: ResultDir, benchmark) -> np.ndarray:
    """1-based rank (by the reported value, ties share the best rank) of each run's returned arch
    among all ``benchmark``'s archs; NaN per run without a usable ``best_arch_id``."""
    out = []
    for r in result.runs:
        try:
            out.append(float(benchmark.test_rank(int(r["best_arch_id"]))))
        except (KeyError, TypeError, ValueError, IndexError, RobotRayError):
            out.append(math.nan)
    return np.array(out, dtype=float)


def load_benchmarks(results: Sequence[ResultDir], data_dir=None) -> dict[tuple[str, str], object]:
    """The tabular benchmark of every (space, dataset) in :data:`RANKED_SPACES`, where it loads
    (from ``data_dir``, else the summary's own ``config.data_dir``, else ``$ROBOT_RAY_DATA``);
    a pair whose table cannot be read is left out, so its ranks show as missing."""
    from robot_ray.benchmarks import get_benchmark

    out: dict[tuple[str, str], object] = {}
    for r in results:
        key = (r.space, r.dataset)
        if r.space not in RANKED_SPACES or key in out:
            continue
        config = r.summary.get("config") if isinstance(r.summary.get("config"), dict) else {}
        for source in dict.fromkeys([data_dir, config.get("data_dir"), None]):
            try:
                bench = get_benchmark(r.space, r.dataset, source)
            except (RobotRayError, OSError, ValueError):
                continue
            if getattr(bench, "tabular", False):
                out[key] = bench
                break
    return out


def row(result: ResultDir, benchmark=None) -> dict:
    """One table row from a result directory's per-seed summaries (ranks need ``benchmark``)."""
    tests = np.array([r["best_test_value"] for r in result.runs], dtype=float)
    costs = np.array([r.get("cost", math.nan) for r in result.runs], dtype=float)
    t0s = [r["t0"] for r in result.runs if r.get("t0") is not None]
    n = len(tests)
    rank = ranks(result, benchmark) if benchmark is not None else np.full(n, np.nan)
    rank_ok = rank[~np.isnan(rank)]
    return {
        "space": result.space,
        "dataset": result.dataset,
        "budget": result.budget,
        "method": result.method,
        "seeds": n,
        "value_name": value_name(result),
        "mean_test": float(tests.mean()) if n else math.nan,
        "std_test": float(tests.std()) if n else math.nan,
        "sem_test": float(tests.std(ddof=1) / math.sqrt(n)) if n > 1 else math.nan,
        "mean_rank": float(rank_ok.mean()) if len(rank_ok) else math.nan,
        "std_rank": float(rank_ok.std()) if len(rank_ok) else math.nan,
        "num_archs": int(benchmark.num_archs) if benchmark is not None else math.nan,
        "mean_cost": float(costs.mean()) if n else math.nan,
        "mean_t0": float(np.mean(t0s)) if t0s else math.nan,
    }


def _single_metric_rows(group: pd.DataFrame) -> list[dict]:
    singles = group[group["method"].str.startswith(SINGLE_PREFIX)]
    if len(singles) < 2:
        return []
    first = singles.iloc[0]
    best = singles.loc[singles["mean_test"].idxmax()]
    common = {"space": first["space"], "dataset": first["dataset"], "budget": first["budget"], "seeds": first["seeds"],
              "value_name": first["value_name"], "num_archs": first["num_archs"], "mean_t0": math.nan}
    return [
        {**common, "method": f"single_metric (average of {len(singles)})", "mean_test": singles["mean_test"].mean(),
         "std_test": singles["mean_test"].std(ddof=0), "sem_test": math.nan, "mean_cost": singles["mean_cost"].mean(),
         "mean_rank": singles["mean_rank"].mean(), "std_rank": singles["mean_rank"].std(ddof=0)},
        {**common, "method": f"single_metric (best: {best['method'][len(SINGLE_PREFIX):]})", "mean_test": best["mean_test"],
         "std_test": best["std_test"], "sem_test": best["sem_test"], "mean_cost": best["mean_cost"],
         "mean_rank": best["mean_rank"], "std_rank": best["std_rank"]},
    ]


def summary_table(results: Sequence[ResultDir], benchmarks: dict | None = None) -> pd.DataFrame:
    """Long table, one row per (space, dataset, T, method), plus single-metric average/best rows.

    ``benchmarks`` maps (space, dataset) to its tabular benchmark, for ranks (see
    :func:`load_benchmarks`); without one a row's ranks are NaN.
    """
    benchmarks = benchmarks or {}
    frame = pd.DataFrame([row(r, benchmarks.get((r.space, r.dataset))) for r in results], columns=COLUMNS)
    extra = [r for _, g in frame.groupby(["space", "dataset", "budget"]) for r in _single_metric_rows(g)]
    if extra:
        frame = pd.concat([frame, pd.DataFrame(extra, columns=COLUMNS)], ignore_index=True)
    frame["_rank"] = frame["method"].map(method_rank)
    frame["_drank"] = frame["dataset"].map(dataset_rank)
    frame = frame.sort_values(["space", "budget", "_rank", "_drank"]).drop(columns=["_rank", "_drank"])
    return frame.reset_index(drop=True)


def _fmt(mean: float, std: float, digits: int = 2) -> str:
    if math.isnan(mean):
        return "–"
    return f"{mean:.{digits}f} ± {std:.{digits}f}" if not math.isnan(std) else f"{mean:.{digits}f}"


def _is_fraction(name: str) -> bool:
    """A value in 0..1 or a loss (SSIM, negative L2): more digits than a percentage needs."""
    return not any(h in name.lower() for h in _PERCENT_HINTS)


def _one(names: pd.Series) -> str:
    """The value name of one dataset's rows (several, if mixed summaries: joined with /)."""
    return "/".join(dict.fromkeys(str(n) for n in names.dropna())) or "value"


def _fmt_cost(cost: float) -> str:
    return "–" if math.isnan(cost) else f"{cost:,.0f}"


def to_markdown(table: pd.DataFrame, *, title: str | None = None) -> str:
    """One Markdown table per (space, T): methods as rows, per dataset the reported value (by name),
    the rank of the returned arch where known, and cost."""
    out = [f"# {title}", ""] if title else []
    for (space, budget), group in table.groupby(["space", "budget"], sort=True):
        datasets = sorted(dict.fromkeys(group["dataset"]), key=dataset_rank)
        seeds = sorted(set(group["seeds"]))
        out.append(f"## {space}, T = {budget} queries ({'/'.join(map(str, seeds))} seeds)")
        out.append("")
        names = {d: _one(group.loc[group["dataset"] == d, "value_name"]) for d in datasets}
        ranked = {d for d in datasets if group.loc[group["dataset"] == d, "mean_rank"].notna().any()}
        header = ["method"]
        for d in datasets:
            header.append(f"{d} {value_label(names[d])}")
            if d in ranked:
                n_archs = group.loc[group["dataset"] == d, "num_archs"].dropna()
                header.append(f"{d} rank (of {int(n_archs.iloc[0]):,})" if len(n_archs) else f"{d} rank")
            header.append(f"{d} cost (s)")
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
                    cells += ["–"] * (3 if d in ranked else 2)
                    continue
                r = hit.iloc[0]
                cells.append(_fmt(r["mean_test"], r["std_test"], digits=4 if _is_fraction(names[d]) else 2))
                if d in ranked:
                    cells.append(_fmt(r["mean_rank"], r["std_rank"], digits=1))
                cells.append(_fmt_cost(r["mean_cost"]))
                if not math.isnan(r["mean_t0"]):
                    t0.append(f"{r['mean_t0']:.1f}")
            if has_t0:
                cells.append(" / ".join(t0) if t0 else "–")
            out.append("| " + " | ".join(cells) + " |")
        out.append("")
    out.append(
        "Reported value (named in each column header) of the best-by-value queried architecture, mean ± std "
        "over seeds (np.std, ddof=0); "
        "cost = mean seconds of training the queried architectures would take (query cost only; "
        "metric computation not included). `single_metric (average of k)`: mean ± std over the k metrics "
        "of their mean; `single_metric (best: m)`: the metric with the highest mean (chosen with the reported values)."
    )
    spaces = set(table["space"])
    if "tnb101_micro" in spaces:
        out[-1] += (
            " TransNAS-Bench-101 values are each task's final-epoch **validation** metric (no test split exists): "
            "valid_top1 / valid_acc in %, valid_ssim in 0..1, valid_neg_loss = negative L2 loss (higher is better)."
        )
    if "darts" in spaces:
        out[-1] += (
            " DARTS (NAS-Bench-301) values are the surrogate's predicted CIFAR-10 **validation** accuracy "
            "(val_acc_surrogate), not a trained test accuracy."
        )
    if table["mean_rank"].notna().any():
        out[-1] += (
            " rank: the returned architecture's rank by that value among all the benchmark's architectures "
            "(1 = best, ties share the best rank), mean ± std over seeds."
        )
    if table["method"].str.startswith("swapnas").any():
        out[-1] += (
            " `swapnas`: a training-free search on one metric (its fitness, each run's `fitness_metric` in "
            "summary.json), then **one** query, the returned architecture, whatever T; its cost is that one query."
        )
    return "\n".join(out) + "\n"
