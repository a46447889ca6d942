"""What a resume checks before it continues a search: trust, the same settings, the state it needs.

A resumed search must reach the answer the interrupted one would have, so before anything runs:

1. **Trust** (:func:`robot_ray.io.trust.check_private_dir`, run by
   :func:`robot_ray.runs.search.load_config` before it reads the record): the output directory
   and all in it are the user's and writable by the user alone, since Tune's state is unpickled.
2. **The same settings**: the settings recorded in ``OUT/search_config.json`` (the run's own
   record, written by :func:`robot_ray.runs.search.save_config` before anything else) are the
   ones passed now, for everything that decides the result (:data:`RESULT_SETTINGS`); where to
   write, whether to show progress and the trials' resources may change.
3. **The state files**: a Tune experiment that has checkpointed (``experiment_state-*.json``)
   has its searchers' state beside it (``searcher-state-*.pkl``, JSON despite the name), and that
   state is the one of this search: its seeds, budget, metrics, space and dataset. Without it
   ``Tuner.restore`` would restart the searchers from scratch beside the old trials: another
   result, with exit 0. A search killed before Tune's first checkpoint has neither and starts
   over with the recorded settings.

Every refusal names the setting or file and the two fixes: the same settings, or a new ``--out``.
"""

from __future__ import annotations

import glob
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from robot_ray.errors import RobotRayError
from robot_ray.io.state import read_json_object

# robot_ray.runs.search calls this module (and hands it the recorded settings, which it reads
# with load_config after the trust check): no import back, so no cycle
SearchConfig = Any  # robot_ray.runs.search.SearchConfig
CONFIG_FILE = "search_config.json"  # robot_ray.runs.search.CONFIG_FILE

RESULT_SETTINGS = (
    "space", "dataset", "method", "objective", "metrics", "budget", "seeds", "bo_rounds", "init_trials",
    "acquisition", "repeats", "initial", "engine", "use_ray", "table_trials", "per_seed_concurrency", "method_options", "train",
    "train_seed", "data_dir", "cache", "cifar_root", "fitness",
)
"""The settings a resume must not change: they decide the search's result (``out``, ``progress``,
``resume`` and ``trial_resources`` do not)."""

TUNE_EXPERIMENT = ("tune", "robot")  # runs/robot.py: OUT/TUNE_DIR/EXPERIMENT
NEW_OUT = "or start a new search with another --out"


def check_resume(config: SearchConfig, recorded: SearchConfig) -> None:
    """Refuse to resume ``config.out`` unless it was recorded with ``config``'s settings and is complete.

    Args:
        config: the settings passed now.
        recorded: the settings in ``config.out`` (:func:`robot_ray.runs.search.load_config`, which
            checks the directory's trust before it reads them).

    Raises:
        RobotRayError: the search was started with other settings (naming each that differs), or
            lacks a state file it needs.
    """
    differ = [(name, getattr(recorded, name), getattr(config, name)) for name in RESULT_SETTINGS
              if _plain(getattr(recorded, name)) != _plain(getattr(config, name))]
    if differ:
        shown = "; ".join(f"{name}: recorded {_show(old)}, passed {_show(new)}" for name, old, new in differ)
        raise RobotRayError(
            f"cannot resume {config.out!r} with other settings than it was started with ({shown}): pass the "
            f"recorded ones (robot-ray search --resume OUT reuses them; in Python run_search(load_config(OUT))) "
            f"{NEW_OUT}"
        )
    check_resume_state(recorded)


def check_resume_flags(recorded: SearchConfig, given: Mapping[str, tuple[str, Any]]) -> None:
    """Refuse command-line flags given with ``--resume`` that differ from the recorded settings.

    Args:
        recorded: the settings in ``OUT/search_config.json``.
        given: setting name -> (the flag as typed, e.g. ``"--budget 30"``, its value as a setting),
            for the flags given explicitly on the command line.

    Raises:
        RobotRayError: naming each differing flag and the recorded value.
    """
    differ = [(flag, name, getattr(recorded, name)) for name, (flag, value) in given.items()
              if _plain(getattr(recorded, name)) != _plain(value)]
    if differ:
        shown = "; ".join(f"{flag} (recorded: {name} {_show(old)})" for flag, name, old in differ)
        raise RobotRayError(
            f"--resume {recorded.out}: {shown} {'differs' if len(differ) == 1 else 'differ'} from the search being "
            "resumed: leave them out (a resume "
            f"reuses the recorded settings from {CONFIG_FILE}) {NEW_OUT}"
        )


def check_resume_state(config: SearchConfig) -> None:
    """The state files a resume of ``config`` needs are there and belong to this search.

    Raises:
        RobotRayError: a checkpointed Tune experiment without its searchers' state, or with the
            state of another search.
    """
    if config.method != "robot" or not config.use_ray:
        return  # the plain loop and the baselines recompute from the recorded settings
    exp_dir = Path(config.out).joinpath(*TUNE_EXPERIMENT)
    if config.objective != "live" and config.table_trials == "seed":
        _check_seed_trials(config, exp_dir)
        return  # a trial per seed: finished seeds are in Tune's results, the others rerun whole
    experiments = sorted(glob.glob(str(exp_dir / "experiment_state-*.json")))
    if not experiments:
        return  # killed before Tune's first checkpoint: the search starts over
    states = sorted(glob.glob(str(exp_dir / "searcher-state-*.pkl")))
    if not states:
        raise RobotRayError(
            f"cannot resume {config.out!r}: its Tune experiment {str(exp_dir)!r} has an experiment state but no "
            "searcher state (searcher-state-*.pkl): the searchers would start over beside the old trials and "
            f"give another result; restore the file from a copy of the run {NEW_OUT}"
        )
    hint = f"restore the run from a copy {NEW_OUT}"
    state = read_json_object(states[-1], kind="searcher checkpoint", hint=hint)
    children = state.get("children")
    if not isinstance(children, dict) or not children:
        raise RobotRayError(f"{states[-1]!r} is not the searcher state of a robot-ray search (no seeds in it): {hint}")
    problems = []
    seeds = sorted(int(s) for s in children)
    if seeds != sorted(config.seeds):
        problems.append(f"seeds {seeds}, recorded {sorted(config.seeds)}")
    for seed, child in sorted(children.items(), key=lambda kv: int(kv[0])):
        if not isinstance(child, dict):
            problems.append(f"seed {seed} has no searcher state")
            continue
        if child.get("budget") != config.budget:
            problems.append(f"seed {seed}: budget {child.get('budget')!r}, recorded {config.budget}")
        names = child.get("names")
        if names is not None and list(names) != list(config.metrics):
            problems.append(f"seed {seed}: metrics {list(names)}, recorded {list(config.metrics)}")
        source = child.get("source") or {}
        for key in ("space", "dataset"):
            if key in source and source[key] != getattr(config, key):
                problems.append(f"seed {seed}: {key} {source[key]!r}, recorded {getattr(config, key)!r}")
    if problems:
        raise RobotRayError(
            f"cannot resume {config.out!r}: its searcher state {Path(states[-1]).name} belongs to another search "
            f"than its {CONFIG_FILE} ({'; '.join(problems[:4])}{'; ...' if len(problems) > 4 else ''}): {hint}"
        )


def _check_seed_trials(config: SearchConfig, exp_dir: Path) -> None:
    """A trial-per-seed experiment's trials (their ``params.json``, JSON) are of the recorded seeds.

    Why: Tune restores the trials it has; a trial of a seed the settings do not record (another
    search's experiment, an edited ``search_config.json``) would be restored beside them and the
    recorded seeds never finish: the resume ended as "interrupted", exit 130.
    """
    hint = f"restore the run from a copy {NEW_OUT}"
    foreign = set()
    for params in sorted(exp_dir.glob("*/params.json")):
        state = read_json_object(str(params), kind="trial parameters", hint=hint)
        seed = state.get("seed")
        if not isinstance(seed, int) or seed not in config.seeds:
            foreign.add(repr(seed))
    if foreign:
        raise RobotRayError(
            f"cannot resume {config.out!r}: its Tune experiment {str(exp_dir)!r} has trials of seed(s) "
            f"{', '.join(sorted(foreign))}, not among the recorded seeds {sorted(config.seeds)} of its {CONFIG_FILE}: "
            f"{hint}"
        )


def _plain(value: Any) -> Any:
    """Settings as JSON holds them: tuples are lists (a recorded setting has been through JSON)."""
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def _show(value: Any) -> str:
    value = _plain(value)
    if isinstance(value, list) and len(value) > 8:
        return f"[{', '.join(map(str, value[:4]))}, ... ({len(value)} values)]"
    if isinstance(value, list):
        return ",".join(map(str, value)) if value else "[]"
    return repr(value)
