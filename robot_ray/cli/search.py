"""``robot-ray search``: RoBoT (or a baseline) over a benchmark, results to ``--out``."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import signal
from pathlib import Path

import click

from robot_ray.cli import main
from robot_ray.cli.checks import (
    MAX_ROUNDS,
    check_at_most,
    check_local_cpus,
    check_not_empty,
    check_number,
    check_output_location,
    parse_seeds,
)
from robot_ray.errors import RobotRayError, RunInterrupted
from robot_ray.io.lease import Lease
from robot_ray.networks import check_size
from robot_ray.runs.search import (
    LIVE, METHODS, SearchConfig, format_run_line, format_summary, load_config, output_lease, prepare_search, run_search,
)


def parse_metrics(spec: str) -> tuple[str, ...]:
    names = tuple(m.strip() for m in spec.split(",") if m.strip())
    if not names:
        raise RobotRayError(f"no metric names in --metrics {spec!r}: pass e.g. synflow,snip,nwot,zen")
    if len(set(names)) != len(names):
        raise RobotRayError(f"--metrics {spec!r} names a metric twice")
    return names


@main.command("search")
@click.option("--space", default="nb201", show_default=True, help="nb201, tnb101_micro or darts.")
@click.option("--dataset", "--task", "dataset", default="cifar10", show_default=True,
              help="NB201 dataset (cifar10, cifar100, ImageNet16-120), TNB101 task, or cifar10 for darts "
                   "(with --objective live: what the genotypes are trained on).")
@click.option("--metrics", default="synflow,snip,nwot,zen", show_default=True, help="Comma-separated metric names.")
@click.option("--budget", "-T", type=int, default=20, show_default=True, help="Distinct architectures queried per seed.")
@click.option("--seeds", default="10-19", show_default=True, help="Seeds: a range 10-19 or a list 1,5,9.")
@click.option("--method", type=click.Choice(METHODS), default="robot", show_default=True)
@click.option("--data-dir", default=None, help="Shared data directory (else $ROBOT_RAY_DATA).")
@click.option("--cache", default=None, help="Metric cache from `robot-ray precompute` (default: the published table).")
@click.option("--out", default=None, help="Output directory (default: out/<space>/<dataset>/<method>).")
@click.option("--objective", type=click.Choice(["robot", "dataset", "live"]), default="robot", show_default=True,
              help="NB201: the paper's CIFAR-10 12-epoch val accuracy, or the dataset's own. "
                   "live: train every queried genotype of a DARTS --cache pool (see the training options).")
@click.option("--bo-rounds", type=int, default=None, help="BO proposals per seed (default T-1, as in the paper).")
@click.option("--init-trials", type=int, default=1, show_default=True, help="Quasi-random proposals before the GP.")
@click.option("--acquisition", type=click.Choice(["ucb", "logei"]), default="ucb", show_default=True,
              help="BO acquisition: GP-UCB as the paper, or log expected improvement.")
@click.option("--engine", type=click.Choice(["gp", "ax"]), default="gp", show_default=True,
              help="BO engine of the weights: a light scikit-learn GP (milliseconds per proposal) or Ax's "
                   "BoTorch GP (~0.3 s per proposal).")
@click.option("--repeats", type=click.Choice(["novel", "keep"]), default="novel", show_default=True,
              help="A BO proposal that repeats a queried architecture: replace it by the best-UCB weights "
                   "inducing a new one (novel), or evaluate the repeat for free as the paper does (keep).")
@click.option("--initial", type=click.Choice(["corners", "sobol"]), default="corners", show_default=True,
              help="BO's first proposals: each metric alone (one-hot weights), or quasi-random as the paper.")
@click.option("--table-trials", type=click.Choice(["seed", "query"]), default="seed", show_default=True,
              help="On Ray, a table search's Tune trials: one per seed (its whole search), or one per queried "
                   "architecture, as a live search runs.")
@click.option("--no-ray", is_flag=True, help="RoBoT in a plain loop in this process (the reference for the Ray path).")
@click.option("--address", default=None, help="Ray cluster address (default: start a local Ray).")
@click.option("--num-cpus", type=int, default=None, help="CPUs of the local Ray (default: all).")
@click.option("--trial-cpus", type=float, default=0.25, show_default=True, help="CPUs per Tune trial.")
@click.option("--trial-gpus", type=float, default=0.0, show_default=True, help="GPUs per Tune trial (live training).")
@click.option("--epochs", type=int, default=None, help="Live: training epochs per genotype (default 12).")
@click.option("--train-batch-size", type=int, default=None, help="Live: training batch size (default 96).")
@click.option("--lr", type=float, default=None, help="Live: initial learning rate, cosine to 0 (default 0.025).")
@click.option("--channels", type=int, default=None, help="Live: DARTS network channels C (default 16).")
@click.option("--layers", type=int, default=None, help="Live: DARTS network cells L, at least 3 (default 5).")
@click.option("--train-subset", type=int, default=None,
              help="Live: a seeded random subset of this many training images (default all).")
@click.option("--val-fraction", type=float, default=None,
              help="Live: part of the training images held out for validation (default 0.5).")
@click.option("--cifar-root", default=None,
              help="Live: official CIFAR python folder (cifar-10-batches-py or its parent) to train on; "
                   "default: the data directory's npz subset of --dataset (or digits).")
@click.option("--train-seed", type=int, default=0, show_default=True,
              help="Live: seed of the weights, the split, the subset and the batches.")
@click.option("--inherit-weights", is_flag=True,
              help="Live PRE-NAS: each child (a true op-only mutant) starts from its parent's trained weights, "
                   "kept under OUT/weights (the papers' weight inheritance).")
@click.option("--inherit-epochs", type=int, default=None,
              help="Live PRE-NAS with --inherit-weights: epochs of a child that inherited (default: --epochs).")
@click.option("--fitness", type=click.Choice(["cache", "live"]), default="cache", show_default=True,
              help="SWAP-NAS with --objective live: evolve on a column of the --cache pool (cache), or over the "
                   "whole DARTS space scoring SWAP live, then train the answer with train_final (live; no --cache).")
@click.option("--option", "option", multiple=True, metavar="NAME=VALUE",
              help="A baseline's option, repeatable: e.g. cycles=50 (swapnas --fitness live also score_layers=5, "
                   "score_channels=8, ...; see docs/baselines.md).")
@click.option("--resume", "resume", default=None, metavar="OUT",
              help="Continue the interrupted search whose --out was OUT (its settings are reused).")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def search_command(space, dataset, metrics, budget, seeds, method, data_dir, cache, out, objective, bo_rounds,
                   init_trials, acquisition, repeats, initial, engine, table_trials, no_ray, address, num_cpus,
                   trial_cpus, trial_gpus, epochs,
                   train_batch_size, lr, channels, layers, train_subset, val_fraction, cifar_root, train_seed,
                   inherit_weights, inherit_epochs, fitness, option, resume, quiet) -> None:
    """Search a benchmark with RoBoT (BO over metric weights, then greedy) or a baseline."""
    from robot_ray.spaces import check_space

    private_writes()

    check_number(trial_cpus, "--trial-cpus", minimum=0, inclusive=False, hint="e.g. 0.25 for a table lookup")
    check_number(trial_gpus, "--trial-gpus", minimum=0, hint="0 without GPUs, e.g. 1 to train on a GPU")
    check_number(num_cpus, "--num-cpus", minimum=1, hint="or leave it out to use all CPUs")
    check_number(budget, "--budget", minimum=1, hint="T, the distinct architectures queried per seed, e.g. 20")
    check_number(bo_rounds, "--bo-rounds", minimum=1, hint="or leave it out for T-1")
    check_at_most(bo_rounds, "--bo-rounds", MAX_ROUNDS, hint="or leave it out for T-1")
    check_number(init_trials, "--init-trials", minimum=1, hint="e.g. 1 (the default)")
    check_at_most(init_trials, "--init-trials", MAX_ROUNDS, hint="e.g. 1 (the default)")
    check_not_empty(out=out, data_dir=data_dir, cache=cache, address=address, resume=resume, cifar_root=cifar_root)
    check_local_cpus(num_cpus, address)
    if resume:
        config = resumed_config(click.get_current_context(), load_config(resume), progress=not quiet)
        check_trial_resources(config.trial_resources)
    elif _embedded_default(click.get_current_context(), data_dir, cache):
        ctx = click.get_current_context()
        _run_embedded(out, quiet, address, num_cpus, budget=_given(ctx, "budget", budget),
                      seeds=_given(ctx, "seeds", seeds), epochs=epochs, trial_cpus=_given(ctx, "trial_cpus", trial_cpus))
        return
    else:
        check_space(space)
        check_flags_apply(click.get_current_context(), method=method, objective=objective, no_ray=no_ray)
        check_fitness_flags(click.get_current_context(), method=method, objective=objective, fitness=fitness)
        out = out or str(Path("out") / space / dataset / method)
        resources = {"cpu": trial_cpus} | ({"gpu": trial_gpus} if trial_gpus else {})
        train = training_overrides(epochs, train_batch_size, lr, channels, layers, train_subset, val_fraction)
        method_options = inheritance_options(method, objective, inherit_weights, inherit_epochs, train)
        config = SearchConfig(
            space=space, dataset=dataset, metrics=parse_metrics(metrics), budget=budget,
            seeds=tuple(parse_seeds(seeds)), method=method, data_dir=data_dir, cache=cache, out=out,
            objective=objective, bo_rounds=bo_rounds, init_trials=init_trials, acquisition=acquisition, repeats=repeats,
            initial=initial, engine=engine, table_trials=table_trials,
            use_ray=not no_ray, trial_resources=resources, progress=not quiet,
            train=train, cifar_root=cifar_root, train_seed=train_seed,
            method_options={**method_options, **parse_method_options(option)}, fitness=fitness,
        )
    prepared = preflight(config)
    out = config.out
    with output_lease(config) as lease:  # a second search into this --out is refused before Ray starts
        summary = _search_holding(prepared, lease, address, num_cpus)
    _report(summary, out)


def _search_holding(prepared, lease, address: str | None, num_cpus: int | None) -> dict:
    config = prepared.config
    uses_ray = config.use_ray and (config.method == "robot" or config.objective == LIVE)
    if uses_ray:
        from robot_ray.cluster import check_request_fits, connect

        connect(address=address, num_cpus=num_cpus)
        check_request_fits(config.trial_resources, what="each Tune trial", flags="--trial-cpus/--trial-gpus")
    with _sigterm_as_interrupt() as got:
        try:
            summary = run_search(prepared=prepared, lease=lease)
        except RunInterrupted as exc:
            raise RunInterrupted(f"{exc} ({got[0] if got else 'SIGINT'})", exit_code=143 if got else 130) from None
        except KeyboardInterrupt:  # the plain loop, or before Tune took over the signal
            raise RunInterrupted(f"the search in {config.out} stopped before its end",
                                 exit_code=143 if got else 130) from None
    return summary


def _report(summary: dict, out: str) -> None:
    for run in summary["runs"]:
        click.echo(format_run_line(run))
    click.echo(format_summary(summary))
    for note in summary.get("metric_notes", []):
        click.echo(f"note: {note}", err=True)
    click.echo(f"wrote {Path(out) / 'trajectory.parquet'} and {Path(out) / 'summary.json'}")


@contextlib.contextmanager
def _sigterm_as_interrupt():
    """SIGTERM stops a search like Ctrl-C (Tune ends its experiment cleanly, nothing is written as a
    result); yields a list that holds "SIGTERM" once one arrived."""
    got: list[str] = []

    def forward(signum, frame):
        got.append("SIGTERM")
        os.kill(os.getpid(), signal.SIGINT)

    try:
        previous = signal.signal(signal.SIGTERM, forward)
    except ValueError:  # not the main thread (e.g. inside a test runner's worker): leave signals alone
        yield got
        return
    try:
        yield got
    finally:
        signal.signal(signal.SIGTERM, previous)


RESUME_HONOURED = {"resume", "quiet", "address", "num_cpus", "trial_cpus", "trial_gpus", "out", "wait"}
"""Flags a resume takes; every other flag given with ``--resume`` must repeat the recorded setting."""
RESUME_COMPARED = ("space", "dataset", "metrics", "budget", "seeds", "method", "data_dir", "cache", "objective",
                   "bo_rounds", "init_trials", "acquisition", "repeats", "initial", "engine", "table_trials", "cifar_root",
                   "train_seed", "fitness", "option", "inherit_weights", "inherit_epochs")
TRAIN_FLAGS = ("epochs", "train_batch_size", "lr", "channels", "layers", "train_subset", "val_fraction")


def resumed_config(ctx: click.Context, recorded: SearchConfig, *, progress: bool) -> SearchConfig:
    """The recorded settings, checked against the flags given with ``--resume``.

    ``--quiet``, ``--address`` and ``--num-cpus`` are honoured, and so are ``--trial-cpus`` and
    ``--trial-gpus`` (where trials run, not what they find); ``--out``, if given, must name the
    resumed directory. Any other flag given must repeat the recorded setting: a differing one is
    refused by name (:func:`robot_ray.runs.resume.check_resume_flags`), never silently ignored.
    """
    from robot_ray.runs.resume import check_resume_flags

    params = ctx.params

    def given(name: str) -> bool:
        return ctx.get_parameter_source(name) == click.core.ParameterSource.COMMANDLINE

    def flag(name: str) -> str:
        value = params[name]
        if name == "option":
            return " ".join(f"--option {v}" for v in value)
        return "--" + name.replace("_", "-") + ("" if isinstance(value, bool) else f" {value}")

    if given("out") and Path(params["out"]).expanduser().resolve() != Path(recorded.out).expanduser().resolve():
        raise RobotRayError(f"--out {params['out']} and --resume {recorded.out} differ: a resumed search writes "
                            "where it was started; pass one of them (or --out alone for a new search)")
    converters = {
        "metrics": parse_metrics, "seeds": lambda v: tuple(parse_seeds(v)),
        "data_dir": _abs_path, "cache": _abs_path, "cifar_root": _abs_path,
    }
    unknown = sorted(n for n in params if given(n) and n not in {*RESUME_HONOURED, *RESUME_COMPARED, *TRAIN_FLAGS,
                                                                 "no_ray"})
    if unknown:  # a flag added later and not placed here: refused, never silently ignored
        raise RobotRayError(f"--resume {recorded.out}: {', '.join(flag(n) for n in unknown)} cannot be given with "
                            "--resume; leave it out")
    checked = {}
    for name in RESUME_COMPARED:
        if given(name) and name == "option":  # only the options given are compared, as the training flags
            want = parse_method_options(params[name])
            if {k: recorded.method_options.get(k) for k in want} != want:
                checked["method_options"] = (flag(name), {**recorded.method_options, **want})
        elif given(name) and name == "inherit_weights":  # a method option: PRE-NAS's inherit
            if not recorded.method_options.get("inherit"):
                checked["method_options"] = (flag(name), {**recorded.method_options, "inherit": True})
        elif given(name) and name == "inherit_epochs":  # a training setting
            if recorded.train.get("inherit_epochs") != params[name]:
                checked["train"] = (flag(name), {**recorded.train, "inherit_epochs": params[name]})
        elif given(name):
            checked[name] = (flag(name), converters.get(name, lambda v: v)(params[name]))
    if given("no_ray"):
        checked["use_ray"] = ("--no-ray", not params["no_ray"])
    train_flags = [n for n in TRAIN_FLAGS if given(n)]
    if train_flags:
        # only the training settings given are compared: a recorded default is not spelled out in the record
        want = training_overrides(*(params[n] if n in train_flags else None for n in TRAIN_FLAGS))
        have = {k: v for k, v in recorded.train.items() if k in want}
        if "size" in want:
            have["size"] = {k: v for k, v in dict(recorded.train.get("size") or {}).items() if k in want["size"]}
        if have != want:
            checked["train"] = (" ".join(flag(n) for n in train_flags), {**recorded.train, **want})
    check_resume_flags(recorded, checked)
    config = dataclasses.replace(recorded, progress=progress)
    if given("trial_cpus") or given("trial_gpus"):
        resources = dict(config.trial_resources)
        if given("trial_cpus"):
            resources["cpu"] = params["trial_cpus"]
        if given("trial_gpus"):
            resources = {k: v for k, v in resources.items() if k != "gpu"} | (
                {"gpu": params["trial_gpus"]} if params["trial_gpus"] else {})
        config = dataclasses.replace(config, trial_resources=resources)
    return config


ROBOT_FLAGS = ("bo_rounds", "init_trials", "acquisition", "repeats", "initial", "engine")
"""Settings of RoBoT's BO: a baseline (--method rs, ...) has none of them."""
RAY_FLAGS = ("table_trials", "address", "num_cpus", "trial_cpus", "trial_gpus")
"""Where and how Tune runs: a search that does not use Ray (--no-ray, a baseline on a table) has none."""


def check_flags_apply(ctx: click.Context, *, method: str, objective: str, no_ray: bool) -> None:
    """Every flag given is honoured or refused: a RoBoT setting with a baseline, a Ray setting
    with a search that runs without Ray, were silently ignored (``--method rs --engine ax``,
    ``--no-ray --address HOST:PORT``)."""

    def given(names):
        return ["--" + n.replace("_", "-") for n in names
                if ctx.get_parameter_source(n) == click.core.ParameterSource.COMMANDLINE]

    robot_only = given(ROBOT_FLAGS)
    if method != "robot" and robot_only:
        raise RobotRayError(f"{', '.join(robot_only)} set(s) RoBoT's BO and do(es) nothing with --method {method}: "
                            "leave it out, or use --method robot")
    uses_ray = not no_ray and (method == "robot" or objective == LIVE)
    ray_only = given(RAY_FLAGS)
    if not uses_ray and ray_only:
        why = "--no-ray runs in this process" if no_ray else f"--method {method} on a table runs in this process"
        raise RobotRayError(f"{', '.join(ray_only)} set(s) how Ray runs the search, and {why}, without Ray: "
                            "leave it out" + (", or drop --no-ray" if no_ray else ""))


def check_fitness_flags(ctx: click.Context, *, method: str, objective: str, fitness: str) -> None:
    """``--fitness`` is SWAP-NAS's with ``--objective live``; ``--option`` a baseline's; with
    ``--fitness live`` no metric is read, so ``--metrics`` would do nothing."""

    def given(name: str) -> bool:
        return ctx.get_parameter_source(name) == click.core.ParameterSource.COMMANDLINE

    if given("fitness") and (method != "swapnas" or objective != LIVE):
        raise RobotRayError(f"--fitness chooses SWAP-NAS's fitness with --objective live and does nothing with "
                            f"--method {method} --objective {objective}: leave it out, or use --method swapnas "
                            "--objective live --space darts")
    if given("option") and method == "robot":
        raise RobotRayError("--option sets a baseline's option and does nothing with --method robot: leave it out "
                            "(RoBoT's settings have their own flags)")
    if fitness == "live" and given("metrics"):
        raise RobotRayError("--metrics does nothing with --fitness live (the fitness is SWAP, scored live): "
                            "leave it out, or use --fitness cache --cache CACHE")


def parse_method_options(pairs) -> dict:
    """``("cycles=50", "crossover=True", "remove=oldest")`` -> ``{"cycles": 50, "crossover": True, ...}``."""
    import ast

    out: dict = {}
    for pair in pairs:
        name, sep, raw = str(pair).partition("=")
        name = name.strip()
        if not sep or not name.isidentifier():
            raise RobotRayError(f"malformed --option {pair!r}: use NAME=VALUE, e.g. --option cycles=50")
        if name in out:
            raise RobotRayError(f"--option {name} is given twice")
        if raw.strip().lower() in ("true", "false"):  # as typed on a shell: not a (truthy) string
            out[name] = raw.strip().lower() == "true"
            continue
        try:
            out[name] = ast.literal_eval(raw.strip())
        except (ValueError, SyntaxError):
            out[name] = raw.strip()  # a bare word such as oldest
    return out


def _abs_path(value: str) -> str:
    return value if "://" in value else str(Path(value).expanduser().resolve())


def private_writes() -> None:
    """Nothing this command writes (nor the local Ray it starts, whose workers inherit the mask)
    is writable by group or others, whatever the user's umask (Ubuntu's is 002).

    A resume unpickles Tune's state from OUT and refuses a directory others can write
    (:func:`robot_ray.io.trust.check_private_dir`): files made group-writable by a umask of 002
    would have made every resume refuse until ``chmod -R go-w OUT``.
    """
    current = os.umask(0o022)
    os.umask(current | 0o022)


def check_trial_resources(resources: dict) -> None:
    """The per-trial resources of a (resumed) config: finite, CPUs > 0, GPUs >= 0."""
    check_number(float(resources.get("cpu", 0.25)), "--trial-cpus", minimum=0, inclusive=False)
    check_number(float(resources.get("gpu", 0.0)), "--trial-gpus", minimum=0)


def preflight(config: SearchConfig):
    """Everything that can fail on the input fails here: before Ray starts, before --out exists."""
    if not config.resume:
        check_output_location(config.out)
        check_no_earlier_search(config.out)
    return prepare_search(config)


def check_no_earlier_search(out: str) -> None:
    """A new search does not write over an earlier one in ``--out``.

    Why: it used to overwrite ``search_config.json``, ``summary.json`` and the trajectory
    without a word, and pile a second Tune experiment beside the first under ``OUT/tune``.
    """
    path = Path(out).expanduser()
    found = [name for name in ("search_config.json", "summary.json") if (path / name).exists()]
    if found:
        raise RobotRayError(
            f"--out {out!r} already holds a search ({', '.join(found)}): continue it with "
            f"`robot-ray search --resume {out}`, pass another --out, or delete {out!r} to start over"
        )


def training_overrides(epochs, batch_size, lr, channels, layers, train_subset, val_fraction) -> dict:
    """The live objective's settings given on the command line (the rest keep the space's defaults)."""
    out = {k: v for k, v in (("epochs", epochs), ("batch_size", batch_size), ("lr", lr),
                             ("train_subset", train_subset), ("val_fraction", val_fraction)) if v is not None}
    size = {k: v for k, v in (("channels", channels), ("layers", layers)) if v is not None}
    check_size(size, flags={"channels": "--channels", "layers": "--layers"})  # before anything is loaded
    if size:
        out["size"] = size
    return out


def inheritance_options(method: str, objective: str, inherit: bool, inherit_epochs: int | None,
                        train: dict) -> dict:
    """PRE-NAS's weight inheritance flags: the method option, and the inherited epochs into ``train``."""
    if inherit_epochs is not None and not inherit:
        raise RobotRayError("--inherit-epochs sets how long an inheriting child trains: add --inherit-weights, "
                            "or leave it out")
    if not inherit:
        return {}
    if method != "prenas" or objective != LIVE:
        raise RobotRayError(f"--inherit-weights is PRE-NAS's weight inheritance in a live search: use it with "
                            f"--method prenas --objective live (got --method {method} --objective {objective})")
    check_number(inherit_epochs, "--inherit-epochs", minimum=1, hint="e.g. 2, or leave it out for --epochs")
    if inherit_epochs is not None:
        train["inherit_epochs"] = inherit_epochs
    return {"inherit": True}


def _embedded_default(ctx: click.Context, data_dir: str | None, cache: str | None) -> bool:
    """No data directory anywhere and no benchmark asked for: run the embedded live search."""
    from robot_ray.data import resolve_data_dir

    if data_dir or cache or resolve_data_dir(None, required=False) is not None:
        return False
    explicit = {"space", "dataset", "method", "metrics", "objective"}
    return not any(
        ctx.get_parameter_source(name) == click.core.ParameterSource.COMMANDLINE for name in explicit
    )


EMBEDDED_FLAGS = {"out", "quiet", "address", "num_cpus", "budget", "seeds", "epochs", "trial_cpus"}
"""What the embedded search takes; any other flag given with it is refused, never silently ignored."""


def _given(ctx: click.Context, name: str, value):
    return value if ctx.get_parameter_source(name) == click.core.ParameterSource.COMMANDLINE else None


def _run_embedded(out: str | None, quiet: bool, address: str | None, num_cpus: int | None, *,
                  budget: int | None = None, seeds: str | None = None, epochs: int | None = None,
                  trial_cpus: float | None = None) -> None:
    from robot_ray.cluster import connect
    from robot_ray.runs.demo import DemoConfig, run_demo

    ctx = click.get_current_context()
    ignored = sorted(name for name in ctx.params if name not in EMBEDDED_FLAGS
                     and ctx.get_parameter_source(name) == click.core.ParameterSource.COMMANDLINE)
    if ignored:
        flags = ", ".join("--" + n.replace("_", "-") for n in ignored)
        raise RobotRayError(
            f"{flags} do(es) not apply to the embedded live search (no data directory): it takes --out, --budget, "
            "--seeds (one seed), --epochs, --trial-cpus, --num-cpus, --address, --quiet; pass --data-dir DIR "
            "(or set $ROBOT_RAY_DATA) for a benchmark search"
        )
    overrides: dict = {}
    if seeds is not None:
        picked = parse_seeds(seeds)
        if len(picked) != 1:
            raise RobotRayError(f"--seeds {seeds!r}: the embedded live search runs one seed; pass e.g. --seeds 3")
        overrides["seed"] = picked[0]
    if budget is not None:
        if budget > DemoConfig.pool:
            raise RobotRayError(f"--budget {budget}: the embedded search samples {DemoConfig.pool} cells; "
                                f"pass at most {DemoConfig.pool}")
        overrides["budget"] = budget
    if epochs is not None:
        check_number(epochs, "--epochs", minimum=1)
        overrides["epochs"] = epochs
    if trial_cpus is not None:
        overrides["trial_cpus"] = trial_cpus
    check_output_location(out or DemoConfig.out)

    click.echo(
        "no data directory (--data-dir or $ROBOT_RAY_DATA): running the embedded live search "
        "(NB201 cells, metrics and training on the digits set bundled with scikit-learn)", err=True,
    )
    config = DemoConfig(out=out or DemoConfig.out, progress=not quiet, **overrides)
    with Lease(config.out, what="search output", hint="or pass another --out"):  # one writer per --out
        connect(address=address, num_cpus=num_cpus)
        summary = run_demo(config)
    run = summary["runs"][0]
    click.echo(f"found arch {run['best_arch']} (product index {run['best_arch_id']})")
    click.echo(
        f"validation accuracy {run['best_value']:.2f}%, test accuracy {run['best_test_value']:.2f}% "
        f"after {config.epochs} epochs; "
        f"T0={run['t0']}, {run['queries']} architectures trained in {run['cost']:.0f}s"
    )
    click.echo(f"total {summary['wall_time_s']:.0f}s; results in {config.out}: trajectory.parquet, summary.json, report/")
    for path in summary["report_files"]:
        click.echo(f"  {path}")
