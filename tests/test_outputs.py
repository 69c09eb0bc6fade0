"""An output is what its name says (issue 22): the format comes from ``-o``'s extension, a
``--format`` that contradicts it is refused, transparent video is VP9 or ProRes 4444 with
alpha, a still is 1080p, a transparent deck plays WebM clips over its theme's slide."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from conftest import GRAPHS
from conftest import inkworm_run as inkworm
from inkworm import InputError
from inkworm.render.video import output_format


@pytest.mark.parametrize(("fmt", "output", "transparent", "chosen"), [
    (None, "x.png", False, "png"),
    (None, "x.GIF", False, "gif"),
    (None, "x.webm", True, "webm"),
    (None, "x.mov", True, "mov"),
    (None, None, False, "mp4"),
    ("png", None, False, "png"),
    ("mp4", "x.mp4", False, "mp4"),
    ("webm", "dir.v2/run", True, "webm"),
])
def test_the_format_is_what_the_name_says(fmt: str | None, output: str | None,
                                          transparent: bool, chosen: str) -> None:
    assert output_format(fmt, output, transparent) == chosen


@pytest.mark.parametrize(("fmt", "output", "transparent", "said"), [
    ("mp4", "x.png", False, "--format mp4 would write MP4 into a file named .png"),
    (None, "x.avi", False, "no format has the extension .avi"),
    (None, "x.html", False, "a page is 'inkworm view' (or render --format html)"),
    (None, "x.mp4", True, "--format webm (VP9, plays in browsers and reveal.js) or --format mov"),
    ("gif", None, True, "gif has none"),
])
def test_a_name_that_says_otherwise_is_refused(fmt: str | None, output: str | None,
                                               transparent: bool, said: str) -> None:
    with pytest.raises(InputError) as info:
        output_format(fmt, output, transparent)
    assert said in str(info.value) and "\n" not in str(info.value)



@pytest.mark.render
def test_png_and_gif_from_the_extension_alone(tmp_path: Path) -> None:
    from PIL import Image

    still, gif = tmp_path / "x.png", tmp_path / "x.gif"
    assert inkworm("render", str(GRAPHS / "triangle.dot"), "-o", str(still)).returncode == 0
    assert inkworm("render", str(GRAPHS / "triangle.dot"), "-q", "l", "--pace", "0.3",
                   "-o", str(gif)).returncode == 0
    with Image.open(still) as image:
        assert image.format == "PNG" and image.size == (1920, 1080)  # a still is a slide's
    with Image.open(gif) as image:
        assert image.format == "GIF" and image.n_frames > 10


@pytest.mark.render
def test_a_refused_name_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "x.mp4"
    proc = inkworm("render", str(GRAPHS / "triangle.dot"), "--transparent", "-o", str(out))
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "--format webm" in proc.stderr
    assert not out.exists()


def decoded_alpha(path: Path, decoder: str | None) -> tuple[str, str, np.ndarray]:
    """The codec, the pixel format and the alpha plane of a frame a third into the video
    (VP9's alpha is in side data that only libvpx decodes)."""
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        codec = stream.codec_context.name
        context = av.CodecContext.create(decoder, "r") if decoder else stream.codec_context
        frames = []
        for packet in container.demux(stream):
            frames += context.decode(packet)  # type: ignore[arg-type]
        frame = frames[len(frames) // 3]
        return codec, frame.format.name, frame.to_ndarray(format="rgba")[..., 3]


@pytest.mark.render
@pytest.mark.parametrize(("ext", "decoder", "codec", "pix_fmt"), [
    ("webm", "libvpx-vp9", "vp9", "yuva420p"),
    ("mov", None, "prores", "yuva444p10le"),
])
def test_transparent_video_has_alpha(tmp_path: Path, ext: str, decoder: str | None,
                                     codec: str, pix_fmt: str) -> None:
    out = tmp_path / f"run.{ext}"
    proc = inkworm("render", str(GRAPHS / "triangle.dot"), "-q", "l", "--pace", "0.3",
                   "--transparent", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    found, fmt, alpha = decoded_alpha(out, decoder)
    assert (found, fmt) == (codec, pix_fmt)
    assert alpha.min() == 0 and alpha.max() == 255  # clear around the chip, opaque on it
    assert 0.05 < (alpha == 0).mean() < 0.95


@pytest.mark.render
def test_a_transparent_deck_plays_webm_over_its_themes_slide(tmp_path: Path) -> None:
    out = tmp_path / "deck.html"
    proc = inkworm("slides", str(GRAPHS / "triangle.dot"), "-q", "l", "--transparent",
                   "--theme", "light", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    html = out.read_text(encoding="utf-8")
    assert html.count("data:video/webm;base64") >= 4 and "data:video/mp4" not in html
    assert 'data-background-color="white"' in html  # the light theme's slide, as pydantic names it


def _caption_band(path: Path) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as image:
        rgb = np.asarray(image.convert("L"), dtype=float)
    height = rgb.shape[0]
    return rgb[int(0.86 * height):int(0.95 * height), int(0.05 * rgb.shape[1]):
               int(0.95 * rgb.shape[1])]


@pytest.mark.render
def test_the_speaker_decides_whether_captions_are_burned_in(tmp_path: Path) -> None:
    burned, bare = tmp_path / "burned.png", tmp_path / "bare.png"
    for out, captions in ((burned, "burned"), (bare, "none")):
        proc = inkworm("render", str(GRAPHS / "bowtie.dot"), "-q", "l", "--captions", captions,
                       "--at", "connect:f:a", "-o", str(out))
        assert proc.returncode == 0, proc.stderr
    assert _caption_band(burned).std() > 10  # the caption's text
    assert _caption_band(bare).std() < 1  # the slide's colour alone
    video, vtt = tmp_path / "embedded.mp4", tmp_path / "embedded.vtt"
    proc = inkworm("render", str(GRAPHS / "triangle.dot"), "-q", "l", "--pace", "0.3",
                   "--embed-subtitles", "--subtitles", str(vtt), "-o", str(video))
    assert proc.returncode == 0, proc.stderr
    notes = [line for line in proc.stderr.splitlines() if line.startswith("note:")]
    assert len(notes) == 1 and "--captions burned" in notes[0]  # shown once, by the player
    assert vtt.read_text(encoding="utf-8").count("-->") >= 5  # the subtitles all the same


@pytest.mark.render
def test_a_title_card_comes_first_and_the_cues_follow_it(tmp_path: Path) -> None:
    import av

    video, vtt = tmp_path / "titled.mp4", tmp_path / "titled.vtt"
    proc = inkworm("render", str(GRAPHS / "triangle.dot"), "-q", "l", "--pace", "0.3",
                   "--title", "A worm in my cluster", "--subtitles", str(vtt), "-o", str(video))
    assert proc.returncode == 0, proc.stderr
    text = vtt.read_text(encoding="utf-8")
    assert "00:00:00.000 --> 00:00:02.000\nA worm in my cluster" in text
    assert "00:00:02.000 --> " in text  # the run's first cue right after the card
    with av.open(str(video)) as container:
        first = next(container.decode(video=0)).to_ndarray(format="rgb24").astype(float)
    chip = first[int(0.2 * first.shape[0]):int(0.8 * first.shape[0]), :int(0.6 * first.shape[1])]
    assert chip.mean() < 80  # the card on the slide's dark colour, no pale chip yet
