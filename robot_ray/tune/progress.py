"""Progress of a Tune experiment as a rich progress bar (done, rate, ETA) on stderr."""

from __future__ import annotations

from ray.tune import Callback

from robot_ray.progress import make_progress


class TrialProgress(Callback):
    """Advances one bar per completed or errored Tune trial; use as a context manager."""

    def __init__(self, total: int, description: str, *, enabled: bool = True) -> None:
        self.progress = make_progress(enabled)
        self.task = self.progress.add_task(description, total=total, rate="")

    def __getstate__(self) -> dict:
        # Tune pickles its callbacks with the experiment state; a terminal bar does not travel
        return {"total": self.progress.tasks[self.task].total, "description": self.progress.tasks[self.task].description}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["total"], state["description"], enabled=False)

    def __enter__(self) -> "TrialProgress":
        self.progress.start()
        return self

    def __exit__(self, *exc) -> None:
        self.progress.stop()

    def _advance(self) -> None:
        self.progress.advance(self.task)
        task = self.progress.tasks[self.task]
        if task.speed:
            self.progress.update(self.task, rate=f"{task.speed:.2f} trials/s")

    def on_trial_complete(self, iteration, trials, trial, **info) -> None:
        self._advance()

    def on_trial_error(self, iteration, trials, trial, **info) -> None:
        self._advance()
