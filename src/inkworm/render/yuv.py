"""Frames into YUV 4:2:0 for the encoder, converting only the rows that changed: the same
bytes as converting the whole frame (:func:`patched`), at the cost of the changed band."""

from __future__ import annotations

import av
import numpy as np
from av.video.reformatter import VideoReformatter
from numpy.typing import NDArray

SWSCALE_THREADS = 1
"""swscale converts in the scene's thread alone: PyAV's default (0, as many threads as cores)
split each frame between threads that waited for the cores the encoder and the scene hold;
on a 1,000-node render on 2 cores one thread took 0.6-0.7 s less CPU, and as much less time
(the same bytes: swscale's slices are converted alike)."""
MARGIN = 16
"""A band of changed rows is converted this many rows wider each side, aligned to it: the
rows kept then convert to the very bytes the whole frame would (swscale's chroma filter and
its dither, a pattern of 8 rows, reach no further)."""


def yuv420p(rgba: NDArray[np.uint8], convert: VideoReformatter) -> NDArray[np.uint8]:
    """``rgba`` in YUV 4:2:0 as swscale converts it for the encoder: the rows of Y, then of U
    and V (two a row), as :meth:`av.VideoFrame.from_numpy_buffer` takes them."""
    frame = convert.reformat(av.VideoFrame.from_numpy_buffer(rgba, format="rgba"),
                             format="yuv420p", threads=SWSCALE_THREADS)
    out: NDArray[np.uint8] = np.asarray(frame.to_ndarray(), dtype=np.uint8)
    return out


def patched(base: NDArray[np.uint8], rgba: NDArray[np.uint8], rows: tuple[int, int],
            convert: VideoReformatter) -> NDArray[np.uint8]:
    """A copy of ``base`` (:func:`yuv420p` of the previous frame) with ``rows`` (top, bottom)
    of ``rgba`` converted anew, in a band :data:`MARGIN` rows wider: the same bytes as
    :func:`yuv420p` of the whole frame, at the cost of the rows that changed."""
    height = rgba.shape[0]
    # a chroma row is filtered from the two rows either side of its pair: a change in rows
    # [a, b) changes chroma from the pair of row a - 2 to the pair of row b + 1
    changed = (rows[0] - 2, rows[1] + 2)
    top = max(changed[0] // MARGIN * MARGIN - MARGIN, 0)
    bottom = min(-(-changed[1] // MARGIN) * MARGIN + MARGIN, height)
    band = yuv420p(np.ascontiguousarray(rgba[top:bottom]), convert)
    first = top + MARGIN if top else 0  # the band's margins only fed the filter
    last = bottom - MARGIN if bottom < height else height
    out = base.copy()
    for whole, part, shrink in zip(_planes(out, height), _planes(band, bottom - top), (1, 2, 2),
                                   strict=True):
        whole[first // shrink:last // shrink] = part[(first - top) // shrink:
                                                     (last - top) // shrink]
    return out


def _planes(yuv: NDArray[np.uint8], height: int) -> tuple[NDArray[np.uint8], ...]:
    """Y, U and V of a :func:`yuv420p` array, as views (U and V half as wide and high)."""
    width, quarter = yuv.shape[1], height // 4
    return (yuv[:height], yuv[height:height + quarter].reshape(height // 2, width // 2),
            yuv[height + quarter:].reshape(height // 2, width // 2))
