"""Figures: best reported value (by its name) vs queries per dataset (like RoBoT's Figure 2), and RoBoT's T0 and
best weight vectors. matplotlib runs headless (Agg) and only inside these functions."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from robot_ray.report.collect import ResultDir
from robot_ray.report.table import SINGLE_PREFIX, method_rank, value_label, value_name

_BASE_COLORS = {"rs": "tab:gray", "rea": "tab:blue", "reinforce": "tab:orange", "weaknas": "tab:green", "robot": "tab:red",
                "prenas": "black", "swapnas": "magenta"}
_LABEL_STYLES = ("-.", ":", (0, (5, 1)), (0, (3, 1, 1, 1, 1, 1)))
"""Line styles of labelled variants (``method@label``), which keep their method's colour."""
_SINGLE_COLORS = ("tab:purple", "tab:brown", "tab:pink", "tab:olive", "tab:cyan", "navy", "teal", "gold")
DATASET_LABELS = {"cifar10": "CIFAR-10", "cifar100": "CIFAR-100", "ImageNet16-120": "ImageNet16-120"}


def pyplot():
    """matplotlib.pyplot on the file-only Agg backend (no display on cluster nodes or CI)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig, path: str | Path) -> Path:
    """Lay out, write the PNG (creating its folder) and free the figure."""
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    pyplot().close(fig)
    return path


def test_label(results: Sequence[ResultDir]) -> str:
    """Y axis label: what the value is, with its unit, from the summaries' ``test_name``
    (``test_acc_200ep (%)``, a TNB101 task's ``valid_ssim``, NB301's ``val_acc_surrogate (%)``)."""
    names = {value_name(r) for r in results}
    if len(names) == 1:
        name = names.pop()
        kind = "validation" if name.startswith("val") else "test" if name.startswith("test") else ""
        what = f"{kind} value" if kind else "value"
        if "surrogate" in name:
            what = "surrogate validation accuracy"
        return f"{what} of best found arch\n[{value_label(name)}]"
    return "reported value of best found arch\n[" + " / ".join(sorted(value_label(n) for n in names)) + "]"


def best_so_far(trajectory: pd.DataFrame, budget: int) -> np.ndarray:
    """(seeds, T) running best test value; a shorter run keeps its last value."""
    table = trajectory.pivot_table(index="seed", columns="query", values="best_test_value", aggfunc="first")
    table = table.reindex(columns=range(1, budget + 1)).ffill(axis=1)
    return table.to_numpy(dtype=float)


def curve_stats(result: ResultDir) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(queries, mean, standard error) over seeds of the running best test value."""
    curves = best_so_far(result.trajectory, result.budget)
    n = np.sum(~np.isnan(curves), axis=0)
    mean = np.nanmean(curves, axis=0)
    sem = np.zeros(curves.shape[1])
    several = n > 1  # one seed has no spread: 0, without numpy's degrees-of-freedom warning
    sem[several] = np.nanstd(curves[:, several], axis=0, ddof=1) / np.sqrt(n[several])
    return np.arange(1, curves.shape[1] + 1), mean, sem


def plot_curves(results: Sequence[ResultDir], path: str | Path, *, title: str | None = None) -> Path:
    """One line per method (mean ± standard error band) for one (space, dataset, T)."""
    plt = pyplot()
    from matplotlib.ticker import MaxNLocator

    results = sorted((r for r in results if not r.trajectory.empty), key=lambda r: method_rank(r.method))
    fig, ax = plt.subplots(figsize=(9.0, 4.8), dpi=130)
    singles = iter(_SINGLE_COLORS)
    variants: dict[str, int] = {}
    lows, his = [], []
    for r in results:
        x, mean, sem = curve_stats(r)
        single = r.method.startswith(SINGLE_PREFIX)
        base, _, tag = r.method.partition("@")
        color = next(singles, None) if single else _BASE_COLORS.get(base)
        style = "--" if single else "-"
        if tag and not single:
            style = _LABEL_STYLES[variants.get(base, 0) % len(_LABEL_STYLES)]
            variants[base] = variants.get(base, 0) + 1
        label = f"{r.method[len(SINGLE_PREFIX):]} (single metric)" if single else r.method
        line, = ax.plot(x, mean, label=label, color=color, lw=1.4 if single else 2.0, ls=style)
        ax.fill_between(x, mean - sem, mean + sem, color=line.get_color(), alpha=0.15, lw=0)
        # Zoom where methods differ: every final value, and searches from about T/5 queries on;
        # the first random queries (and a weak metric's early picks) would squash the rest.
        lows.append(mean[-1] if single else min(mean[-1], mean[min(len(mean) - 1, max(1, len(mean) // 5))]))
        his.append(np.nanmax(mean + sem))
    first = results[0] if results else None
    if lows:
        lo, hi = min(lows), max(his)
        pad = 0.06 * (hi - lo) if hi > lo else 0.5
        ax.set_ylim(lo - pad, hi + pad)
    ax.set_xlabel("number of queried architectures (distinct queries)")
    ax.set_ylabel(test_label(results))
    seeds = sorted({len(r.runs) for r in results})
    ax.set_title(title or (
        f"{first.space} {DATASET_LABELS.get(first.dataset, first.dataset)}: best {value_name(first)} vs queries "
        f"(T={first.budget}, {'/'.join(map(str, seeds))} seeds, mean ± s.e.)" if first else "no results"
    ), fontsize=10)
    ax.grid(alpha=0.3)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if first is not None:
        ax.set_xlim(1, first.budget)
    if ax.get_legend_handles_labels()[0]:  # no trajectories: no legend (matplotlib warns on stderr otherwise)
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), title="method", title_fontsize=8)
    return save_figure(fig, path)


def best_weights(result: ResultDir) -> tuple[list[int], list[str], np.ndarray]:
    """(seeds, metric names, (seeds, M) weights) from summaries, else the trajectory's best row."""
    runs = [r for r in result.runs if r.get("best_weights")]
    if runs:
        names = list(runs[0]["best_weights"])
        return [r["seed"] for r in runs], names, np.array([[r["best_weights"].get(m, math.nan) for m in names] for r in runs])
    traj = result.trajectory
    if traj.empty or "weights" not in traj or traj["weights"].isna().all():
        return [], [], np.zeros((0, 0))
    rows = traj.dropna(subset=["weights"]).sort_values("value", ascending=False).groupby("seed").head(1).sort_values("seed")
    weights = np.array([list(w) for w in rows["weights"]], dtype=float)
    names = list(result.summary.get("metrics") or [f"metric {i}" for i in range(weights.shape[1])])
    return rows["seed"].tolist(), names, weights


def has_robot_detail(result: ResultDir) -> bool:
    return any(r.get("t0") is not None or r.get("best_weights") for r in result.runs) or (
        "weights" in result.trajectory and result.trajectory["weights"].notna().any()
    )


def plot_robot(result: ResultDir, path: str | Path) -> Path:
    """T0 per seed (bars) and the best weight vector per seed (heat map, metrics as columns)."""
    plt = pyplot()
    seeds_w, names, weights = best_weights(result)
    t0 = [(r["seed"], r["t0"]) for r in result.runs if r.get("t0") is not None]
    fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(11, 4.8), dpi=130, gridspec_kw={"width_ratios": [1.2, 1]})
    if t0:
        s, v = zip(*t0)
        ax0.bar(range(len(s)), v, color="tab:red", alpha=0.8)
        ax0.axhline(np.mean(v), color="k", ls="--", lw=1, label=f"mean T0 = {np.mean(v):.1f}")
        ax0.axhline(result.budget, color="tab:gray", ls=":", lw=1, label=f"budget T = {result.budget}")
        step = max(1, len(s) // 10)
        ax0.set_xticks(range(0, len(s), step), [str(x) for x in s[::step]])
        ax0.legend(fontsize=8)
    else:
        ax0.text(0.5, 0.5, "no T0 recorded", ha="center", va="center", transform=ax0.transAxes)
    ax0.set_xlabel("seed")
    ax0.set_ylabel("T0 (distinct archs queried by the BO stage)")
    ax0.set_title("BO-stage queries T0 per seed", fontsize=10)
    if weights.size:
        im = ax1.imshow(weights, aspect="auto", cmap="coolwarm", vmin=-1, vmax=1, interpolation="nearest")
        ax1.set_xticks(range(len(names)), names, rotation=30, ha="right", fontsize=8)
        step = max(1, len(seeds_w) // 10)
        ax1.set_yticks(range(0, len(seeds_w), step), [str(x) for x in seeds_w[::step]])
        fig.colorbar(im, ax=ax1, label="weight (normalised metric, in [-1, 1])")
    else:
        ax1.text(0.5, 0.5, "no weights recorded", ha="center", va="center", transform=ax1.transAxes)
    ax1.set_xlabel("training-free metric")
    ax1.set_ylabel("seed")
    ax1.set_title("best weight vector per seed", fontsize=10)
    fig.suptitle(f"{result.method} on {result.space} {DATASET_LABELS.get(result.dataset, result.dataset)} (T={result.budget})", fontsize=11)
    return save_figure(fig, path)
