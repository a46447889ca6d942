"""Run methods x datasets x seeds concurrently on Ray into one result tree.

Layout: ``OUT/<space>/<dataset>/<method>/{trajectory.parquet,summary.json}``, written with
:func:`robot_ray.runs.results.write_results`. ``single_metric`` expands to one method per
metric (``single_metric-<metric>``). The benchmark and the metric matrix of each dataset are
put in the object store once; each Ray task runs a chunk of seeds of one method and returns
plain query rows (not ledgers, which would ship the whole benchmark back); the driver replays
them into ledgers, so budget accounting stays the ledger's.

``robot`` is not a baseline: it resolves lazily to ``robot_ray.runs.robot:robot_runner`` inside
the worker, or to any callable (or ``"module:attr"`` string) passed in ``runners``.
"""

from __future__ import annotations

import importlib
import math
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ray

from robot_ray.benchmarks import get_benchmark
from robot_ray.benchmarks.base import Query, TabularBenchmark
from robot_ray.errors import RobotRayError
from robot_ray.metric_sources import load_metrics
from robot_ray.metrics.matrix import MetricMatrix
from robot_ray.baselines import METHODS, NEEDS_METRICS, canonical_name, uses_metrics
from robot_ray.algorithm.ledger import QueryLedger
from robot_ray.algorithm.ledger import RunResult
from robot_ray.runs.results import write_results

ROBOT = "robot"
ROBOT_RUNNER = "robot_ray.runs.robot:robot_runner"
SINGLE = "single_metric"
LABEL = re.compile(r"[A-Za-z0-9_.-]+")
DEFAULT_METRICS: dict[str, tuple[str, ...]] = {"nb201": ("synflow", "snip", "nwot", "zen")}

Runner = Callable[..., RunResult]


@dataclass(frozen=True)
class MethodSpec:
    """One result directory's worth of work: which runner, with which options."""

    name: str  # directory / method name in results
    runner: str  # key into METHODS, "robot", or a key of ``runners``
    options: dict[str, Any] = field(default_factory=dict)


def expand_methods(methods: Iterable[str], metric_names: Sequence[str] | None) -> list[MethodSpec]:
    """Method names -> specs; ``single_metric`` becomes one spec per metric.

    Raises:
        RobotRayError: unknown method, or a metric-based method without metrics.
    """
    specs: list[MethodSpec] = []
    for raw in methods:
        name = canonical_name(raw)
        if name != ROBOT and name not in METHODS:
            raise RobotRayError(f"unknown method {raw!r}; choose from {', '.join([*METHODS, ROBOT])}")
        if (name in NEEDS_METRICS or name == ROBOT) and not metric_names:
            raise RobotRayError(f"method {name} needs training-free metrics: pass --metrics a,b,c")
        if name == SINGLE:
            specs += [MethodSpec(f"{SINGLE}-{m}", SINGLE, {"metric": m}) for m in metric_names]
        else:
            specs.append(MethodSpec(name, name))
    if len({s.name for s in specs}) != len(specs):
        raise RobotRayError(f"method list {list(methods)} names a method twice")
    return specs


def check_comparison(*, space: str, datasets: Sequence[str], methods: Sequence[str], metrics: Sequence[str] | None,
                     metric_table: str | os.PathLike | None, method_options: Mapping[str, Mapping[str, Any]] | None):
    """Everything of a comparison that can be checked without data or Ray: the space, the lists,
    the method names, options for methods that are run, and that a given metric table exists.

    Returns:
        ``(metric_names, options, needs_matrix, specs)`` as :func:`run_comparison` uses them.

    Raises:
        RobotRayError: the first problem, naming the flag and the fix.
    """
    from robot_ray.spaces import check_space

    check_space(space)
    if not datasets:
        raise RobotRayError("no datasets in --datasets: pass e.g. cifar10 (tasks for tnb101_micro)")
    if not methods:
        raise RobotRayError("no methods in --methods: pass e.g. rs,rea or robot")
    metric_names = tuple(metrics) if metrics else DEFAULT_METRICS.get(space, ())
    options = {canonical_name(k): dict(v) for k, v in (method_options or {}).items()}
    needs_matrix = {
        canonical_name(m) for m in methods
        if canonical_name(m) == ROBOT or uses_metrics(m, options.get(canonical_name(m)))
    }
    specs = expand_methods(methods, metric_names if needs_matrix else None)
    unused = sorted(set(options) - {s.runner for s in specs})
    if unused:
        raise RobotRayError(f"--option for {', '.join(unused)}, which --methods does not run: "
                            "fix the method name or add it to --methods")
    if metric_table is not None and "://" not in str(metric_table) and not Path(metric_table).expanduser().exists():
        raise RobotRayError(f"--metric-table {str(metric_table)!r} does not exist: pass a Parquet metric table "
                            "or a cache from `robot-ray precompute`, or leave it out for the published table")
    return metric_names, options, needs_matrix, specs


def check_label(label: str) -> None:
    """A method label becomes part of directory names: keep it to a safe alphabet."""
    if not LABEL.fullmatch(label):
        raise RobotRayError(f"label {label!r} must be letters, digits, '_', '.' or '-' (it names result directories)")


def load_metric_matrix(
    space: str,
    dataset: str,
    data_dir: str | os.PathLike | None,
    metrics: Sequence[str],
    *,
    table: str | os.PathLike | None = None,
    num_archs: int | None = None,
) -> MetricMatrix:
    """The normalised metric matrix of one dataset (a task, for TNB101), through
    :class:`~robot_ray.metric_sources.MetricSource` like every search.

    Args:
        table: a Parquet metric table or cache; default the published table of ``space``.
        num_archs: when given, the matrix must cover exactly this many architectures (every
            baseline ranks the whole benchmark).
    """
    matrix = load_metrics(space, metrics, dataset=dataset, cache=table, data_dir=data_dir)
    if num_archs is not None and matrix.num_archs != num_archs:
        raise RobotRayError(
            f"metric table {table or 'published'} covers {matrix.num_archs} archs, the benchmark has {num_archs}: "
            "finish the precompute (rerun it to resume) or pick the matching table"
        )
    return matrix


def resolve_runner(key: str, runners: Mapping[str, Runner | str] | None = None) -> Runner:
    """A runner by key: ``runners`` first, then the baselines, then ``robot`` by import path."""
    spec: Runner | str | None = (runners or {}).get(key)
    if spec is None and key in METHODS:
        return METHODS[key]
    if spec is None and key == ROBOT:
        spec = ROBOT_RUNNER
    if spec is None:
        raise RobotRayError(f"no runner for method {key!r}")
    if callable(spec):
        return spec
    module, _, attr = spec.partition(":")
    try:
        return getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as exc:
        raise RobotRayError(
            f"cannot import the runner {spec!r} for method {key!r} ({exc}); "
            "it is not written yet in this checkout, or pass runners={...} with a callable"
        ) from exc


def pack(result: RunResult) -> dict[str, Any]:
    """A RunResult as plain data, without the benchmark its ledger points to."""
    recs = [(r.arch_id, r.stage, r.value, r.test_value, r.cost, r.weights) for r in result.ledger.records]
    return {"seed": result.seed, "t0": result.t0, "best_weights": result.best_weights, "extra": result.extra, "records": recs}


def unpack(packed: Mapping[str, Any], benchmark: TabularBenchmark, budget: int) -> RunResult:
    """Replay packed query rows into a ledger over the driver's benchmark."""
    ledger = QueryLedger(benchmark, budget)
    for arch_id, stage, value, test_value, cost, weights in packed["records"]:
        ledger.record(arch_id, Query(value, test_value, cost), stage=stage, weights=weights)
    return RunResult(packed["seed"], ledger, packed["t0"], packed["best_weights"], dict(packed["extra"]))


@ray.remote
def _run_chunk(benchmark, metrics, runner_key: str, options: dict, budget: int, seeds: list[int], runners) -> list[dict]:
    """One Ray task: several seeds of one method (the benchmark arrives via the object store)."""
    runner = resolve_runner(runner_key, runners)
    return [pack(runner(benchmark, budget, seed, metrics=metrics, **options)) for seed in seeds]


def _drop(refs: list) -> None:
    """Cancel the other tasks of a failed comparison and read their errors, so that Ray does not
    print each one as an "unhandled error" traceback after the one-line message."""
    for ref in refs:
        ray.cancel(ref)
    ready, _ = ray.wait(refs, num_returns=len(refs), timeout=10)
    for ref in ready:
        try:
            ray.get(ref)
        except Exception:  # noqa: BLE001 - a cancelled task or the same user error again
            pass


def _chunks(seeds: Sequence[int], size: int) -> list[list[int]]:
    return [list(seeds[i : i + size]) for i in range(0, len(seeds), size)]


def run_comparison(
    *,
    space: str,
    datasets: Sequence[str],
    methods: Sequence[str],
    seeds: Sequence[int],
    budget: int,
    out: str | os.PathLike,
    data_dir: str | os.PathLike | None = None,
    metrics: Sequence[str] | None = None,
    metric_table: str | os.PathLike | None = None,
    method_options: Mapping[str, Mapping[str, Any]] | None = None,
    runners: Mapping[str, Runner | str] | None = None,
    seeds_per_task: int | None = None,
    progress: Callable[[str], None] | None = None,
    label: str | None = None,
) -> list[dict[str, Any]]:
    """Run every method on every dataset for every seed; write one result directory per pair.

    Args:
        space: search space (``nb201``, ``tnb101_micro``, ``darts``).
        datasets: datasets (tasks for TNB101).
        methods: baseline names (see :data:`METHODS`) and/or ``robot``.
        seeds: seeds, one run each.
        budget: T, distinct queries per run.
        out: root of the result tree.
        metrics: metric columns for ``single_metric`` and ``robot``; default per space (NB201:
            synflow, snip, nwot, zen).
        metric_table: Parquet table with those columns; default the space's published table.
        method_options: method name -> keyword options for its runner.
        runners: method name -> callable or ``"module:attr"`` overriding the default runner.
        seeds_per_task: seeds per Ray task; default splits each method into about 4 tasks.
        progress: called with one line per finished result directory.
        label: appended to every method name as ``<method>@<label>``, so a second configuration
            of a method (other metrics, other options) sits beside the first in one report.

    Returns:
        The summaries written, in completion order.

    Raises:
        RobotRayError: unknown methods, datasets, metrics; missing data.
    """
    if not seeds:
        raise RobotRayError("need at least one seed: pass --seeds, e.g. 0-49")
    metric_names, options, needs_matrix, specs = check_comparison(
        space=space, datasets=datasets, methods=methods, metrics=metrics, metric_table=metric_table,
        method_options=method_options)
    if label is not None:
        check_label(label)
        specs = [MethodSpec(f"{s.name}@{label}", s.runner, s.options) for s in specs]
    per_task = seeds_per_task or max(1, math.ceil(len(seeds) / 4))
    if not ray.is_initialized():
        from robot_ray.cluster import connect

        connect()
    pending: dict[ray.ObjectRef, tuple[str, str]] = {}
    collected: dict[tuple[str, str], list[dict]] = {}
    expected: dict[tuple[str, str], int] = {}
    benches: dict[str, TabularBenchmark] = {}
    for dataset in datasets:
        bench = get_benchmark(space, dataset, data_dir)
        benches[dataset] = bench
        matrix = (
            load_metric_matrix(space, bench.dataset, data_dir, metric_names, table=metric_table, num_archs=bench.num_archs)
            if needs_matrix
            else None
        )
        bench_ref, matrix_ref = ray.put(bench), ray.put(matrix)
        for spec in specs:
            opts = {**options.get(spec.runner, {}), **spec.options}
            chunks = _chunks(list(seeds), per_task)
            expected[(dataset, spec.name)] = len(chunks)
            for chunk in chunks:
                ref = _run_chunk.remote(bench_ref, matrix_ref, spec.runner, opts, budget, chunk, runners)
                pending[ref] = (dataset, spec.name)
    summaries = []
    by_name = {s.name: s for s in specs}
    while pending:
        done, _ = ray.wait(list(pending), num_returns=1)
        key = pending.pop(done[0])
        try:
            collected.setdefault(key, []).extend(ray.get(done[0]))
        except ray.exceptions.RayTaskError as exc:  # a runner's RobotRayError (an unknown option): one line
            cause = getattr(exc, "cause", None)
            if isinstance(cause, RobotRayError):
                _drop(list(pending))
                raise RobotRayError(f"{key[1]} on {key[0]}: {cause}") from None
            raise
        expected[key] -= 1
        if expected[key]:
            continue
        dataset, name = key
        bench = benches[dataset]
        runs = [unpack(p, bench, budget) for p in collected.pop(key)]
        spec = by_name[name]
        summary = write_results(
            Path(out) / space / bench.dataset / name,
            runs,
            method=name,
            space=space,
            dataset=bench.dataset,
            objective=bench.value_name,
            test_name=bench.test_name,
            budget=budget,
            metrics=list(metric_names) if spec.runner in needs_matrix else None,
            options={**options.get(spec.runner, {}), **spec.options},
        )
        summaries.append(summary)
        if progress:
            progress(
                f"{space}/{bench.dataset}/{name}: {summary['mean_test_value']:.2f} ± "
                f"{summary['std_test_value']:.2f} over {len(runs)} seeds"
            )
    return summaries
