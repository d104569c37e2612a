"""What a pruner or sampler derives from a study's finished trials, cached per process.

The storage is the only shared state: these caches hold derived data only, keyed by what it was
derived from, and they pickle empty (Optuna copies samplers and pruners into other processes).
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

import optuna
from optuna.trial import FrozenTrial

from optuna_srm._optuna_internals import TrialKey, storage_key, trial_key

T = TypeVar("T")


class PicklableLock:
    """A ``threading.Lock`` that pickles as a new, unlocked one."""

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def __enter__(self) -> PicklableLock:
        self._lock.acquire()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._lock.release()

    def __getstate__(self) -> dict[str, Any]:
        return {}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__()  # type: ignore[misc]


@dataclass
class Derived(Generic[T]):
    """A value derived from a study's finished trials, and which trials those were."""

    value: T
    n_trials: int = -1
    ends: tuple[TrialKey, ...] = ()  # the keys of the first and the last of them

    def current(self, trials: Sequence[FrozenTrial]) -> bool:
        """Whether ``value`` was derived from ``trials``: finished trials never change and only
        grow in number, so the same count means the same trials."""
        return self.n_trials == len(trials)

    def derived_from(self, trials: Sequence[FrozenTrial]) -> None:
        """Record that ``value`` is now derived from ``trials`` (in number order)."""
        self.n_trials = len(trials)
        self.ends = (trial_key(trials[0]), trial_key(trials[-1])) if trials else ()

    def holds_part_of(self, trials: Sequence[FrozenTrial]) -> bool:
        """Whether ``trials`` hold every trial this was derived from, judged by the count and
        the first and last trial (a study deleted and created again under the same id, which
        SQLite gives the id of the deleted one, has other trials there)."""
        if len(trials) < self.n_trials:
            return False
        for key in self.ends:
            i = bisect.bisect_left(trials, key[0], key=lambda t: t.number)
            if i == len(trials) or trial_key(trials[i]) != key:
                return False
        return True


class StudyCaches(Generic[T]):
    """Per-study derived values behind one lock (the threads of ``study.optimize(n_jobs=...)``
    share a pruner or sampler: one at a time updates a value)."""

    def __init__(self) -> None:
        self.lock = PicklableLock()
        self._entries: dict[tuple[int, int], Derived[T]] = {}

    def __getstate__(self) -> dict[str, Any]:
        return {}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__()  # type: ignore[misc]

    def peek(self, study: optuna.study.Study) -> Derived[T] | None:
        """The entry of ``study``, if any, without looking at its trials."""
        return self._entries.get(storage_key(study))

    def get(
        self, study: optuna.study.Study, trials: Sequence[FrozenTrial], new: Callable[[], T]
    ) -> Derived[T]:
        """The entry of ``study``, whose finished trials are ``trials`` (in number order); a new
        one, valued ``new()``, where there was none or the study is not the one it was derived
        from. Bring it up to date unless it is ``current(trials)``, then call
        ``derived_from(trials)``."""
        key = storage_key(study)
        entry = self._entries.get(key)
        if entry is None or not entry.holds_part_of(trials):
            entry = self._entries[key] = Derived(new())
        return entry


def finish_order(trial: FrozenTrial) -> tuple[datetime, int]:
    """Sort key of trials in the order they finished (then by number): the same on every
    worker, so that what is learned from the first ones stays the same as more finish."""
    return trial.datetime_complete or datetime.min, trial.number
