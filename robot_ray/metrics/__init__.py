"""Training-free metrics: a registry by name and a fused engine that shares passes.

Import from the submodules (they load torch; this package file does not, so the torch-free
``robot_ray.metrics.matrix`` stays light):

- :mod:`robot_ray.metrics.registry` — ``Metric``, ``MetricRegistry``.
- :mod:`robot_ray.metrics.catalog` — ``default_registry()``, the eleven built-in metrics.
- :mod:`robot_ray.metrics.fused` — ``compute_metrics(network, batch, names, *, device)``.
- :mod:`robot_ray.metrics.compute` — ``compute_archs(space, archs, *, dataset, metrics, ...)``.
- :mod:`robot_ray.metrics.matrix` — the normalised metric matrix RoBoT searches over.
"""
