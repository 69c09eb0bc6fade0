"""What changed in a frame: a frame's version and the rows changed since a writer last looked
(:class:`Tracked`), and the changed pixels each once (:func:`distinct`)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

I64 = NDArray[np.int64]


class Tracked:
    """A frame that counts its changes (:attr:`version`: the same number, the same pixels)
    and keeps the rows changed since a video writer last took them (:meth:`take_rows`), so
    that the writer converts only those."""

    version: int
    _height: int
    _rows: tuple[int, int] | None

    def _track(self, height: int) -> None:
        self.version, self._height, self._rows = 0, height, (0, height)

    def changed(self, box: tuple[int, int, int, int] | None = None) -> None:
        """Note a change of the frame drawn outside its composite: text over it in ``box``
        (left, top, right, bottom), or anywhere."""
        self.version += 1
        self._touched(*((box[1], box[3]) if box else (0, self._height)))

    def _touched(self, top: int, bottom: int) -> None:
        rows = self._rows
        self._rows = (top, bottom) if rows is None else (min(rows[0], top),
                                                         max(rows[1], bottom))

    def take_rows(self) -> tuple[int, int] | None:
        """The rows (top, bottom) changed since the last call; ``None``: none."""
        rows, self._rows = self._rows, None
        return rows


def distinct(idx: I64, owner: NDArray[np.int32]) -> I64:
    """``idx`` with each pixel once, in no particular order: O(len(idx)) scatters into
    ``owner`` (one slot a pixel), where sorting (``np.unique``) took 29 % of a 1,000-node
    render."""
    at = np.arange(idx.size, dtype=np.int32)
    owner[idx] = at  # the last occurrence of each pixel wins its slot
    result: I64 = idx[owner[idx] == at]
    return result
