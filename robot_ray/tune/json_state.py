"""``JsonStateSearcher``: Tune's ``save``/``restore`` through a versioned JSON dict, never pickle.

Every robot-ray searcher derives from it, so a checkpoint is readable across refactors, carries
no code, and is written atomically.
"""

from __future__ import annotations

from typing import Any

from ray.tune.search import Searcher

from robot_ray.io.atomic import atomic_write_json
from robot_ray.io.state import read_json_object


class JsonStateSearcher(Searcher):
    """``save``/``restore`` through ``get_state``/``set_state`` as JSON, written atomically.

    A plain, versioned dict rather than a pickled ``__dict__``: checkpoints stay readable across
    refactors and carry no code.
    """

    def save(self, checkpoint_path: str) -> None:
        atomic_write_json(checkpoint_path, self.get_state())

    def restore(self, checkpoint_path: str) -> None:
        self.set_state(read_json_state(checkpoint_path))

    def get_state(self) -> dict[str, Any]:  # pragma: no cover - subclasses implement
        raise NotImplementedError

    def set_state(self, state: dict[str, Any]) -> None:  # pragma: no cover - subclasses implement
        raise NotImplementedError


def read_json_state(path: str) -> dict[str, Any]:
    """A searcher checkpoint as a dict (its version is checked by the searcher's ``set_state``)."""
    return read_json_object(path, kind="searcher checkpoint")
