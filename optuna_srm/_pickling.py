"""Pickling of objects that hold a lock and caches derived from a study's storage."""

from __future__ import annotations

import threading
from typing import Any, ClassVar


class LockAndCaches:
    """Mixin: pickles without ``_lock`` and the dict caches named in ``_CACHES``.

    A lock cannot be pickled, and the caches are derived from the storage again: an unpickled
    copy gets a new lock and empty caches.
    """

    _CACHES: ClassVar[tuple[str, ...]] = ()

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        for name in ("_lock", *self._CACHES):
            del state[name]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()
        for name in self._CACHES:
            setattr(self, name, {})
