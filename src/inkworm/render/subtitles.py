"""Captions as cues: WebVTT subtitles (every caption) and chapters (one per visit, one for the
result), with the exact on-screen interval of each.

A caption appears with its step and stays until the next step's caption replaces it; the last
one stays to the end of the video (the final hold). With a timeline timed at the video's frame
rate (``time_steps(..., fps=...)``) every cue starts on a frame, so the cues are what a viewer
sees, frame for frame.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from inkworm.render.timeline import Step
from inkworm.safe import mov_text_text, vtt_text


@dataclass(frozen=True)
class Cue:
    """Text on screen from ``start`` to ``end`` (video seconds)."""

    start: float
    end: float
    text: str
    seqs: tuple[int, ...] = ()

    @property
    def duration(self) -> float:
        return self.end - self.start


def video_length(steps: Sequence[Step], hold: float) -> float:
    """How long the video of these (timed) steps lasts: the run, then the final hold."""
    return (steps[-1].end if steps else 0.0) + hold


def caption_cues(steps: Sequence[Step], hold: float) -> list[Cue]:
    """One cue per caption, each up until the next one appears (the last: to the end); steps
    that share a caption (a condensed run, :attr:`Step.cue`) share one cue."""
    shown = first_of_each_cue(steps)
    end = video_length(steps, hold)
    starts = [s.start for s in shown[1:]] + [end]
    return [Cue(s.start, until, s.caption, s.seqs) for s, until in zip(shown, starts,
                                                                       strict=True)]


def first_of_each_cue(steps: Sequence[Step]) -> list[Step]:
    """The steps whose caption appears on screen: each step, but only the first of a group
    that shares one caption."""
    return [s for i, s in enumerate(steps) if s.cue < 0 or i == 0 or steps[i - 1].cue != s.cue]


def chapter_cues(steps: Sequence[Step], hold: float) -> list[Cue]:
    """One chapter per visit (from the step that starts it; a parallel run's wave of calls:
    one for the nodes it visits) and one for the result."""
    marks = [(s.start, f"visit {' '.join(s.visits)}") for s in steps if s.visits]
    finale = next((s for s in reversed(steps) if s.kind.value in ("result", "crash")), None)
    if finale is not None:
        marks.append((finale.start, "result" if finale.kind.value == "result" else "crash"))
    end = video_length(steps, hold)
    ends = [start for start, _ in marks[1:]] + [end]
    return [Cue(start, until, title) for (start, title), until in zip(marks, ends, strict=True)
            if until > start]


def after_title(cues: Sequence[Cue], seconds: float, title: str | None = None) -> list[Cue]:
    """``cues`` shifted past a title card of ``seconds`` (with ``title``: a cue for the card
    itself first)."""
    if seconds <= 0:
        return list(cues)
    moved = [Cue(c.start + seconds, c.end + seconds, c.text, c.seqs) for c in cues]
    return ([Cue(0.0, seconds, title)] if title else []) + moved


def _stamp(seconds: float) -> str:
    millis = round(seconds * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{millis:03d}"


def cue_lines(cue: Cue) -> list[str]:
    """A cue's text as the lines a player shows, as written (no empty line: it would end the
    cue). Only a line feed breaks a line: U+2028 in a name is not a WebVTT line break."""
    return [line for line in cue.text.replace("\r", "").split("\n") if line.strip()]


def to_vtt(cues: Sequence[Cue]) -> str:
    """WebVTT text: one cue a block, numbered; the text as data (a name cannot end a cue nor
    tag or style its text: :func:`inkworm.safe.vtt_text`)."""
    blocks = ["WEBVTT", ""]
    for number, cue in enumerate(cues, start=1):
        blocks += [str(number), f"{_stamp(cue.start)} --> {_stamp(cue.end)}",
                   *map(vtt_text, cue_lines(cue)), ""]
    return "\n".join(blocks)


_ASS_HEADER = (b"[Script Info]\nScriptType: v4.00+\n\n[Events]\nFormat: Layer, Start, End, "
               b"Style, Name, MarginL, MarginR, MarginV, Effect, Text\n")
"""What FFmpeg's mov_text encoder wants to open (its styles are not used)."""


def embed(video: Path, cues: Sequence[Cue], out: Path) -> Path:
    """``video`` (an MP4) copied to ``out`` with ``cues`` as a subtitle track (mov_text,
    English): players and video sites offer it as captions. The video is not re-encoded."""
    import struct
    from fractions import Fraction

    import av

    millis = Fraction(1, 1000)
    with av.open(str(video)) as source, av.open(str(out), "w", format="mp4") as target:
        picture = source.streams.video[0]
        copied = target.add_stream_from_template(picture)
        text = target.add_stream("mov_text")
        text.codec_context.subtitle_header = _ASS_HEADER
        text.codec_context.time_base = millis
        text.time_base = millis
        text.metadata["language"] = "eng"
        for packet in source.demux(picture):
            if packet.dts is None:
                continue  # the demuxer's flush packet
            packet.stream = copied
            target.mux(packet)
        for cue in cues:
            body = "\n".join(map(mov_text_text, cue_lines(cue))).encode()
            sample = av.Packet(struct.pack(">H", len(body)) + body)
            sample.stream = text
            sample.time_base = millis
            sample.pts = sample.dts = round(cue.start * 1000)
            sample.duration = max(1, round(cue.end * 1000) - round(cue.start * 1000))
            target.mux(sample)
    return out


def write_vtt(cues: Sequence[Cue], path: str | os.PathLike[str]) -> None:
    """Write cues as a WebVTT file, atomically."""
    from inkworm.output import atomic_text

    with atomic_text(path) as out:
        out.write(to_vtt(cues))
