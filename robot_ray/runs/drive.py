"""Drive a searcher without Tune: suggest, evaluate, report, one trial at a time.

``--no-ray`` and the comparison runner's RoBoT rows use this; it calls exactly the searcher
methods Tune calls, so a seed's trajectory is the same here as in a Tune experiment run one
trial at a time. It is a loop, not a second implementation of any search.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ray.tune.search import Searcher

from robot_ray.benchmarks.base import Query


def drive(searcher: Searcher, evaluate: Callable[[dict[str, Any]], Query], *, prefix: str = "t",
          metric: str = "value") -> int:
    """Run ``searcher`` to ``FINISHED``; returns the number of trials.

    Raises:
        RuntimeError: the searcher says "not now" with no trial running (it would wait forever).
    """
    n = 0
    while True:
        trial_id = f"{prefix}{n}"
        config = searcher.suggest(trial_id)
        if config == Searcher.FINISHED:
            return n
        if config is None:
            raise RuntimeError(f"{type(searcher).__name__} returned no suggestion with no trial running")
        answer = evaluate(config)
        searcher.on_trial_complete(trial_id, {metric: answer.value, "test_value": answer.test_value,
                                              "cost": answer.cost})
        n += 1
