"""Rebuild a lost or damaged cache manifest from shards that verify themselves.

Why: the manifest is the only record of which shard files are whole (their sha256), so without it
readers refuse the cache rather than read it blind. But each shard written by this robot-ray
carries in its own Parquet metadata the cache settings, its shard index and ``content_sha256``, a
digest of its rows (:func:`robot_ray.cache.shards.content_sha256`). So a truncated or deleted
manifest need not brick an intact cache: ``robot-ray precompute --repair --out CACHE`` reads every
shard, keeps those whose rows match their own digest, and writes a new manifest recording them as
complete (with their file sha256 from now on). Nothing is ever read blind:

* a shard without ``content_sha256`` (written by an older robot-ray, which recorded digests only in
  the manifest), one whose rows do not match it (a flipped byte), an unreadable one, one of other
  settings than the rest, or one whose arch ids overlap another's is moved to ``_quarantine/``
  (kept, not deleted: put it back if the original manifest turns up) and its archs are computed
  again by the next precompute run;
* a DARTS cache needs its ``_pool.parquet`` (shard ids are rows of it), and every id must be a row;
* the damaged manifest is kept as ``_manifest.json.damaged-TIME`` for inspection.

What the old manifest knew beyond the shards (archs planned but not yet computed, the run history)
is lost: rerun the precompute command to plan and compute the rest.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq

from robot_ray.cache.manifest import (FORMAT, MANIFEST, POOL, CacheSettings, Manifest, Shard, code_versions,
                                      shard_file)
from robot_ray.cache.shards import META_KEY, content_sha256, file_sha256, shard_schema
from robot_ray.errors import RobotRayError

QUARANTINE = "_quarantine"


@dataclass
class RepairReport:
    """What :func:`rebuild_manifest` did: shards kept, shards quarantined (file -> why), notes."""

    directory: str
    rebuilt: bool = False
    kept: list[str] = field(default_factory=list)
    quarantined: dict[str, str] = field(default_factory=dict)
    num_archs: int = 0
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        if not self.rebuilt:
            return f"{self.directory}: the manifest reads fine; nothing to repair"
        moved = (f"; moved {len(self.quarantined)} shard(s) that do not verify to {QUARANTINE}/ "
                 f"({'; '.join(f'{k}: {v}' for k, v in sorted(self.quarantined.items())[:3])}"
                 f"{'; ...' if len(self.quarantined) > 3 else ''})") if self.quarantined else ""
        return (f"{self.directory}: rebuilt {MANIFEST} from {len(self.kept)} verified shard(s), {self.num_archs} archs"
                f"{moved}; rerun the precompute command to compute any archs still missing")


def manifest_problem(directory: str | os.PathLike) -> str | None:
    """Why the cache's manifest cannot be used (the reader's message), or None when it loads."""
    try:
        Manifest.load(directory)
    except RobotRayError as exc:
        return str(exc)
    return None


def _verify(path: Path) -> tuple[CacheSettings, Shard] | str:
    """The settings and shard entry a shard file vouches for, or why it cannot be trusted."""
    try:
        table = pq.read_table(path)
    except Exception as exc:  # pyarrow raises several types for damaged files
        return f"unreadable ({type(exc).__name__})"
    raw = (table.schema.metadata or {}).get(META_KEY)
    try:
        meta: dict[str, Any] = json.loads(raw) if raw else {}
    except ValueError:
        return "its metadata is not JSON"
    if meta.get("format") != FORMAT:
        return "not a robot-ray cache shard (no robot_ray.cache metadata)"
    digest = meta.get("content_sha256")
    if not isinstance(digest, str):
        return "written by a robot-ray that kept its digest only in the manifest: it cannot be verified"
    try:
        settings = CacheSettings.from_json(meta["settings"])
        index = int(meta["shard"])
    except (KeyError, TypeError, ValueError):
        return "its metadata has no settings or shard index"
    if path.name != shard_file(index):
        return f"its metadata names shard {index}, not this file"
    if not table.schema.remove_metadata().equals(shard_schema(settings)):
        return "its columns differ from its settings' metrics"
    if content_sha256(table.replace_schema_metadata(None)) != digest:
        return "its rows do not match their recorded digest (changed after writing)"
    ids = table.column("arch_id").to_numpy()
    if len(ids) != meta.get("rows") or (len(ids) > 1 and not np.all(np.diff(ids) > 0)):
        return "its arch ids are not the sorted, distinct rows its metadata counts"
    return settings, Shard(index, ids.astype(np.int64), complete=True, sha256=file_sha256(path))


def rebuild_manifest(directory: str | os.PathLike) -> RepairReport:
    """Rebuild ``directory``'s manifest from its self-verifying shards (see the module doc).

    Must run with the cache's lease held (:func:`robot_ray.precompute.cache_lock`). Does nothing
    when the manifest loads.

    Raises:
        RobotRayError: the directory holds no shard files, no shard verifies, or a DARTS cache
            lacks its pool.
    """
    root = Path(directory)
    report = RepairReport(str(root))
    if manifest_problem(root) is None:
        return report
    files = sorted(root.glob("shard-*.parquet"))
    if not files:
        raise RobotRayError(f"{str(root)!r} holds no shard files to rebuild a manifest from: it is not a metric cache "
                            "(or an empty one); precompute into a new --out directory")
    found: dict[Path, tuple[CacheSettings, Shard]] = {}
    bad: dict[Path, str] = {}
    for path in files:
        result = _verify(path)
        if isinstance(result, str):
            bad[path] = result
        else:
            found[path] = result
    if not found:
        raise RobotRayError(
            f"cannot rebuild the manifest of {str(root)!r}: none of its {len(files)} shard(s) verifies itself "
            f"(first: {files[0].name}: {bad[files[0]]}); restore {MANIFEST} from the copy or bucket the cache came "
            "from, or precompute into a new --out directory"
        )
    counts = Counter(json.dumps(s.to_json(), sort_keys=True) for s, _ in found.values())
    common = counts.most_common(1)[0][0]
    settings = next(s for s, _ in found.values() if json.dumps(s.to_json(), sort_keys=True) == common)
    pool = None
    if settings.ids == "pool":
        try:
            rows = pq.ParquetFile(root / POOL).metadata.num_rows
        except Exception as exc:
            raise RobotRayError(f"cannot rebuild the manifest of DARTS cache {str(root)!r}: its {POOL} is missing or "
                                f"unreadable ({type(exc).__name__}), and the shard ids are rows of it; precompute into "
                                "a new --out directory") from exc
        pool = {"file": POOL, "rows": int(rows)}
    shards: list[Shard] = []
    seen = np.zeros(0, dtype=np.int64)
    for path, (s, shard) in sorted(found.items(), key=lambda kv: kv[1][1].index):
        if json.dumps(s.to_json(), sort_keys=True) != common:
            bad[path] = "computed under other settings than the other shards"
        elif pool is not None and len(shard.ids) and int(shard.ids[-1]) >= pool["rows"]:
            bad[path] = f"its arch ids go beyond the {pool['rows']} rows of {POOL}"
        elif len(np.intersect1d(seen, shard.ids)):
            bad[path] = "its arch ids overlap another shard's"
        else:
            shards.append(shard)
            seen = np.union1d(seen, shard.ids)
    damaged = root / MANIFEST
    stamp = time.strftime("%Y%m%dT%H%M%S")
    if damaged.exists():
        damaged.rename(root / f"{MANIFEST}.damaged-{stamp}")  # kept for inspection (a move, not a write)
        report.notes.append(f"kept the damaged manifest as {MANIFEST}.damaged-{stamp}")
    if bad:
        (root / QUARANTINE).mkdir(exist_ok=True)
        for path, why in bad.items():
            path.rename(root / QUARANTINE / path.name)
            report.quarantined[path.name] = why
    manifest = Manifest(settings, shards=shards, pool=pool)
    manifest.runs.append({"started": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "command": "repair",
                          "note": f"manifest rebuilt from {len(shards)} self-verified shard(s); "
                                  f"{len(bad)} quarantined in {QUARANTINE}/", "code": code_versions()})
    manifest.save(root)
    report.rebuilt = True
    report.kept = [s.file for s in shards]
    report.num_archs = int(sum(len(s) for s in shards))
    return report
