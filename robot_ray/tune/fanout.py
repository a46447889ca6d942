"""``SeedFanoutSearcher``: several independent seeds of a searcher in one Tune experiment.

Each seed keeps its own :class:`~robot_ray.tune.robot_searcher.RoBoTSearcher` and sees only
its own trials, so a seed's suggestions are exactly those of a run on its own; the fan-out only
interleaves them. Tune's per-trial latency is hidden behind the other seeds' trials instead of
being paid once per proposal, and one experiment means one driver, one checkpoint and one
``--resume``, instead of one Tune session per seed on a 2-core head node.
"""

from __future__ import annotations

import logging
from typing import Any

from ray.tune.search import Searcher

from robot_ray.errors import RobotRayError
from robot_ray.io.state import check_version
from robot_ray.tune.json_state import JsonStateSearcher, read_json_state
from robot_ray.tune.robot_searcher import RoBoTSearcher

logger = logging.getLogger(__name__)

STATE_VERSION = 2


class SeedFanoutSearcher(JsonStateSearcher):
    """Route Tune trials round-robin over per-seed searchers.

    Suggestions are ``{"seed": s, **child_config}``. A seed is done when its searcher returns
    ``FINISHED``; the fan-out is done when every seed is.

    Args:
        children: seed -> its searcher.
        per_seed_concurrency: trials of one seed in flight at once (None: as the child allows).
    """

    def __init__(
        self,
        children: dict[int, RoBoTSearcher],
        *,
        per_seed_concurrency: int | None = None,
        metric: str | None = None,
        mode: str | None = None,
    ) -> None:
        super().__init__(metric=metric, mode=mode)
        if not children:
            raise RobotRayError("no seeds to search: pass at least one seed")
        if per_seed_concurrency is not None and per_seed_concurrency < 1:
            raise RobotRayError(f"per-seed concurrency must be at least 1, got {per_seed_concurrency}")
        self.children = {int(s): c for s, c in children.items()}
        self.per_seed_concurrency = per_seed_concurrency
        self._order = sorted(self.children)
        self._next = 0
        self._trial_seed: dict[str, int] = {}
        self._done: set[int] = set()

    def set_search_properties(self, metric: str | None, mode: str | None, config: dict, **spec) -> bool:
        ok = all(c.set_search_properties(metric, mode, config, **spec) for c in self.children.values())
        if ok:
            self._metric = metric or self._metric
            self._mode = mode or self._mode
        return ok

    def _in_flight(self, seed: int) -> int:
        return sum(1 for s in self._trial_seed.values() if s == seed)

    def suggest(self, trial_id: str) -> dict | None:
        for k in range(len(self._order)):
            seed = self._order[(self._next + k) % len(self._order)]
            if seed in self._done:
                continue
            if self.per_seed_concurrency is not None and self._in_flight(seed) >= self.per_seed_concurrency:
                continue
            config = self.children[seed].suggest(trial_id)
            if config == Searcher.FINISHED:
                self._done.add(seed)
                continue
            if config is None:
                continue
            self._next = (self._order.index(seed) + 1) % len(self._order)
            self._trial_seed[trial_id] = seed
            return {"seed": seed, **config}
        return Searcher.FINISHED if len(self._done) == len(self._order) else None

    def on_trial_result(self, trial_id: str, result: dict) -> None:
        seed = self._trial_seed.get(trial_id)
        if seed is not None:
            self.children[seed].on_trial_result(trial_id, result)

    def on_trial_complete(self, trial_id: str, result: dict | None = None, error: bool = False) -> None:
        seed = self._trial_seed.pop(trial_id, None)
        if seed is None:
            logger.warning("SeedFanoutSearcher: completion for unknown trial %s ignored", trial_id)
            return
        self.children[seed].on_trial_complete(trial_id, result, error)

    @property
    def finished(self) -> bool:
        return all(c.finished for c in self.children.values())

    def get_state(self) -> dict[str, Any]:
        return {
            "version": STATE_VERSION,
            "per_seed_concurrency": self.per_seed_concurrency,
            "metric": self._metric,
            "mode": self._mode,
            "next": self._next,
            "trial_seed": dict(self._trial_seed),
            "done": sorted(self._done),
            "children": {str(s): c.get_state() for s, c in self.children.items()},
        }

    def set_state(self, state: dict[str, Any], metrics=None) -> None:
        check_version(state, kind="fan-out searcher state", supported=[STATE_VERSION], hint="start a new search")
        self.per_seed_concurrency = state["per_seed_concurrency"]
        self._metric, self._mode = state["metric"], state["mode"]
        old = getattr(self, "children", {})
        self.children = {}
        for s, child_state in state["children"].items():
            child = old.get(int(s))
            if child is not None:
                child.set_state(child_state)
            else:
                child = RoBoTSearcher.from_state(child_state, metrics)
            self.children[int(s)] = child
        self._order = sorted(self.children)
        self._next = int(state["next"])
        self._trial_seed = {str(k): int(v) for k, v in state["trial_seed"].items()}
        self._done = {int(s) for s in state["done"]}

    @classmethod
    def from_checkpoint(cls, path: str, metrics=None) -> SeedFanoutSearcher:
        """A fan-out restored from a ``save`` file; ``metrics`` only for a matrix built in memory."""
        searcher = cls.__new__(cls)
        Searcher.__init__(searcher)
        searcher.set_state(read_json_state(path), metrics)
        return searcher
