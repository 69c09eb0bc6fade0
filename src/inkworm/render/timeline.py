"""From trace events to timed visual steps (no manim here: tested on its own), in three
parts: :mod:`~inkworm.render.steps` (what a viewer sees, a stepper per event kind),
:mod:`~inkworm.render.story` (a run's steps, told and cut into slides) and
:mod:`~inkworm.render.pacing` (how long each is on screen). This module names them together.
"""

from __future__ import annotations

from inkworm.render.pacing import (
    CONDENSE_ABOVE,
    IDLE_MAX,
    KEY_EACH,
    KEY_HOLD,
    KEY_HURRY,
    KEY_KINDS,
    KEY_RUN,
    LONG_RUN,
    NAMED_ETCHES,
    READING_CHARS_PER_SECOND,
    READING_MIN,
    READING_PER_WORD,
    Story,
    condensed,
    duration_notice,
    reading_time,
    summarise,
    time_steps,
)
from inkworm.render.steps import STEPPERS, WEIGHTS, Step, StepKind, Timing, step_at
from inkworm.render.story import slide_groups, steps_from_trace

__all__ = [
    "CONDENSE_ABOVE", "IDLE_MAX", "KEY_EACH", "KEY_HOLD", "KEY_HURRY", "KEY_KINDS", "KEY_RUN",
    "LONG_RUN", "NAMED_ETCHES", "READING_CHARS_PER_SECOND", "READING_MIN", "READING_PER_WORD",
    "STEPPERS", "WEIGHTS", "Step", "StepKind", "Story", "Timing", "condensed",
    "duration_notice", "reading_time", "slide_groups", "step_at", "steps_from_trace",
    "summarise", "time_steps",
]
