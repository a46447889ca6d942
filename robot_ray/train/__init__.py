"""Real training for NB201 and DARTS networks: data without torchvision, a live objective, a shared loop.

``torch`` is imported only here and in the network builders (not by ``robot_ray.search``), so a
table-backed search never loads it. Public names:

* :class:`~robot_ray.train.objective.LiveObjective` -- ``(arch_id) -> Query`` by training.
* :func:`~robot_ray.train.data.load_dataset` -- npz subsets, digits, or official CIFAR pickles.
* :func:`~robot_ray.train.inherit.inherit_weights` and :class:`~robot_ray.train.weights.WeightStore`
  -- a child network starting from its trained parent's weights (PRE-NAS).
"""

from __future__ import annotations

from robot_ray.train.data import Dataset, Split, load_dataset, train_val_split
from robot_ray.train.inherit import Inheritance, inherit_weights
from robot_ray.train.objective import DEFAULTS, LiveObjective, TrainSettings
from robot_ray.train.weights import WeightStore

__all__ = ["DEFAULTS", "Dataset", "Inheritance", "LiveObjective", "Split", "TrainSettings", "WeightStore",
           "inherit_weights", "load_dataset", "train_val_split"]
