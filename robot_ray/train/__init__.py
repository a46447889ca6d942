"""Real training for NB201 and DARTS networks: data without torchvision, a live objective, a shared loop.

``torch`` is imported only here and in the network builders (not by ``robot_ray.search``), so a
table-backed search never loads it. Public names:

* :class:`~robot_ray.train.objective.LiveObjective` -- ``(arch_id) -> Query`` by training.
* :func:`~robot_ray.train.data.load_dataset` -- npz subsets, digits, or official CIFAR pickles.
"""

from __future__ import annotations

from robot_ray.train.data import Dataset, Split, load_dataset, train_val_split
from robot_ray.train.objective import DEFAULTS, LiveObjective, TrainSettings

__all__ = ["DEFAULTS", "Dataset", "LiveObjective", "Split", "TrainSettings", "load_dataset", "train_val_split"]
