"""When things happen on screen: a run's steps timed as the options say, when each caption
appears, and the sections (one per visit) a video and a deck are cut into."""

from __future__ import annotations

from collections.abc import Sequence

from inkworm.render.options import RenderOptions
from inkworm.render.pacing import time_steps
from inkworm.render.steps import Step
from inkworm.render.story import steps_from_trace
from inkworm.render.subtitles import first_of_each_cue
from inkworm.trace import Trace


def timeline(trace: Trace, options: RenderOptions, fps: float | None = None) -> list[Step]:
    """The run's steps timed as ``options`` say (``fps``: each starting on a frame)."""
    return time_steps(steps_from_trace(trace), options.timing, options.duration,
                      pace=options.pace, story=options.story, fps=fps)


def caption_schedule(steps: Sequence[Step]) -> list[tuple[float, Step]]:
    """When each caption appears: with its step, every one (the timeline gives each caption at
    least its reading time, so none is ever dropped; a condensed run's group shows once)."""
    return [(step.start, step) for step in first_of_each_cue(steps)]


def section_groups(steps: Sequence[Step], min_section: float) -> list[list[Step]]:
    """Steps cut into sections at each visit; visits closer than ``min_section`` share one."""
    groups: list[list[Step]] = []
    for step in steps:
        starts_visit = step.visit is not None
        long_enough = bool(groups) and step.start - groups[-1][0].start >= min_section
        if not groups or (starts_visit and long_enough):
            groups.append([step])
        else:
            groups[-1].append(step)
    return groups
