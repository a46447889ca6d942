"""The Parquet metric cache: a directory of shard files plus ``_manifest.json`` (see docs/precompute.md).

``read_cache_table(path)`` reads a finished cache as a table, ``read_cache_matrix(path, metrics)``
straight into the search's normalised metric matrix; :mod:`robot_ray.precompute` writes one.
"""

from robot_ray.cache.archs import ArchSpec, parse_arch_spec
from robot_ray.cache.manifest import MANIFEST, POOL, CacheSettings, Manifest, Shard
from robot_ray.cache.shards import shard_problem, write_shard
from robot_ray.cache.table import SETTINGS_ATTR, read_cache_matrix, read_cache_table

__all__ = [
    "MANIFEST",
    "POOL",
    "SETTINGS_ATTR",
    "ArchSpec",
    "CacheSettings",
    "Manifest",
    "Shard",
    "parse_arch_spec",
    "read_cache_matrix",
    "read_cache_table",
    "shard_problem",
    "write_shard",
]
