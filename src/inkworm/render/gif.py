"""A video as a small looping GIF: the frames of the MP4 manim wrote (its own GIFs are about
a hundred times larger)."""

from __future__ import annotations

import itertools
from pathlib import Path


def mp4_to_gif(video: Path, gif: Path, colours: int = 96, noise: int = 10) -> Path:
    """Every frame of ``video`` as a small looping GIF, each shown as long as in the video
    (a held frame is one frame of the MP4, :mod:`inkworm.render.writer`).

    One palette (from the last frame, which holds every colour of the run); pixels that moved
    less than ``noise`` (video compression noise) keep the previous frame's value, so each GIF
    frame stores only what really changed.
    """
    import av
    import numpy as np
    from PIL import Image

    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        shown = [(float(frame.time or 0.0), frame.to_ndarray(format="rgb24"))
                 for frame in container.decode(stream)]
        if stream.duration is not None and stream.time_base is not None:
            end = float(stream.duration * stream.time_base)
        else:
            end = shown[-1][0] + 1 / float(stream.average_rate or 15)
    # GIF delays are whole centiseconds: each frame starts at its time, rounded; a frame
    # rounded to its successor's start is never seen
    ticks = [round(t * 100) * 10 for t, _ in shown] + [round(end * 100) * 10]
    frames = [rgb for (_, rgb), a, b in zip(shown, ticks, ticks[1:], strict=False) if b > a]
    ticks = [a for a, b in itertools.pairwise(ticks) if b > a] + [ticks[-1]]
    palette = Image.fromarray(frames[-1]).quantize(colours, method=Image.Quantize.MEDIANCUT)
    images = []
    previous = None
    for rgb in frames:
        if previous is not None:
            still = (np.abs(rgb.astype(np.int16) - previous).max(axis=2) < noise)
            rgb = np.where(still[..., None], previous, rgb).astype(np.uint8)
        previous = rgb.astype(np.int16)
        images.append(Image.fromarray(rgb).quantize(palette=palette, dither=Image.Dither.NONE))
    delays = [b - a for a, b in itertools.pairwise(ticks)]
    images[0].save(gif, save_all=True, append_images=images[1:], loop=0, duration=delays,
                   disposal=1)
    return gif
