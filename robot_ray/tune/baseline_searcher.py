"""Every baseline as a Ray Tune ``Searcher``: the baseline's own ``run`` loop, driven by Tune trials.

A baseline (:mod:`robot_ray.baselines`) is a sequential loop that asks a benchmark for one answer
at a time. :class:`BaselineSearcher` runs that *unchanged* ``run`` function in a background
thread against a proxy benchmark: the proxy's ``query(arch_id)`` hands the architecture to Tune
(``suggest`` returns it as a trial config) and blocks until that trial's result arrives
(``on_trial_complete``). So the searcher and ``run`` are one implementation: fed the same
answers, they query the same architectures in the same order.

Consequences worth knowing:

* **One trial in flight.** The baselines are sequential algorithms, so ``suggest`` returns
  ``None`` while a trial runs; with ``max_concurrent_trials=4`` Tune still runs one trial at a
  time. ``set_max_concurrency`` returns ``False`` (Tune wraps the searcher in a
  ``ConcurrencyLimiter``, which is harmless).
* **Blocking suggest.** ``suggest`` waits while the baseline computes its next proposal (e.g.
  WeakNAS fitting its predictor), as any model-based searcher computes inside ``suggest``.
* **Not multi-fidelity.** A trial stopped early by a scheduler (ASHA) answers its last reported
  value, taken as final.
* **Failures are NaN.** An errored trial, a trial removed before it ran (``result=None``,
  ``error=False``), or a result without a finite ``metric`` answers NaN, which the ledger ranks
  below any number.
* **metric/mode.** Tune (2.60) forwards ``TuneConfig``'s metric and mode through
  ``set_search_properties`` only when ``param_space`` is non-empty; without a ``param_space``,
  pass them to the searcher itself.
* **State by replay.** ``get_state`` records the answers; ``set_state`` (and unpickling) start a
  fresh run of the deterministic loop that is fed the recorded answers, so a restored searcher
  continues exactly where the saved one was. Neither the thread nor its queues are saved.

.. code-block:: python

    from ray import tune
    from robot_ray.benchmarks import get_benchmark
    from robot_ray.tune.baseline_searcher import REASearcher

    bench = get_benchmark("nb201", "cifar10", None)

    def trainable(config):
        tune.report({"accuracy": bench.query(config["arch_id"]).value})

    searcher = REASearcher(bench, budget=50, seed=0)
    tuner = tune.Tuner(
        trainable,
        tune_config=tune.TuneConfig(search_alg=searcher, metric="accuracy", mode="max", num_samples=-1),
        param_space={"epochs": 12},  # constants only; the searcher chooses the architectures
    )
    tuner.fit()
    print(searcher.best())  # {"arch": ..., "arch_id": ..., "accuracy": ..., "stage": "rea"}
"""

from __future__ import annotations

import copy
import json
import logging
import math
import queue
import threading
import weakref
from collections.abc import Callable
from typing import Any

import numpy as np
from ray.tune.search import UNDEFINED_METRIC_MODE, Searcher

from robot_ray.baselines import (
    METHODS, canonical_name, lookup, prenas, rea, reinforce, rs, single_metric, swapnas, weaknas,
)
from robot_ray.benchmarks.base import Benchmark, PoolView, Query
from robot_ray.errors import RobotRayError
from robot_ray.io.state import check_version, float_from_json, json_float
from robot_ray.tune.param_space import constants_of
from robot_ray.tune.json_state import JsonStateSearcher

logger = logging.getLogger(__name__)

STATE_VERSION = 1
RESERVED_KEYS = ("arch", "arch_id", "stage", "parent_arch", "lineage")
"""Config keys the searcher sets; a ``param_space`` may not use them."""
_NAN = float("nan")


# -- the proxy benchmark and the baseline thread -------------------------------------------------
class _Stop(BaseException):
    """Ends a baseline thread from inside ``query`` (a BaseException, so no baseline catches it)."""


class _DryRunDone(BaseException):
    """Raised by the proxy's first ``query`` outside a driver thread: the run's own checks passed."""


_THREAD = threading.local()
"""``_THREAD.driver``: the :class:`_Driver` whose thread is running; unset in every other thread."""


class _TuneBenchmark(PoolView):
    """The user's pool without its answers: ``query`` asks Tune (via the running driver).

    The baselines' column reads (``archs``, ``num_archs``, ``space``) go to the wrapped pool
    (:class:`~robot_ray.benchmarks.base.PoolView`); one proxy lives as long as its searcher, so
    the memoised encodings (keyed per benchmark object) are built once.
    """

    def query(self, arch_id: int) -> Query:
        return self.query_in_context(arch_id, {})

    def query_in_context(self, arch_id: int, context) -> Query:
        driver = getattr(_THREAD, "driver", None)
        if driver is None:
            raise _DryRunDone
        return driver.query(int(arch_id), dict(context))


class _Unfinished(BaseException):
    """Raised by :class:`_ReplayBenchmark` when the run asks past the recorded answers."""


class _ReplayBenchmark(_TuneBenchmark):
    """The pool answering from recorded ``(arch_id, answer)`` pairs, in order (:meth:`BaselineSearcher.run_result`)."""

    def __init__(self, benchmark: Benchmark, replay: list[tuple[int, Query]], method: str) -> None:
        super().__init__(benchmark)
        self._replay, self._method, self.served = replay, method, 0

    def query_in_context(self, arch_id: int, context) -> Query:
        return self.query(arch_id)

    def query(self, arch_id: int) -> Query:
        i = self.served
        if i >= len(self._replay):
            raise _Unfinished
        expected, answer = self._replay[i]
        if expected != int(arch_id):
            raise RobotRayError(
                f"{self._method} replay diverged at query {i + 1}: it proposed arch {arch_id}, the search had "
                f"{expected}; replay with the same benchmark, seed, metrics and options"
            )
        self.served += 1
        return answer


class _Driver:
    """One background run of a baseline; talks to the searcher through two queues only.

    It holds no reference to the searcher, so a searcher that is garbage-collected stops it
    (``weakref.finalize``). The first ``len(replay)`` queries are answered from ``replay``
    (restoring); later ones are posted as ``("query", arch_id)`` and wait for :meth:`answer`.
    """

    def __init__(self, method: str, run: Callable, proxy: _TuneBenchmark, budget: int, seed: int, metrics,
                 options: dict, replay: list[tuple[int, Query]]) -> None:
        self.method = method
        self._run = run
        self._args = (proxy, budget, seed)
        self._metrics = metrics
        self._options = options
        self._replay = replay
        self._served = 0
        self._budget = budget
        self._requests: queue.Queue = queue.Queue()  # thread -> searcher
        self._answers: queue.Queue = queue.Queue()  # searcher -> thread
        self._stopped = threading.Event()
        self.thread = threading.Thread(target=self._main, name=f"robot-ray-{method}-searcher", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def _main(self) -> None:
        _THREAD.driver = self
        try:
            self._run(*self._args, metrics=self._metrics, **self._options)
        except _Stop:
            return
        except BaseException as exc:  # handed to the Tune thread, re-raised there by suggest
            self._requests.put(("error", exc))
            return
        finally:
            _THREAD.driver = None
        self._requests.put(("done", None))

    # -- called in the baseline thread (through the proxy) --------------------------------------
    def query(self, arch_id: int, context: dict | None = None) -> Query:
        if self._stopped.is_set():
            raise _Stop
        i = self._served
        if i >= self._budget:  # a baseline bug: the ledger never asks past its budget
            raise RuntimeError(f"{self.method} asked for query {i + 1} of a budget of {self._budget}")
        self._served += 1
        if i < len(self._replay):
            expected, answer = self._replay[i]
            if expected != arch_id:
                raise RobotRayError(
                    f"restored {self.method} searcher diverged at query {i + 1}: it proposed arch {arch_id}, "
                    f"the saved run had {expected}; restore with the same benchmark, seed, metrics and options"
                )
            return answer
        self._requests.put(("query", (arch_id, context or {})))
        answer = self._answers.get()
        if answer is None or self._stopped.is_set():
            raise _Stop
        return answer

    # -- called in the Tune thread --------------------------------------------------------------
    def next_request(self) -> tuple[str, Any]:
        """The thread's next message: ``("query", (id, context))``, ``("done", None)`` or ``("error", exc)``."""
        while True:
            try:
                return self._requests.get(timeout=1.0)
            except queue.Empty:
                if not self.thread.is_alive():
                    try:
                        return self._requests.get_nowait()
                    except queue.Empty:
                        return "error", RuntimeError("the baseline thread ended without a result")

    def answer(self, answer: Query) -> None:
        self._answers.put(answer)

    def stop(self) -> None:
        self._stopped.set()
        self._answers.put(None)


# -- small helpers -------------------------------------------------------------------------------
def _finite_or_nan(value: Any) -> float:
    """A float, or NaN for a missing, non-numeric or non-finite value."""
    if value is None or isinstance(value, bool):
        return _NAN
    try:
        value = float(value)
    except (TypeError, ValueError):
        return _NAN
    return value if math.isfinite(value) else _NAN


def _inherited(result: dict) -> float | None:
    """The share of parameters a trial's network took from its parent (``inherited_fraction``), if reported."""
    value = _finite_or_nan(result.get("inherited_fraction"))
    return None if math.isnan(value) else value


def _jsonable(obj: Any) -> Any:
    """Options as plain JSON (tuples become lists; anything exotic becomes its repr)."""
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in sorted(obj.items(), key=lambda kv: str(kv[0]))}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    if obj is None or isinstance(obj, (str, int, float, bool)):
        return obj
    return repr(obj)


def _better(value: float, best: float) -> bool:
    """The ledger's rule: strictly better; NaN is worse than any number."""
    if math.isnan(value):
        return False
    return math.isnan(best) or value > best


# -- the searcher --------------------------------------------------------------------------------
class BaselineSearcher(JsonStateSearcher):
    """A baseline of :mod:`robot_ray.baselines` as a Ray Tune ``Searcher`` (see the module doc).

    Use a named subclass (:class:`RSSearcher`, :class:`REASearcher`, :class:`REINFORCESearcher`,
    :class:`WeakNASSearcher`, :class:`SingleMetricSearcher`, :class:`PRENASSearcher`,
    :class:`SWAPNASSearcher`) or pass ``method=NAME``.

    Args:
        benchmark: the tabular pool (a :class:`~robot_ray.benchmarks.base.TabularBenchmark`); only
            its architectures are used, answers come from the Tune trials.
        budget: distinct architectures to query (trials); then ``suggest`` returns ``FINISHED``.
        seed: the baseline's seed (the same seed and answers give the same architectures).
        metric, mode: the reported result key that answers a query, and ``"max"``/``"min"``;
            here or through ``tune.TuneConfig`` (Tune passes them via ``set_search_properties``).
            With ``mode="min"`` the baseline maximises the negated metric.
        metrics: a :class:`~robot_ray.metrics.matrix.MetricMatrix` (single_metric and swapnas need one;
            prenas uses it with ``features="onehot+metrics"``).
        method: the baseline name, when using this class directly.
        **method_options: the method's own options (those of its ``run`` function), except that
            single_metric's column is ``ranking_metric=NAME`` (``metric`` is Tune's).

    Config of each trial: the ``param_space`` constants plus ``"arch"`` (the canonical arch
    string), ``"arch_id"`` (int) and ``"stage"`` (the method name); a query with a history adds
    ``"parent_arch"`` (the trained architecture it descends from, e.g. PRE-NAS with
    ``inherit=True``) and ``"lineage"`` (the run's name), so a trainable can start the child from
    its parent's weights (:func:`robot_ray.train.inherit_weights`). A trial may report
    ``"test_value"`` and ``"cost"`` next to ``metric``; they are recorded (NaN when absent).

    Raises:
        RobotRayError: an unknown method, a bad ``mode``, or options the method's ``run`` rejects
            (checked at construction by the run function's own checks).
    """

    method: str | None = None

    def __init__(
        self,
        benchmark: Benchmark,
        budget: int,
        seed: int = 0,
        *,
        metric: str | None = None,
        mode: str | None = None,
        metrics=None,
        method: str | None = None,
        **method_options,
    ) -> None:
        method = self._resolve_method(method)
        _check_metric_mode(metric, mode)
        super().__init__(metric=metric, mode=mode)
        self.method = method
        self.benchmark = benchmark
        self.budget = budget
        self.seed = int(seed)
        self.metrics = metrics
        self.method_options = _method_options(method, metrics, method_options)
        self._constants: dict = {}
        self._records: list[dict] = []  # completed queries, budget order (values as reported)
        self._pending: tuple[str, int, str] | None = None  # (trial_id, arch_id, arch) handed to Tune, not answered
        self._init_runtime()
        self._dry_run()
        self.budget = int(budget)

    # -- construction --------------------------------------------------------------------------
    def _resolve_method(self, method: str | None) -> str:
        fixed = type(self).method
        if method is None:
            method = fixed
        if method is None:
            raise RobotRayError(
                f"BaselineSearcher needs method=NAME (one of {', '.join(METHODS)}), or use a named subclass "
                "such as REASearcher"
            )
        key = canonical_name(method)
        if key not in METHODS:
            raise RobotRayError(f"unknown baseline {method!r}; choose one of {', '.join(METHODS)}")
        if fixed is not None and key != fixed:
            raise RobotRayError(
                f"{type(self).__name__} runs {fixed!r}, not method={method!r}: drop the method argument"
            )
        return key

    def _init_runtime(self) -> None:
        """What is rebuilt rather than saved: the proxy, the driver thread and a thread error."""
        self._proxy = _TuneBenchmark(self.benchmark)
        self._driver: _Driver | None = None
        self._finalizer = None
        self._error: BaseException | None = None

    def _dry_run(self) -> None:
        """Run the method until its first query: every option check of ``run`` happens before it."""
        try:
            METHODS[self.method](self._proxy, self.budget, self.seed, metrics=self.metrics, **self.method_options)
        except _DryRunDone:
            return
        except RobotRayError:
            raise
        except Exception as exc:
            raise RobotRayError(
                f"{self.method} rejected its options {self.method_options}: {type(exc).__name__}: {exc}; "
                f"see robot_ray.baselines.{self.method}.run for the accepted values"
            ) from exc
        raise AssertionError(f"{self.method}.run returned without querying")  # budget >= 1 is checked by the ledger

    # -- Tune contract -------------------------------------------------------------------------
    def set_search_properties(self, metric: str | None, mode: str | None, config: dict, **spec) -> bool:
        """Take metric/mode (unless set already) and the constants of Tune's ``param_space``.

        Raises:
            RobotRayError: the param_space has a search domain (``tune.uniform``, ``grid_search``,
                ...) or uses a key the searcher sets; the metric or mode would change mid-search.
        """
        constants = constants_of(config or {}, type(self).__name__, RESERVED_KEYS)
        _check_metric_mode(metric, mode)
        if self._records or self._pending:
            for name, new, old in (("metric", metric, self._metric), ("mode", mode, self._mode)):
                if new and old and new != old:
                    raise RobotRayError(
                        f"{type(self).__name__} already searches with {name}={old!r}; "
                        f"cannot switch to {new!r} mid-search"
                    )
        if metric:
            self._metric = metric
        if mode:
            self._mode = mode
        self._constants = constants
        return True

    def set_max_concurrency(self, max_concurrent: int) -> bool:
        """``False``: a sequential baseline runs one trial at a time (``suggest`` returns ``None``)."""
        return False

    def suggest(self, trial_id: str) -> dict | str | None:
        """The next architecture as a config, ``None`` while a trial is in flight, or ``FINISHED``.

        Raises:
            RuntimeError: neither metric nor mode was set (Tune's ``UNDEFINED_METRIC_MODE``).
            RobotRayError: the baseline failed (the original message), now or earlier.
        """
        if self._metric is None or self._mode is None:
            raise RuntimeError(
                UNDEFINED_METRIC_MODE.format(cls=type(self).__name__, metric=self._metric, mode=self._mode)
            )
        if self._error is not None:
            raise self._wrapped_error()
        if len(self._records) >= self.budget:
            self._stop_driver()
            return Searcher.FINISHED
        if self._pending is not None:
            return None
        if self._driver is None:
            self._start_driver()
        kind, payload = self._driver.next_request()
        if kind == "done":  # a run that ends under its budget (swapnas spends one query), not an error
            self._stop_driver()
            return Searcher.FINISHED
        if kind == "error":
            self._error = payload
            self._stop_driver()
            raise self._wrapped_error()
        arch_id, context = int(payload[0]), payload[1]
        arch = context.get("arch") or self.benchmark.arch(arch_id)
        self._pending = (trial_id, arch_id, arch)
        config = {**copy.deepcopy(self._constants), "arch": arch, "arch_id": arch_id, "stage": self.method}
        config.update((k, context[k]) for k in ("parent_arch", "lineage") if context.get(k) is not None)
        return config

    def on_trial_complete(self, trial_id: str, result: dict | None = None, error: bool = False) -> None:
        """Answer the waiting baseline with the trial's ``metric`` (NaN if errored, removed or missing)."""
        if self._pending is None or self._pending[0] != trial_id:
            logger.warning("%s: completion of unknown or finished trial %s ignored", type(self).__name__, trial_id)
            return
        _, arch_id, arch = self._pending
        result = {} if (error or not result) else result
        value = _finite_or_nan(result.get(self._metric))
        if math.isnan(value):
            reason = "trial errored" if error else f"no finite {self._metric!r} in the result"
            logger.warning("%s: trial %s (arch %d) answers NaN: %s", type(self).__name__, trial_id, arch_id, reason)
        record = {
            "trial_id": trial_id,
            "arch_id": arch_id,
            "arch": arch,
            "value": value,
            "test_value": _finite_or_nan(result.get("test_value")),
            "cost": _finite_or_nan(result.get("cost")),
            "inherited": _inherited(result),
        }
        self._records.append(record)
        self._pending = None
        if self._driver is not None:
            self._driver.answer(self._answer_of(record))

    # -- results -------------------------------------------------------------------------------
    def _internal(self, value: float) -> float:
        """The value the baseline maximises."""
        return -value if self._mode == "min" else value

    def _answer_of(self, record: dict) -> Query:
        return Query(self._internal(record["value"]), record["test_value"], record["cost"], record.get("inherited"))

    def history(self) -> list[dict]:
        """One dict per distinct query, in budget order: arch_id, arch, stage, value (as reported;
        NaN for a failed trial), test_value, cost."""
        return [
            {"arch_id": r["arch_id"], "arch": r["arch"], "stage": self.method,
             "value": r["value"], "test_value": r["test_value"], "cost": r["cost"]}
            for r in self._records
        ]

    def best(self) -> dict | None:
        """The best answered architecture (the first found wins a tie), as
        ``{"arch", "arch_id", <metric>: value, "stage"}``; None before any finite result."""
        best = None
        for r in self._records:
            if _better(self._internal(r["value"]), _NAN if best is None else self._internal(best["value"])):
                best = r
        if best is None:
            return None
        return {"arch": best["arch"], "arch_id": best["arch_id"],
                self._metric or "value": best["value"], "stage": self.method}

    @property
    def spent(self) -> int:
        """Distinct architectures answered so far."""
        return len(self._records)

    def run_result(self):
        """The baseline's own :class:`~robot_ray.algorithm.ledger.RunResult` for the answers recorded
        here: its ``run`` function replayed in this thread, every query answered from the records
        (so ``extra``, e.g. SWAP-NAS's ``fitness_evaluations``, is the run's own). Values are as
        the baseline saw them (negated under ``mode="min"``). Works on a searcher restored with
        :meth:`set_state`.

        Returns:
            The RunResult, or None when the run is not finished (it asks past the recorded answers).

        Raises:
            RobotRayError: the replay proposes another architecture than the one recorded.
        """
        proxy = _ReplayBenchmark(self.benchmark, [(r["arch_id"], self._answer_of(r)) for r in self._records],
                                 self.method)
        try:
            result = METHODS[self.method](proxy, self.budget, self.seed, metrics=self.metrics, **self.method_options)
        except _Unfinished:
            return None
        if proxy.served != len(self._records):
            raise RobotRayError(f"{self.method} replay ended after {proxy.served} of {len(self._records)} answers")
        return result

    # -- the thread ----------------------------------------------------------------------------
    def _start_driver(self) -> None:
        replay = [(r["arch_id"], self._answer_of(r)) for r in self._records]
        driver = _Driver(self.method, METHODS[self.method], self._proxy, self.budget, self.seed, self.metrics,
                         self.method_options, replay)
        self._driver = driver
        # stops the thread when this searcher is collected (the driver holds no reference back)
        self._finalizer = weakref.finalize(self, driver.stop)
        driver.start()

    def _stop_driver(self) -> None:
        if self._finalizer is not None:
            self._finalizer()  # calls driver.stop once
        self._driver, self._finalizer = None, None

    def _wrapped_error(self) -> RobotRayError:
        exc = self._error
        if isinstance(exc, RobotRayError):
            err = RobotRayError(str(exc))
        else:
            err = RobotRayError(f"the {self.method} baseline failed: {type(exc).__name__}: {exc}")
        err.__cause__ = exc
        return err

    # -- state ---------------------------------------------------------------------------------
    def get_state(self) -> dict[str, Any]:
        """Plain JSON: the run's identity and every answer (NaN as null). The ``param_space``
        constants are not included (Tune passes them again on restore)."""
        return {
            "version": STATE_VERSION,
            "method": self.method,
            "space": getattr(self.benchmark, "space", None),
            "num_archs": int(self.benchmark.num_archs),
            "budget": int(self.budget),
            "seed": self.seed,
            "metric": self._metric,
            "mode": self._mode,
            "options": _jsonable(self.method_options),
            "records": [
                {"trial_id": r["trial_id"], "arch_id": r["arch_id"], "arch": r["arch"], "value": json_float(r["value"]),
                 "test_value": json_float(r["test_value"]), "cost": json_float(r["cost"]),
                 **({} if r.get("inherited") is None else {"inherited": r["inherited"]})}
                for r in self._records
            ],
            "pending": None if self._pending is None else {"trial_id": self._pending[0], "arch_id": self._pending[1],
                                                           "arch": self._pending[2]},
        }

    def set_state(self, state: dict[str, Any]) -> None:
        """Continue a saved search: the next ``suggest`` replays the recorded answers into a fresh run.

        The state sets budget, seed, metric and mode; the searcher must have been built with the
        same method, pool and options (the benchmark and metric matrix are not in the state).

        Raises:
            RobotRayError: another state version, method, pool or options.
        """
        if not isinstance(state, dict):
            raise RobotRayError(f"searcher state is a {type(state).__name__}, not a JSON object: start a new search")
        check_version(state, kind="baseline searcher state", supported=[STATE_VERSION], hint="start a new search")
        name = type(self).__name__
        if state["method"] != self.method:
            raise RobotRayError(
                f"the state is of a {state['method']!r} search; restore it into that method's searcher, not {name}"
            )
        if state["num_archs"] != self.benchmark.num_archs or state["space"] != getattr(self.benchmark, "space", None):
            raise RobotRayError(
                f"the state is of a search over {state['space']} ({state['num_archs']} archs); build {name} "
                f"with that benchmark, not {getattr(self.benchmark, 'space', None)} ({self.benchmark.num_archs} archs)"
            )
        if json.dumps(state["options"], sort_keys=True) != json.dumps(_jsonable(self.method_options), sort_keys=True):
            raise RobotRayError(
                f"the state was saved with options {state['options']}; build {name} with the same options "
                f"(got {_jsonable(self.method_options)})"
            )
        budget = int(state["budget"])
        if not 1 <= budget <= self.benchmark.num_archs:
            raise RobotRayError(f"state budget {budget} is outside 1..{self.benchmark.num_archs}")
        self._stop_driver()
        self._error = None
        self.budget, self.seed = budget, int(state["seed"])
        self._metric, self._mode = state["metric"], state["mode"]
        self._records = [
            {"trial_id": r["trial_id"], "arch_id": int(r["arch_id"]), "arch": self._arch_of(r),
             "inherited": r.get("inherited"), "value": float_from_json(r["value"]),
             "test_value": float_from_json(r["test_value"]), "cost": float_from_json(r["cost"])}
            for r in state["records"]
        ]
        pending = state["pending"]
        self._pending = None if pending is None else (pending["trial_id"], int(pending["arch_id"]), self._arch_of(pending))

    def _arch_of(self, saved: dict) -> str:
        """A saved record's arch string (states written before records held it: the pool's)."""
        return saved.get("arch") or self.benchmark.arch(int(saved["arch_id"]))

    # -- pickling (Tune pickles the searcher object into its experiment state) -----------------
    def __getstate__(self) -> dict:
        """Everything but the thread, its queues and the proxy; unpickling replays lazily."""
        state = self.__dict__.copy()
        for key in ("_proxy", "_driver", "_finalizer", "_error"):
            state.pop(key, None)
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._init_runtime()


def _check_metric_mode(metric, mode) -> None:
    if metric is not None and not isinstance(metric, str):
        raise RobotRayError(f"metric must be the name of a reported result key (a str), got {metric!r}")
    if mode is not None and mode not in ("min", "max"):
        raise RobotRayError(f"mode must be 'min' or 'max', got {mode!r}")


def _method_options(method: str, metrics, options: dict) -> dict:
    """The keyword options of the method's ``run``; single_metric's column is ``ranking_metric`` here
    (its ``run`` calls it ``metric``, the name Tune's metric takes)."""
    options = dict(options)
    if method != single_metric.NAME:
        return options
    if "metric" in options:
        raise RobotRayError("a searcher takes the training-free metric to rank by as ranking_metric=NAME")
    ranking = options.pop("ranking_metric", None)
    if metrics is None:
        raise RobotRayError("SingleMetricSearcher needs a metric matrix: pass metrics=MetricMatrix")
    if ranking is None and len(metrics.names) != 1:
        raise RobotRayError(
            f"SingleMetricSearcher needs ranking_metric=NAME when the matrix has {len(metrics.names)} metrics: "
            f"choose one of {', '.join(metrics.names)}"
        )
    if ranking is not None:
        options["metric"] = ranking
    return options


# -- named searchers -----------------------------------------------------------------------------
class RSSearcher(BaselineSearcher):
    """Random search (:mod:`robot_ray.baselines.rs`): ``budget`` distinct archs in a seeded random
    order. No options.

    .. code-block:: python

        searcher = RSSearcher(bench, budget=20, seed=0, metric="accuracy", mode="max")
    """

    method = rs.NAME


class REASearcher(BaselineSearcher):
    """Regularised evolution on cell spaces (:mod:`robot_ray.baselines.rea`).

    Options: ``variant`` (``"robot"``, RoBoT's baseline, or ``"tournament"``), ``population_size``,
    ``sample_size``, ``ops``.

    .. code-block:: python

        searcher = REASearcher(bench, budget=50, seed=0, metric="accuracy", mode="max", variant="tournament")
    """

    method = rea.NAME


class REINFORCESearcher(BaselineSearcher):
    """REINFORCE on per-edge categorical policies over a cell space (:mod:`robot_ray.baselines.reinforce`).

    Options: ``lr``, ``momentum``, ``max_steps``, ``ops``. Repeated samples of the policy cost no
    trial (the ledger answers them), so several policy updates can happen between two trials.

    .. code-block:: python

        searcher = REINFORCESearcher(bench, budget=50, seed=0, metric="accuracy", mode="max", lr=0.01)
    """

    method = reinforce.NAME


class WeakNASSearcher(BaselineSearcher):
    """WeakNAS, an iterated weak predictor (:mod:`robot_ray.baselines.weaknas`).

    Options: ``init_samples``, ``samples_per_iter``, ``top_n``, ``predictor``, ``hidden``,
    ``max_iter``. The baseline picks ``samples_per_iter`` archs per iteration; they still run one
    trial at a time, and ``suggest`` blocks while the predictor is fit.

    .. code-block:: python

        searcher = WeakNASSearcher(bench, budget=50, seed=0, metric="accuracy", mode="max", predictor="random_forest")
    """

    method = weaknas.NAME


class SingleMetricSearcher(BaselineSearcher):
    """Greedy by one training-free metric (:mod:`robot_ray.baselines.single_metric`); needs ``metrics``.

    The column is chosen with ``ranking_metric=NAME`` (the run function calls it ``metric``, a
    name Tune's ``metric`` takes here); it may be left out when the matrix has one column. The
    order does not depend on the seed.

    .. code-block:: python

        searcher = SingleMetricSearcher(bench, budget=20, metric="accuracy", mode="max",
                                        metrics=matrix, ranking_metric="synflow")
    """

    method = single_metric.NAME

    def __init__(self, benchmark: Benchmark, budget: int, seed: int = 0, *, metric: str | None = None,
                 mode: str | None = None, metrics=None, ranking_metric: str | None = None, **method_options) -> None:
        super().__init__(benchmark, budget, seed, metric=metric, mode=mode, metrics=metrics,
                         ranking_metric=ranking_metric, **method_options)


class PRENASSearcher(BaselineSearcher):
    """PRE-NAS, predictor-assisted evolution with topology-preserving offspring
    (:mod:`robot_ray.baselines.prenas`); cell spaces.

    Options: ``init_samples``, ``population_size``, ``offspring``, ``evaluated_per_gen``,
    ``tournament_size``, ``predictor``, ``features`` (``"onehot+metrics"`` needs ``metrics``
    covering the pool), ``ops``, ``inherit`` (each child's trial config carries ``parent_arch``
    and ``lineage``, for weight inheritance; on a DARTS pool the children are then true op-only
    mutants with ids after the pool's). ``suggest`` blocks while the predictor ranks a generation.

    .. code-block:: python

        searcher = PRENASSearcher(bench, budget=20, seed=0, metric="accuracy", mode="max")
    """

    method = prenas.NAME


class SWAPNASSearcher(BaselineSearcher):
    """SWAP-NAS, evolution on a training-free fitness (:mod:`robot_ray.baselines.swapnas`); needs
    ``metrics``.

    Training-free: the whole evolution runs inside the first ``suggest`` (on the matrix, no
    trial), which then returns the best-scoring architecture; after that one trial the searcher
    is ``FINISHED``, whatever ``budget`` is. Options: ``fitness_metric``, ``population_size``,
    ``cycles``, ``sample_size``, ``mutations``, ``crossover``, ``remove``, ``mu``, ``sigma``, ``ops``.

    .. code-block:: python

        searcher = SWAPNASSearcher(bench, budget=1, seed=0, metric="accuracy", mode="max",
                                   metrics=matrix, fitness_metric="nwot")
    """

    method = swapnas.NAME


BASELINE_SEARCHERS: dict[str, type[BaselineSearcher]] = {
    cls.method: cls
    for cls in (RSSearcher, REASearcher, REINFORCESearcher, WeakNASSearcher, SingleMetricSearcher, PRENASSearcher,
                SWAPNASSearcher)
}
"""Baseline name -> its searcher class (the names of :data:`robot_ray.baselines.METHODS`)."""


def searcher_class(name: str) -> type[BaselineSearcher]:
    """The searcher class of a baseline by name (``"single-metric"`` works too).

    Raises:
        RobotRayError: unknown name (the message lists the known ones).
    """
    return lookup(BASELINE_SEARCHERS, name)


__all__ = [
    "BASELINE_SEARCHERS",
    "BaselineSearcher",
    "PRENASSearcher",
    "REASearcher",
    "REINFORCESearcher",
    "RSSearcher",
    "SWAPNASSearcher",
    "SingleMetricSearcher",
    "WeakNASSearcher",
    "searcher_class",
]
