"""Work started ahead in a thread, taken when it is needed.

A render spends its first second and a half importing manim (pure Python, the GIL held); the
chip's set-up before its first frame (layout, routing, painting, moulding) is mostly graphviz,
numpy and PIL, which release the GIL. Started before the import, the two overlap on a second
core. :class:`Ahead` runs one call in a thread; :meth:`Ahead.take` waits for it and returns its
value or raises its error, as the call itself would have; :meth:`Ahead.join` waits for it
whether taken or not, so that nothing it started outlives the block that started it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Ahead(Generic[T]):
    """``call()`` running in a thread from now."""

    def __init__(self, call: Callable[[], T], name: str) -> None:
        self._call = call
        self._value: T | None = None
        self._error: BaseException | None = None
        self._done = False
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            self._value = self._call()
        except BaseException as err:  # raised by take(), in the thread that needs the value
            self._error = err
        self._done = True

    def take(self) -> T:
        """The call's value (its error raised), once it is done."""
        self.thread.join()
        if self._error is not None:
            raise self._error
        assert self._done
        return self._value  # type: ignore[return-value]

    def join(self) -> None:
        """Wait for the call to end (its value or error is kept for :meth:`take`)."""
        self.thread.join()
