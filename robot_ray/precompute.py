"""Sharded metric precompute on a Ray actor pool, into a resumable Parquet cache.

The driver plans shards in the manifest (:mod:`robot_ray.cache.manifest`) before computing
anything, hands one shard at a time to each actor of a pool, and writes each returned shard
atomically itself. Writing on the driver keeps one writer per cache and needs no filesystem
shared with the worker nodes (only the data directory must exist at the same path there).

Failure model: an actor that dies (crash, OOM kill, lost node) loses only its in-flight shard,
which goes back to the queue and is given to a live actor; a replacement actor is started and
joins the pool once it is placed and has loaded its batch. A killed driver loses nothing that
was written: the next run with the same command verifies every shard file against the manifest,
keeps the good ones, recomputes missing or damaged ones and finishes the plan.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import time
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import ray

from robot_ray.cache import archs as arch_ids
from robot_ray.cache.manifest import (LOCK, MANIFEST, POOL, CacheSettings, Manifest, Shard, code_versions,
                                      has_cache_files, stale_revisions)
from robot_ray.cache.shards import file_sha256, shard_problem, write_shard
from robot_ray.errors import RobotRayError
from robot_ray.io.lease import LEASE_FILE, Lease

log = logging.getLogger(__name__)

GPU_SHARE = 0.25
"""Default GPU fraction per actor when the cluster has GPUs: four small networks share one GPU."""
MAX_SEED = 2**31 - 1
"""Seeds the batch draw (numpy), the weights (torch) and the Gaussian passes; the range all accept."""


@dataclass(frozen=True)
class PrecomputeConfig:
    """One ``robot-ray precompute`` run (built by the CLI; parsing has no side effects).

    Attributes:
        space, dataset, metrics, batch_size, seed: the cache settings (see :class:`CacheSettings`).
        archs: the ``--archs`` SPEC (:func:`robot_ray.cache.archs.parse_arch_spec`).
        out: cache directory.
        data_dir: shared data directory (``None``: ``$ROBOT_RAY_DATA``; optional for ``digits``).
        channels, cells: network size (``None``: the space's default, see ``network_size``).
        shard_size: archs per shard (the unit of work, of retry and of resume).
        num_actors: pool size (``None``: as many as the cluster's CPUs/GPUs allow).
        cpus_per_actor: CPUs reserved per actor; also its torch thread count.
        gpus_per_actor: GPU fraction per actor (``None``: 0.25 when the cluster has GPUs, else 0).
        actor_resources: extra custom Ray resources per actor (to pin actors to some nodes).
        max_retries: attempts per shard after its first failure before the run gives up.
        progress: show the rich progress bar.
        command: the command line, stored in the manifest for "rerun ..." hints.
        wait: seconds to wait for another writer of ``out`` to finish before refusing (0: refuse at once).
    """

    space: str
    dataset: str
    metrics: tuple[str, ...]
    archs: str
    out: str
    batch_size: int = 64
    seed: int = 0
    data_dir: str | None = None
    channels: int | None = None
    cells: int | None = None
    shard_size: int = 64
    num_actors: int | None = None
    cpus_per_actor: float = 1.0
    gpus_per_actor: float | None = None
    actor_resources: Mapping[str, float] = field(default_factory=dict)
    max_retries: int = 3
    progress: bool = True
    command: str | None = None
    wait: float = 0.0

    def validate(self) -> None:
        """Check the plain values (names and data are checked by :func:`prepare`).

        Raises:
            RobotRayError: a count or size out of range.
        """
        checks = [
            (self.batch_size >= 1, f"--batch-size must be at least 1, got {self.batch_size}"),
            (0 <= self.seed <= MAX_SEED, f"--seed must be in 0..{MAX_SEED}, got {self.seed}"),
            (self.shard_size >= 1, f"--shard-size must be at least 1, got {self.shard_size}"),
            (self.num_actors is None or self.num_actors >= 1, f"--num-actors must be at least 1, got {self.num_actors}"),
            (math.isfinite(self.cpus_per_actor) and self.cpus_per_actor > 0,
             f"--cpus-per-actor must be a finite number > 0, got {self.cpus_per_actor}"),
            (self.gpus_per_actor is None or (math.isfinite(self.gpus_per_actor) and self.gpus_per_actor >= 0),
             f"--gpus-per-actor must be a finite number >= 0, got {self.gpus_per_actor}"),
            (all(math.isfinite(float(v)) and float(v) > 0 for v in self.actor_resources.values()),
             f"actor_resources must be finite and > 0, got {dict(self.actor_resources)}"),
            (self.max_retries >= 0, f"max_retries must be >= 0, got {self.max_retries}"),
            (math.isfinite(self.wait) and 0 <= self.wait <= MAX_WAIT_S,
             f"--wait must be a number of seconds in 0..{MAX_WAIT_S}, got {self.wait}"),
            (bool(self.metrics), "no metrics given: pass --metrics, e.g. grad_norm,snip,synflow,nwot"),
            (bool(self.out), "no cache directory given: pass --out DIR"),
        ]
        for ok, message in checks:
            if not ok:
                raise RobotRayError(message)


@dataclass
class PrecomputeReport:
    """What a run did; ``rate`` is computed archs per second of compute (after the pool started)."""

    out: str
    num_archs: int
    computed: int = 0
    skipped: int = 0
    shards_computed: int = 0
    recomputed: list[str] = field(default_factory=list)
    failures: int = 0
    num_actors: int = 0
    seconds: float = 0.0
    compute_seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.computed / self.compute_seconds if self.compute_seconds > 0 else math.nan


class ShardWorker:
    """Computes shards in a long-lived process: the image batch is loaded once, torch threads set once.

    Used as a Ray actor by :func:`run_precompute` (tests pass a subclass to inject faults).
    """

    def __init__(self, settings: dict[str, Any], data_dir: str | None, threads: int) -> None:
        import torch

        from robot_ray.images import load_batch, num_classes

        torch.set_num_threads(max(1, int(threads)))
        self.settings = CacheSettings.from_json(settings)
        stale = stale_revisions(self.settings)
        if stale:  # this node runs other robot-ray code than the driver: its values would be mislabelled
            raise RobotRayError(f"metric definitions on this worker differ from the cache's: {', '.join(stale)}; "
                                "install the driver's robot-ray version on every node")
        self.device = "cuda" if ray.get_gpu_ids() and torch.cuda.is_available() else "cpu"
        s = self.settings
        self.batch = load_batch(s.dataset, data_dir, s.batch_size, s.seed)
        self.num_classes = num_classes(s.dataset)

    def ready(self) -> str:
        """The node id, once the batch is loaded (the pool hands out work only after this)."""
        return ray.get_runtime_context().get_node_id()

    def compute(self, index: int, archs: Sequence[str]) -> dict[str, Any]:
        """Metrics of one shard's archs, in order, with where and how long it ran."""
        from robot_ray.metrics.compute import compute_with_batch

        s = self.settings
        start = time.perf_counter()
        frame = compute_with_batch(s.space, archs, self.batch, num_classes=self.num_classes, metrics=s.metrics,
                                   seed=s.seed, size=s.size, device=self.device)
        return {"index": index, "frame": frame, "node_id": ray.get_runtime_context().get_node_id(),
                "seconds": time.perf_counter() - start}


# ---------------------------------------------------------------------------- planning (no Ray)


@dataclass
class Plan:
    """A prepared cache: its manifest, the shards still to compute and the arch strings source."""

    directory: Path
    manifest: Manifest
    requested: np.ndarray
    pool: np.ndarray | None
    notes: list[str]
    lease: Lease | None = None

    def todo(self) -> list[Shard]:
        return self.manifest.incomplete()

    def strings(self, shard: Shard, data_dir: str | None) -> list[str]:
        kind = self.manifest.settings.ids
        if kind == "pool":
            return arch_ids.darts_strings(shard.ids, self.pool)
        return arch_ids.nb201_strings(shard.ids, kind, data_dir)


def settings_for(config: PrecomputeConfig) -> CacheSettings:
    """The cache settings of a run, with every name checked (before anything is read or written).

    Raises:
        RobotRayError: unknown space, dataset or metric, duplicate metric, bad network size.
    """
    from robot_ray.images import check_dataset
    from robot_ray.metrics.catalog import default_registry, revisions_of
    from robot_ray.metrics.compute import network_size

    config.validate()
    if len(set(config.metrics)) != len(config.metrics):
        raise RobotRayError(f"--metrics names a metric twice: {','.join(config.metrics)}")
    metrics = tuple(m.name for m in default_registry().resolve(config.metrics))
    revisions = revisions_of(metrics)
    check_dataset(config.dataset)
    kind = arch_ids.id_kind(config.space, config.dataset, config.data_dir)
    size = network_size(config.space, channels=config.channels, cells=config.cells)
    return CacheSettings(config.space, config.dataset, metrics, int(config.batch_size), int(config.seed), size, kind,
                         revisions)


def prepare(config: PrecomputeConfig) -> Plan:
    """Open or create the cache, refuse incompatible settings, verify shards and plan new ones.

    Must run with the cache's lease held (see :func:`cache_lock`).

    Raises:
        RobotRayError: bad input, a directory that is not a cache, or settings that differ
            from the cache's.
    """
    settings = settings_for(config)
    spec = arch_ids.parse_arch_spec(config.archs)
    directory = Path(config.out)
    notes: list[str] = []
    if (directory / MANIFEST).is_file():
        manifest = Manifest.load(directory)
        diffs = manifest.settings.differences(settings)
        if diffs:
            raise RobotRayError(
                f"cache {str(directory)!r} was computed under other settings ({'; '.join(diffs)}): one cache "
                "holds one setting so its rows are comparable; new archs are welcome under the same settings, "
                "otherwise precompute into a new --out directory"
            )
        settings = manifest.settings  # keep the cache's metric order
        old = manifest.runs[-1].get("code", {}) if manifest.runs else {}
        now = code_versions()
        if old and (old.get("robot_ray"), old.get("git_commit")) != (now["robot_ray"], now["git_commit"]):
            notes.append(f"cache was written by robot-ray {old.get('robot_ray')} ({old.get('git_commit')}), this is "
                         f"{now['robot_ray']} ({now['git_commit']}): new shards use this code")
    else:
        if has_cache_files(directory):
            Manifest.load(directory)  # raises: shard files without a manifest (deleted?) are not reused blind
        if directory.exists() and any(p for p in directory.iterdir() if not _is_lock(p.name)):
            raise RobotRayError(f"--out {str(directory)!r} exists, is not empty and is not a metric cache "
                                f"(no {MANIFEST}): pick a new directory")
        manifest = Manifest(settings)
    load_data_check(settings, config.data_dir)
    pool = None
    if settings.ids == "pool":
        pool = arch_ids.load_pool(directory)
        if manifest.pool and len(pool) != manifest.pool["rows"]:
            raise RobotRayError(f"cache {str(directory)!r}: {POOL} has {len(pool)} rows, the manifest says "
                                f"{manifest.pool['rows']}; precompute into a new --out directory")
        requested, grown = arch_ids.darts_ids(spec, pool)
        if len(grown) != len(pool):
            from robot_ray.io.atomic import atomic_write_parquet
            from robot_ray.spaces.darts import codes_to_frame

            atomic_write_parquet(directory / POOL, codes_to_frame(grown))
            pool = grown
        manifest.pool = {"file": POOL, "rows": int(len(pool))}
    else:
        requested = arch_ids.nb201_ids(spec)
    notes += verify_shards(directory, manifest)
    added = manifest.plan(requested, config.shard_size)
    if added:
        log.info("%s: planned %d new shards (%d archs)", directory, len(added), sum(len(s) for s in added))
    if manifest.incomplete():
        manifest.runs.append({"started": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "command": config.command,
                              "archs": config.archs, "code": code_versions()})
    manifest.save(directory)
    for note in notes:
        log.warning("%s: %s", directory, note)
    return Plan(directory, manifest, requested, pool, notes)


MAX_WAIT_S = 7 * 24 * 3600
"""--wait: a week; longer is waiting forever for a writer that will not finish."""


def check_before_writing(config: PrecomputeConfig) -> None:
    """Every check that needs no lock and no cache content, so bad input never creates ``--out``.

    Names, sizes and the SPEC (:func:`settings_for`, :func:`~robot_ray.cache.archs.parse_arch_spec`),
    NB201 ids against the space, a DARTS id list without a pool to index, the metric batch (data
    directory) and where ``--out`` would go. :func:`prepare` repeats the cheap part under the lock.

    Raises:
        RobotRayError: the first problem found.
    """
    from robot_ray.io.storage import is_uri

    if is_uri(config.out) or "://" in str(config.out):
        raise RobotRayError(f"--out {config.out!r} is a URI; robot-ray precompute writes a local directory: pass a "
                            "path, or run jobs/precompute.py --out URI on the cluster (it stages the cache to the URI)")
    settings = settings_for(config)
    spec = arch_ids.parse_arch_spec(config.archs)
    directory = Path(config.out).expanduser()
    if directory.exists() and not directory.is_dir():
        raise RobotRayError(f"--out {config.out!r} is a file: pass a directory")
    if directory.is_dir() and not (directory / MANIFEST).exists():
        if has_cache_files(directory):
            Manifest.load(directory)  # raises: shard files without a manifest (deleted?) are not reused blind
        if any(p for p in directory.iterdir() if not _is_lock(p.name)):
            raise RobotRayError(f"--out {str(directory)!r} exists, is not empty and is not a metric cache "
                                f"(no {MANIFEST}): pick a new directory")
    parent = directory.absolute()
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise RobotRayError(f"cannot create or write --out {config.out!r}: {str(parent)!r} is not a writable directory")
    if settings.ids != "pool":
        arch_ids.nb201_ids(spec)
    elif spec.kind != "sample" and not (directory / POOL).is_file():
        raise RobotRayError("DARTS arch ids are rows of a sampled pool, and this cache has none yet: "
                            "start with --archs sample:N[:seed]")
    load_data_check(settings, config.data_dir)


def load_data_check(settings: CacheSettings, data_dir: str | None) -> None:
    """Load the metric batch once on the driver, so a missing data dir fails before Ray starts."""
    from robot_ray.images import load_batch

    load_batch(settings.dataset, data_dir, settings.batch_size, settings.seed)


def verify_shards(directory: Path, manifest: Manifest) -> list[str]:
    """Reconcile shard files with the manifest; returns notes on what was found and fixed.

    A complete shard whose file is bad (its sha256 differs from the manifest's, or it is missing,
    unreadable or of other columns, settings or ids) is marked incomplete and its file removed;
    an incomplete shard whose file is good (driver killed between writing it and saving the
    manifest) is marked complete. A good file without a recorded sha256 (the driver killed before
    the manifest was saved, or a cache written before digests were recorded) gets its digest now.
    Leftover temporary files and shard files the manifest does not plan are removed.
    """
    notes: list[str] = []
    planned = {s.file for s in manifest.shards}
    for path in directory.glob(".shard-*.tmp-*"):
        path.unlink(missing_ok=True)
    for path in directory.glob("shard-*.parquet"):
        if path.name not in planned:
            notes.append(f"removed {path.name}: not planned by the manifest")
            path.unlink(missing_ok=True)
    recorded = 0
    for shard in manifest.shards:
        path = directory / shard.file
        if not shard.complete and not path.exists():
            shard.sha256 = None
            continue
        problem = shard_problem(directory, manifest.settings, shard)
        if problem is None:
            if shard.sha256 is None:
                shard.sha256 = file_sha256(path)
                recorded += shard.complete
            shard.complete = True
            continue
        if shard.complete or problem != "file missing":
            notes.append(f"{shard.file} is bad ({problem}): recomputing it")
        shard.complete = False
        shard.sha256 = None
        path.unlink(missing_ok=True)
    if recorded:
        notes.append(f"recorded the sha256 of {recorded} shard(s) written before robot-ray recorded them")
    return notes


def _is_lock(name: str) -> bool:
    """The lease (and its temporary files) and the ``_lock`` file of robot-ray before leases."""
    return name == LOCK or LEASE_FILE in name


@contextlib.contextmanager
def cache_lock(directory: str | os.PathLike, *, wait: float = 0.0) -> Iterator[Lease]:
    """The writer's lease on a cache directory (:mod:`robot_ray.io.lease`), held for the whole run.

    One writer per cache: a second precompute (on this machine or another sharing the directory)
    is refused naming the holder, or waits up to ``wait`` seconds. A killed writer's lease is taken
    over at once on its own machine, elsewhere once it expires.

    Raises:
        RobotRayError: another live precompute holds it (after ``wait`` seconds).
    """
    path = Path(directory)
    path.mkdir(parents=True, exist_ok=True)
    with Lease(path, what="metric cache", wait=wait,
               hint="or pass --wait SECONDS to queue behind it, or precompute into another --out") as lease:
        yield lease


# ---------------------------------------------------------------------------- the actor pool


def pool_resources(config: PrecomputeConfig, num_shards: int) -> tuple[int, float, float]:
    """(actors, cpus per actor, gpus per actor) from the config and the cluster's resources."""
    total = ray.cluster_resources()
    gpus = config.gpus_per_actor
    if gpus is None:
        gpus = GPU_SHARE if total.get("GPU", 0) > 0 else 0.0
    n = config.num_actors
    if n is None:
        n = max(1, int(total.get("CPU", 1) // config.cpus_per_actor))
        if gpus > 0:
            n = min(n, max(1, int(total.get("GPU", 0) // gpus)))
    return max(1, min(n, num_shards)), float(config.cpus_per_actor), float(gpus)


def run_precompute(config: PrecomputeConfig, *, address: str | None = None, num_cpus: int | None = None,
                   worker_cls: type = ShardWorker) -> PrecomputeReport:
    """Precompute (or finish) the cache ``config.out`` on a Ray actor pool.

    All input is checked and the cache planned before Ray is touched. Joins the running Ray if
    there is one; else :func:`robot_ray.cluster.connect` (``address`` or a local Ray of
    ``num_cpus``), which is shut down at the end. Nothing to compute: Ray is not started.

    Args:
        config: the run.
        address, num_cpus: where to run when Ray is not initialised yet.
        worker_cls: the actor class (a :class:`ShardWorker` subclass; tests inject faults here).

    Raises:
        RobotRayError: bad input, incompatible cache, or a shard that failed more than
            ``config.max_retries`` times.
    """
    started = time.perf_counter()
    check_before_writing(config)
    with cache_lock(config.out, wait=config.wait) as lease:
        plan = prepare(config)
        plan.lease = lease
        todo = plan.todo()
        report = PrecomputeReport(str(plan.directory), int(len(plan.manifest.arch_ids())), notes=list(plan.notes),
                                  recomputed=[n.split(" ")[0] for n in plan.notes if n.endswith("recomputing it")])
        report.skipped = report.num_archs - sum(len(s) for s in todo)
        if todo:
            own_ray = not ray.is_initialized()
            if own_ray:
                from robot_ray.cluster import connect

                connect(address=address, num_cpus=num_cpus)
            try:
                _run_pool(config, plan, todo, worker_cls, report)
            finally:
                if not lease.lost:  # a writer that lost its lease must not overwrite the new holder's manifest
                    plan.manifest.save(plan.directory)
                if own_ray:
                    ray.shutdown()
    report.seconds = time.perf_counter() - started
    return report


def repair_cache(out: str | os.PathLike, *, wait: float = 0.0):
    """Rebuild the lost or damaged manifest of the cache ``out`` from its self-verifying shards.

    Holds the cache's lease meanwhile; see :mod:`robot_ray.cache.repair` for what is kept, what is
    quarantined and why. Does nothing to a cache whose manifest reads.

    Returns:
        The :class:`~robot_ray.cache.repair.RepairReport`.

    Raises:
        RobotRayError: ``out`` is not a directory, holds no shard that verifies, or another writer holds it.
    """
    from robot_ray.cache.repair import rebuild_manifest

    directory = Path(out).expanduser()
    if not directory.is_dir():
        raise RobotRayError(f"--out {str(out)!r} is not a directory: --repair rebuilds the manifest of an existing cache")
    with cache_lock(directory, wait=wait):
        report = rebuild_manifest(directory)
    for note in report.notes:
        log.warning("%s: %s", directory, note)
    return report


def precompute(config: PrecomputeConfig | None = None, *, address: str | None = None, num_cpus: int | None = None,
               **settings: Any) -> PrecomputeReport:
    """The public entry point: ``precompute(space=..., dataset=..., metrics=[...], archs="all", out=DIR)``
    or ``precompute(PrecomputeConfig(...))``; rerun to resume. See :class:`PrecomputeConfig`."""
    if config is None:
        if "metrics" in settings:
            settings["metrics"] = tuple(settings["metrics"])
        try:
            config = PrecomputeConfig(**settings)
        except TypeError as exc:
            raise RobotRayError(f"precompute: {exc}; see robot_ray.PrecomputeConfig for the settings") from exc
    elif settings:
        raise RobotRayError("precompute takes a PrecomputeConfig or keyword settings, not both")
    return run_precompute(config, address=address, num_cpus=num_cpus)


def _run_pool(config: PrecomputeConfig, plan: Plan, todo: list[Shard], worker_cls: type,
              report: PrecomputeReport) -> None:
    from robot_ray.cluster import check_request_fits
    from robot_ray.progress import make_progress

    n_actors, cpus, gpus = pool_resources(config, len(todo))
    check_request_fits({"CPU": cpus, "GPU": gpus, **dict(config.actor_resources)}, what="each precompute actor",
                       flags="--cpus-per-actor/--gpus-per-actor")
    report.num_actors = n_actors
    options: dict[str, Any] = {"num_cpus": cpus, "max_restarts": 0, "max_concurrency": 1}
    if gpus > 0:
        options["num_gpus"] = gpus
    if config.actor_resources:
        options["resources"] = dict(config.actor_resources)
    remote_cls = ray.remote(worker_cls).options(**options)
    settings_json = plan.manifest.settings.to_json()
    threads = max(1, round(cpus))

    queue: deque[Shard] = deque(todo)
    attempts: dict[int, int] = {}
    starting: dict[ray.ObjectRef, Any] = {}
    running: dict[ray.ObjectRef, tuple[Any, Shard]] = {}
    idle: list[Any] = []
    creation_failures = 0
    last_save = time.monotonic()
    last_progress = time.monotonic()
    warned_waiting = False
    compute_start: float | None = None

    def spawn() -> None:
        actor = remote_cls.remote(settings_json, config.data_dir, threads)
        starting[actor.ready.remote()] = actor

    def live_actors() -> int:
        return len(starting) + len(running) + len(idle)

    for _ in range(n_actors):
        spawn()
    progress = make_progress(config.progress)
    task = progress.add_task("precompute", total=report.num_archs, completed=report.skipped, rate="")
    try:
        with progress:
            while queue or running:
                while queue and idle:
                    actor, shard = idle.pop(), queue.popleft()
                    running[actor.compute.remote(shard.index, plan.strings(shard, config.data_dir))] = (actor, shard)
                if not running and not starting and queue:
                    spawn()
                ready, _ = ray.wait([*running, *starting], num_returns=1, timeout=5.0)
                if not ready:
                    if not warned_waiting and not running and time.monotonic() - last_progress > 60:
                        warned_waiting = True
                        log.warning("no actor has started in 60 s: waiting for resources (%s CPU, %s GPU, %s per actor)",
                                    cpus, gpus, dict(config.actor_resources) or "no custom resources")
                    continue
                ref = ready[0]
                if ref in starting:
                    actor = starting.pop(ref)
                    try:
                        ray.get(ref)
                    except ray.exceptions.RayError as exc:
                        creation_failures += 1
                        if creation_failures > config.max_retries * n_actors:
                            raise RobotRayError(f"precompute actors fail to start ({_first_line(exc)}); "
                                                "check --data-dir and the resources asked per actor") from exc
                        log.warning("a precompute actor failed to start (%s): starting another", _first_line(exc))
                        if queue:
                            spawn()
                        continue
                    idle.append(actor)
                    last_progress = time.monotonic()
                    if compute_start is None:
                        compute_start = time.perf_counter()
                    continue
                actor, shard = running.pop(ref)
                try:
                    result = ray.get(ref)
                except ray.exceptions.RayError as exc:
                    attempts[shard.index] = attempts.get(shard.index, 0) + 1
                    report.failures += 1
                    if attempts[shard.index] > config.max_retries:
                        raise RobotRayError(
                            f"shard {shard.index} (arch ids {int(shard.ids[0])}..{int(shard.ids[-1])}) failed "
                            f"{attempts[shard.index]} times, last: {_first_line(exc)}"
                        ) from exc
                    log.warning("shard %d failed (%s): resubmitting it to a fresh actor", shard.index, _first_line(exc))
                    with contextlib.suppress(Exception):
                        ray.kill(actor, no_restart=True)
                    queue.appendleft(shard)
                    if live_actors() < n_actors:
                        spawn()
                    continue
                idle.append(actor)
                _store(plan, shard, result)
                report.computed += len(shard)
                report.shards_computed += 1
                last_progress = time.monotonic()
                progress.advance(task, len(shard))
                if compute_start is not None and report.computed:
                    progress.update(task, rate=f"{report.computed / (time.perf_counter() - compute_start):.2f} archs/s")
                if time.monotonic() - last_save > 2.0:
                    if plan.lease is not None:
                        plan.lease.check()
                    plan.manifest.save(plan.directory)
                    last_save = time.monotonic()
    finally:
        if compute_start is not None:
            report.compute_seconds = time.perf_counter() - compute_start
        for actor in [*idle, *starting.values(), *(a for a, _ in running.values())]:
            with contextlib.suppress(Exception):
                ray.kill(actor, no_restart=True)


def _store(plan: Plan, shard: Shard, result: Mapping[str, Any]) -> None:
    frame = result["frame"]
    assert result["index"] == shard.index and len(frame) == len(shard), (result["index"], shard.index)
    if plan.lease is not None:
        plan.lease.check()  # another writer took the cache over (we stalled past the expiry): write nothing more
    write_shard(plan.directory, plan.manifest.settings, shard, frame)
    shard.complete = True
    shard.node_id = result["node_id"]
    shard.seconds = round(float(result["seconds"]), 4)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[-1] if text else ''}"[:300]
