"""inkworm installed, not checked out: a wheel in a fresh venv, used from another folder.

The wheel is built from this checkout and installed into a new venv outside it (no network:
its dependencies come from the development venv through a .pth line, inkworm itself only from
the wheel). From a folder that holds nothing but a copy of the bowtie, the installed command
simulates, records on a real BEAM cluster, renders a PNG and makes an offline deck: the probe and
reveal.js must come from the wheel, relative paths from the working folder.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from conftest import GRAPHS, ROOT


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with inkworm installed from a wheel of this checkout."""
    base = tmp_path_factory.mktemp("wheel")
    source, dist = base / "source", base / "dist"
    # built from a copy, so that the build leaves nothing in the checkout
    shutil.copytree(ROOT / "src", source / "src",
                    ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps",
                    "--no-build-isolation", "-w", str(dist), str(source)],
                   check=True, capture_output=True, cwd=base)
    (wheel,) = dist.glob("inkworm-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "inkworm/probe/local_cluster.exs" in names
    assert "inkworm/probe/local_cluster/peers.exs" in names
    assert "inkworm/render/reveal/dist/reveal.js" in names
    assert "inkworm/render/viewer.html" in names  # inkworm view's page
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()"
                           "['purelib'])"], check=True, capture_output=True, text=True)
    # the dependencies (manim, pydot, ...) from the development venv, never inkworm itself
    Path(site.stdout.strip(), "_inkworm_deps.pth").write_text(
        sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q",
                    "--no-deps", "--no-index", str(wheel)], check=True, capture_output=True)
    return venv


def _run(venv: Path, work: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "INKWORM_PROBE_DIR",
                                                            "INKWORM_REVEAL_DIR")}
    # nothing may reach for the network, and caches start empty
    env.update(HOME=str(work / "home"), XDG_CACHE_HOME=str(work / "cache"),
               http_proxy="http://127.0.0.1:9", https_proxy="http://127.0.0.1:9",
               no_proxy="")
    return subprocess.run([str(venv / "bin" / args[0]), *args[1:]], cwd=work, env=env,
                          capture_output=True, text=True, check=False, timeout=600)


def test_the_wheel_works_from_another_folder(installed: Path, tmp_path: Path) -> None:
    work = tmp_path / "elsewhere"
    work.mkdir()
    shutil.copy(GRAPHS / "bowtie.dot", work / "bowtie.dot")
    where = _run(installed, work, "python", "-c", "import inkworm; print(inkworm.__file__)")
    assert where.stdout.startswith(str(installed)), where.stdout + where.stderr

    sim = _run(installed, work, "inkworm", "simulate", "bowtie.dot", "-o", "sim.jsonl")
    assert sim.returncode == 0, sim.stderr
    rec = _run(installed, work, "inkworm", "record", "bowtie.dot", "--mode", "naive", "-o",
               "rec.jsonl")
    assert rec.returncode == 0, rec.stderr
    check = _run(installed, work, "inkworm", "check", "rec.jsonl", "--graph", "bowtie.dot")
    assert check.stdout.splitlines() == ["spurious edge: a -- d", "spurious edge: a -- e",
                                         "spurious edge: a -- f"], check.stderr
    png = _run(installed, work, "inkworm", "render", "rec.jsonl", "--format", "png", "-o",
               "last.png")
    assert png.returncode == 0, png.stderr
    assert (work / "last.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    deck = _run(installed, work, "inkworm", "slides", "bowtie.dot", "-q", "l", "-o", "deck.html")
    assert deck.returncode == 0, deck.stderr
    html = (work / "deck.html").read_text(encoding="utf-8")
    assert "Reveal.initialize" in html
    assert 'src="http' not in html and 'href="http' not in html
