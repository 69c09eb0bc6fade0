"""The frame path into the encoder: a frame costs what changed, from the chip to the video.

manim's own path, every frame: the camera clears its pixel array, copies the chip's frame in,
the renderer copies it again for the writer, and the writer's thread converts RGBA to YUV and
encodes it; a held frame (``wait``: one frame written N times) is converted and encoded N times.

Here, while the scene shows nothing but a :class:`Surface` (the chip, or a window onto it, or two
chips side by side), :class:`InkRenderer` composites it where it changed and hands it to
:class:`InkFileWriter` as it is. The writer reads the surface's ``version``: a frame that did
not change is not encoded again, it is a gap in the timestamps (the movie's time base is the
frame rate, so each frame lasts until the next one, and each partial movie ends with its last
frame at its last slot: the movie lasts exactly as long as manim's). A changed frame is
converted to YUV once, in the main thread, straight from the chip's pixels into a frame the
encoder owns, and encoded by the writer's thread with settings chosen for flat animation
(:data:`X264`). Anything else on screen (a user's mobject over the ink, a slide's title card)
goes manim's way, through its camera, into the same encoder, each frame encoded.

``inkworm render`` asks for one stream (:meth:`InkFileWriter.one_stream`): each play goes on in
the encoder of the play before it, so the scene is one partial movie, where each play (a
section a visit) started an encoder and a keyframe.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from queue import Queue
from typing import Any, Protocol

import av
import numpy as np
from av.container import OutputContainer
from av.video.reformatter import VideoReformatter
from av.video.stream import VideoStream
from manim import __version__ as manim_version
from manim import config
from manim.camera.camera import Camera
from manim.renderer.cairo_renderer import CairoRenderer
from manim.scene.scene_file_writer import (
    SceneFileWriter,
    _PartialMovieEncodeJob,
    to_av_frame_rate,
)
from manim.utils.file_ops import is_gif_format, is_png_format, write_to_movie
from numpy.typing import NDArray

from inkworm.render.yuv import SWSCALE_THREADS, patched, yuv420p

__all__ = ["X264", "Encoding", "InkFileWriter", "InkRenderer", "Surface", "encoding"]


class Surface(Protocol):
    """What a frame shows: a chip (:class:`~inkworm.render.raster.Chip`), a window onto one
    (:class:`~inkworm.render.camera.Viewport`) or two chips side by side."""

    frame: NDArray[np.uint8]
    version: int
    """Counts the changes of :attr:`frame`: the same number, the same pixels."""

    def composite(self) -> None: ...

    def changed(self, box: tuple[int, int, int, int] | None = None) -> None: ...

    def take_rows(self) -> tuple[int, int] | None: ...


X264 = {"crf": "21", "preset": "veryfast", "tune": "animation", "bf": "0"}
"""libx264 for the ink, measured with ``python bench/encoders.py`` (the bowtie's frames, each
setting on the same frames): a preset and tune for flat animation (large flat areas, sharp
edges, little motion), with :data:`KEYFRAME_SECONDS`, against manim's medium preset at crf 23
encoding every frame: at -ql 51.2 dB luma PSNR against 51.0, a file 1.3 times as large, 1.6 ms
of encoding a frame slot against 5.5; at -qh 48.0 dB against 49.5, 0.54 times the file, 8.4 ms
against 19.8. No B-frames: with them the decoding timestamps lag a held frame's gap, and an
MP4 ends at its last decoding timestamp, short of its last frame's time (manim's
concatenation of the sections then loses the difference)."""
KEYFRAME_SECONDS = 10
"""A keyframe at least every this many seconds' worth of frames (a player seeks from one;
each partial movie starts with one, and in one stream only the first does): longer in time
where frames are held."""
QUEUE = 4
"""Converted frames waiting for the encoder, at most (each 1.5 bytes a pixel)."""


@dataclass(frozen=True)
class Encoding:
    """How a partial movie is encoded."""

    codec: str
    pix_fmt: str
    options: dict[str, str]


def encoding(extension: str, transparent: bool, fps: float) -> Encoding:
    """The codec for the movie's file type: VP9 for WebM (with alpha, ``yuva420p``, when
    transparent: browsers and reveal.js play it), ProRes 4444 for MOV (with alpha when
    transparent: what video editors take), else H.264 with :data:`X264`'s settings."""
    if extension == ".webm":
        return Encoding("libvpx-vp9", "yuva420p" if transparent else "yuv420p",
                        {"an": "1", "crf": "23", "-auto-alt-ref": "1"})
    if extension == ".mov":
        return Encoding("prores_ks", "yuva444p10le" if transparent else "yuv444p10le",
                        {"profile": "4", "vendor": "apl0",
                         "alpha_bits": "16" if transparent else "0"})
    return Encoding("libx264", "yuv420p", {**X264, "g": str(round(KEYFRAME_SECONDS * fps))})


class _EncodeJob(_PartialMovieEncodeJob):
    """manim's encoding thread for one partial movie, fed frames already converted, each
    with its timestamp (a held frame is not sent again): ``(pts, frame)`` in :attr:`frames`."""

    def __init__(self, path: str, animation_index: int, container: OutputContainer,
                 stream: VideoStream) -> None:
        self.frames: Queue[tuple[int, av.VideoFrame | None]] = Queue(maxsize=QUEUE)
        self.output, self.video = container, stream
        super().__init__(path, animation_index, container, stream, frame_queue_size=0)

    def put_frame(self, pts: int, frame: av.VideoFrame) -> None:
        self.frames.put((pts, frame))

    def seal(self) -> None:
        self.frames.put((-1, None))

    def _listen_and_write(self) -> None:
        while True:
            pts, frame = self.frames.get()
            if frame is None:
                break
            if self._exception is not None:
                continue  # drain to the end: a bounded queue never blocks the scene
            try:
                frame.pts = pts  # the same frame may come twice (at the last slot)
                self.output.mux(self.video.encode(frame))
            except BaseException as exception:
                self._capture_exception(exception)
        try:
            self.output.mux(self.video.encode())
        except BaseException as exception:
            self._capture_exception(exception)
        finally:
            try:
                self.output.close()
            except BaseException as exception:
                self._capture_exception(exception)


class InkFileWriter(SceneFileWriter):
    """manim's writer, encoding what :class:`InkRenderer` hands it: a surface (converted
    only when its version changed) or, from manim's camera, a frame."""

    def __init__(self, renderer: Any, scene_name: str, **kwargs: Any) -> None:
        self._convert = VideoReformatter()
        self._pix_fmt = "yuv420p"
        self._slot = 0
        """The next frame's slot (timestamp) in the partial movie being written."""
        self._held: tuple[av.VideoFrame, int] | None = None
        """The last frame sent to the encoder, and its slot."""
        self._version: int | None = None
        """The surface version of that frame (``None``: a camera frame, or none yet)."""
        self._source: Surface | None = None
        """The surface the last frame converted came from (``None``: manim's camera)."""
        self._yuv: NDArray[np.uint8] | None = None
        """That frame in YUV 4:2:0 (:func:`yuv420p`), if it was the surface's."""
        self._going_on = False
        """The last play's stream was left open for the next play (:meth:`one_stream`)."""
        self._continued: set[str] = set()
        """The partial movies whose frames went on in an earlier one's stream (no file)."""
        super().__init__(renderer, scene_name, **kwargs)

    @staticmethod
    def takes_surfaces() -> bool:
        """Whether frames go to a movie (a PNG sequence is written by manim, from arrays)."""
        return write_to_movie() and not is_png_format() and not config.dry_run

    @staticmethod
    def holds() -> bool:
        """Whether a held frame may be a gap in the timestamps: not for manim's own GIFs,
        which it assembles frame by frame, each one 1/fps."""
        return not is_gif_format()

    def one_stream(self) -> bool:
        """Whether each play goes on in the stream of the play before it, one partial movie
        for the scene: when the scene asks for it (``scene.one_stream``, as ``inkworm
        render`` does), no play is cached (a cached play is a file of its own) and no
        section is saved as a video of its own (nor are slides cut from the plays).

        One encoder for the scene, where each play started one and a keyframe: a 1,000-node
        render's 38 sections took 0.5 s more of encoding and made a file twice as large.
        The sections stay (their progress, their stop points); a keyframe still comes at
        least every :data:`KEYFRAME_SECONDS`."""
        scene = getattr(self.renderer, "scene", None)
        return bool(getattr(scene, "one_stream", False)) and bool(config.disable_caching) \
            and not config.save_sections

    def open_partial_movie_stream(self, file_path: Any = None) -> None:
        """As manim's, with :func:`encoding`'s settings and a time base of one frame; or the
        stream left open by the play before goes on (:meth:`one_stream`)."""
        if file_path is None:
            file_path = self.partial_movie_files[self.renderer.num_plays]
            if file_path is None:
                raise RuntimeError("open_partial_movie_stream() called for a play that has "
                                   "no partial movie file path.")
        if self._going_on and isinstance(self._current_encode_job, _EncodeJob):
            self._going_on = False  # its frames follow the last play's, slot after slot
            self._continued.add(str(file_path))
            self.partial_movie_file_path = file_path
            Path(file_path).touch()  # an empty stand-in: manim touches each play's file
            return
        path_key = str(file_path)
        if path_key in self._inflight_by_path:
            self._join_job_and_drain_on_failure(self._inflight_by_path[path_key])
        self.partial_movie_file_path = file_path
        rate = to_av_frame_rate(config.frame_rate)
        how = encoding(config.movie_file_extension, config.transparent, float(rate))
        container = av.open(str(file_path), mode="w")
        stream = container.add_stream(how.codec, rate=rate, options=how.options)
        if not isinstance(stream, VideoStream):
            raise TypeError(f"{how.codec} made a {type(stream).__name__}, not a video stream")
        stream.pix_fmt = how.pix_fmt
        stream.width, stream.height = config.pixel_width, config.pixel_height
        stream.codec_context.time_base = 1 / Fraction(rate)  # one tick a frame slot
        self._pix_fmt = how.pix_fmt
        self._slot, self._held, self._version = 0, None, None
        self._current_encode_job = _EncodeJob(str(file_path), self.renderer.num_plays,
                                              container, stream)

    def close_partial_movie_stream(self) -> None:
        """Seal the partial movie (:meth:`_seal`), or leave its stream open for the next play
        (:meth:`one_stream`: it is still manim's current job, so that a render aborted
        between plays seals it; :meth:`finish` seals it at the end)."""
        if isinstance(self._current_encode_job, _EncodeJob) and self.one_stream():
            self._going_on = True
            return
        self._seal()

    def _seal(self) -> None:
        """Seal the partial movie; its last frame at its last slot if it was held (the
        movie's length is its last timestamp plus one frame)."""
        job = self._current_encode_job
        if isinstance(job, _EncodeJob) and self._held is not None and self._held[1] < \
                self._slot - 1:
            self._send(job, self._held[0], self._slot - 1)
        super().close_partial_movie_stream()

    def finish(self) -> None:
        """As manim's, the stream left open by the last play sealed first."""
        if self._going_on:
            self._going_on = False
            self._seal()
        super().finish()

    def combine_files(self, input_files: list[str], output_file: Any, create_gif: bool = False,
                      includes_sound: bool = False) -> None:
        """As manim's concatenation of the partial movies, for MP4 without reading every
        partial movie's first frame: the concat demuxer probes each file by decoding it
        (15 ms a section at -ql of a 1,000-node chip, 38 sections), where the packets only
        need moving. Each file's packets follow the previous file's end, as with the
        demuxer (decoded frames and timestamps tested equal); the keyframes that begin the
        files do not repeat the parameter sets the demuxer put in them (they are the same
        as the stream's). GIF, WebM and sound go manim's way. A play whose frames went on
        in an earlier play's stream (:meth:`one_stream`) has no file: it is in that one."""
        input_files = [path for path in input_files if str(path) not in self._continued]
        if create_gif or includes_sound or config.movie_file_extension != ".mp4":
            super().combine_files(input_files, output_file, create_gif, includes_sound)
            return
        with av.open(str(output_file), mode="w") as out:
            out.metadata["comment"] = f"Rendered with Manim Community v{manim_version}"
            stream: Any = None
            offset = 0
            for path in input_files:
                # skip_frame: no frame is decoded to find the stream's parameters
                with av.open(str(path), options={"skip_frame": "all"}) as part:
                    source = part.streams.video[0]
                    if stream is None:
                        stream = out.add_stream_from_template(template=source)
                    end = offset
                    for packet in part.demux(source):
                        if packet.dts is None or packet.pts is None:
                            continue  # the demuxer's flushing packet
                        packet.pts += offset
                        packet.dts = None  # the muxer computes it, as in manim's
                        packet.stream = stream
                        end = max(end, packet.pts + (packet.duration or 0))
                        out.mux(packet)
                    offset = end

    def write_frame(self, frame_or_renderer: Any, num_frames: int = 1) -> None:
        """A frame from manim's camera: converted and encoded (its pixels are not known to
        repeat the last frame's)."""
        if isinstance(self._current_encode_job, _EncodeJob) and \
                isinstance(frame_or_renderer, np.ndarray):
            self._write(frame_or_renderer, None, num_frames)
        else:
            super().write_frame(frame_or_renderer, num_frames)

    def write_surface(self, surface: Surface, num_frames: int = 1) -> None:
        """The surface's frame for the next ``num_frames`` slots (composited already)."""
        self._write(surface.frame, surface, num_frames)

    def _write(self, rgba: NDArray[np.uint8], surface: Surface | None, num_frames: int) -> None:
        job = self._current_encode_job
        if not isinstance(job, _EncodeJob) or num_frames <= 0:
            return
        if job.failed:  # as manim: the failure surfaces at the next frame
            job.seal()
            self._current_encode_job = None
            job.join()
        first = self._slot
        self._slot += num_frames
        if self._held is not None and surface is not None and surface is self._source and \
                surface.version == self._version:
            if self.holds():
                return  # the same pixels: the last frame lasts longer
            frame = self._held[0]
        else:
            frame = self._converted(rgba, surface)
            self._version = surface.version if surface is not None else None
        for slot in range(first, first + (1 if self.holds() else num_frames)):
            self._send(job, frame, slot)

    def _converted(self, rgba: NDArray[np.uint8], surface: Surface | None) -> av.VideoFrame:
        """The frame in the encoder's format, converted once: a surface's only in the rows
        that changed since its last frame converted (the rest is that frame's)."""
        rows = surface.take_rows() if surface is not None else None
        base = self._yuv if surface is not None and surface is self._source else None
        self._source, self._yuv = surface, None
        height, width = rgba.shape[:2]
        if self._pix_fmt != "yuv420p" or height % 4 or width % 2:
            pixels = av.VideoFrame.from_numpy_buffer(rgba, format="rgba")  # no copy
            frame: av.VideoFrame = self._convert.reformat(pixels, format=self._pix_fmt,
                                                          threads=SWSCALE_THREADS)
            if frame is pixels:  # nothing to convert: the encoder must not see the chip move
                frame = av.VideoFrame.from_ndarray(rgba.copy(), format="rgba")
            return frame
        if base is not None and rows is None:
            yuv = base  # the same pixels (a new partial movie starts with them)
        elif base is not None and rows is not None and rows[1] - rows[0] < height // 2:
            yuv = patched(base, rgba, rows, self._convert)
        else:
            yuv = yuv420p(rgba, self._convert)
        if surface is not None:
            self._yuv = yuv  # never written again: the next frame patches a copy
        return av.VideoFrame.from_numpy_buffer(yuv, format="yuv420p")

    def _send(self, job: _EncodeJob, frame: av.VideoFrame, slot: int) -> None:
        job.put_frame(slot, frame)
        self._held = (frame, slot)


class InkRenderer(CairoRenderer):
    """manim's Cairo renderer, but while the scene shows nothing but its surface
    (``scene.shown_surface()``), each frame is the surface's, handed to the writer as it is:
    no camera, no copy."""

    def __init__(self, camera_class: type[Camera], skip_animations: bool = False) -> None:
        super().__init__(file_writer_class=InkFileWriter, camera_class=camera_class,
                         skip_animations=skip_animations)
        self.scene: Any = None

    def init_scene(self, scene: Any) -> None:
        super().init_scene(scene)
        self.scene = scene

    def surface(self, scene: Any) -> Surface | None:
        """The surface the next frame is, or ``None`` for manim's camera."""
        if not isinstance(self.file_writer, InkFileWriter) or not self.file_writer.takes_surfaces():
            return None
        shown = getattr(scene, "shown_surface", None)
        result: Surface | None = shown() if callable(shown) else None
        return result

    def render(self, scene: Any, time: float, moving_mobjects: Any = None) -> None:
        surface = self.surface(scene)
        if surface is None:
            super().render(scene, time, moving_mobjects)
        else:
            self.add_surface(surface)

    def freeze_current_frame(self, duration: float) -> None:
        surface = self.surface(self.scene)
        if surface is None:
            super().freeze_current_frame(duration)
        else:  # as many frames as manim counts
            self.add_surface(surface, int(duration / (1 / self.camera.frame_rate)))

    def add_surface(self, surface: Surface, num_frames: int = 1) -> None:
        """As :meth:`add_frame`, with the surface (composited here)."""
        if self.skip_animations:
            return
        surface.composite()
        self.time += num_frames * (1 / self.camera.frame_rate)
        self.file_writer.write_surface(surface, num_frames)

