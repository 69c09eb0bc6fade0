"""inkworm in Jupyter: a real notebook, executed with nbclient on an ipykernel.

``inkworm.show`` must render quietly (no manim log, no progress bar in the cell) and leave an
image or an embedded video as the cell's output; ``%%manim`` renders an InkScene subclass.
"""

from __future__ import annotations

import html as html_module
import shutil
from pathlib import Path

import nbformat
import pytest
from jupyter_client import KernelManager
from nbclient import NotebookClient

from conftest import GRAPHS

pytestmark = pytest.mark.render

CELLS = [
    # a relative path is read from the notebook's folder
    'import inkworm\ninkworm.show("bowtie.dot", mode="naive", format="png")',
    'inkworm.show("bowtie.dot", mode="fixed", format="mp4", duration=3)',
    "from manim import *\nfrom inkworm.render.scene import InkScene\nfrom inkworm import Mode",
    "%%manim -ql -v WARNING --progress_bar none Bowtie\n\n"
    "class Bowtie(InkScene):\n    graph = 'bowtie.dot'\n    mode = Mode.NAIVE\n",
    'inkworm.show("bowtie.dot", mode="naive", format="html")',  # the viewer, in a frame
    'inkworm.show("bowtie.dot", mode="naive", format="html", compare="bowtie.dot", '
    'compare_mode="fixed")',  # two runs on one track
]


def test_a_notebook_shows_the_run(tmp_path: Path) -> None:
    shutil.copy(GRAPHS / "bowtie.dot", tmp_path / "bowtie.dot")
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    # the kernel talks over private Unix sockets in the notebook's folder, not TCP
    kernel = KernelManager(kernel_name="python3", transport="ipc",
                           ip=str(tmp_path / "kernel"))
    NotebookClient(notebook, km=kernel, timeout=600,
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    png, mp4, _, magic, viewer, pair = (cell.outputs for cell in notebook.cells)
    assert [o.output_type for o in png] == ["execute_result"]
    assert png[0].data["image/png"]  # base64 of the last frame
    assert [o.output_type for o in mp4] == ["execute_result"]
    html = mp4[0].data["text/html"]
    assert "<video" in html and "data:video/mp4;base64," in html
    assert not [o for o in (*png, *mp4) if o.output_type == "stream"]  # quiet
    assert any("<video" in o.get("data", {}).get("text/html", "") for o in magic), magic
    page = viewer[0].data["text/html"]
    assert page.startswith("<iframe srcdoc=") and "Content-Security-Policy" in page
    both = html_module.unescape(pair[0].data["text/html"])
    assert '"label":"naive"' in both and '"label":"fixed"' in both


def test_the_viewer_in_a_notebook_refuses_a_videos_options() -> None:
    """``show(format="html")`` makes the viewer: a video's option given is one error naming
    it, not silence."""
    import inkworm

    with pytest.raises(inkworm.InputError, match="format html: pace, style does not apply"):
        inkworm.show(GRAPHS / "bowtie.dot", format="html", pace=2.0, style="schematic")


def test_show_takes_every_picture_option_of_render() -> None:
    """``inkworm.show`` names each option of ``inkworm render`` that makes the picture as the
    command line does (the README says it takes them); only what writes other files (the
    subtitles, chapters, stills' moments and sheet) or chooses a path is the command's own."""
    import inspect

    import inkworm
    from inkworm.cli import cli

    command_only = {"output", "subtitles", "chapters", "embed_subtitles", "at", "sheet", "cols"}
    named = {"fmt": "format", "layout_name": "layout", "compare_path": "compare",
             "input_path": "source"}
    options = {named.get(p.name, p.name) for p in cli.commands["render"].params
               if p.name and p.name not in command_only}
    taken = set(inspect.signature(inkworm.show).parameters)
    assert options - taken == set()
