"""docs/looks.png: one contact sheet of how inkworm looks, at every size and on every slide.

The bowtie (ink and schematic), a 10-node cluster with ``name@host`` names, 60 and 300
generated nodes mid-run and at the end, the light theme, and transparent frames laid over a
white and a black slide. Every tile is a still made by ``inkworm render --format png --at``.
Run with ``make looks`` (about a minute).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from inkworm.gen import sparse_cluster
from inkworm.render.stills import contact_sheet
from inkworm.topology import to_dot

ROOT = Path(__file__).resolve().parent.parent


def still(work: Path, name: str, graph: Path, at: str, *options: str) -> Path:
    out = work / f"{name}.png"
    subprocess.run([sys.executable, "-m", "inkworm", "render", str(graph), "--mode", "naive",
                    "--format", "png", "--at", at, "-q", "m", "-o", str(out), *options],
                   check=True, capture_output=True)
    return out


def over(path: Path, slide: tuple[int, int, int]) -> np.ndarray:
    """A transparent still laid over a slide of one colour."""
    rgba = np.asarray(Image.open(path).convert("RGBA"), dtype=np.float32)
    alpha = rgba[..., 3:4] / 255
    rgb = rgba[..., :3] * alpha + np.array(slide, np.float32) * (1 - alpha)
    return np.clip(rgb + 0.5, 0, 255).astype(np.uint8)


def main(out: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        bowtie = ROOT / "graphs" / "bowtie.dot"
        office = ROOT / "graphs" / "office.dot"
        graphs = {n: work / f"gen{n}.dot" for n in (60, 300)}
        for n, path in graphs.items():
            path.write_text(to_dot(sparse_cluster(n, seed=0)), encoding="utf-8")
        tiles: list[tuple[str, np.ndarray]] = []

        def add(label: str, path: Path) -> None:
            tiles.append((label, np.asarray(Image.open(path).convert("RGB"))))

        add("bowtie, ink: f\u2013a etched", still(work, "b-ink", bowtie, "connect:f:a"))
        add("bowtie, schematic", still(work, "b-sch", bowtie, "connect:f:a", "--style",
                                       "schematic"))
        add("bowtie, light theme", still(work, "b-light", bowtie, "final", "--theme", "light"))
        add("10 nodes, name@host", still(work, "office", office, "probe_start:web@frontend-02"))
        for n, path in graphs.items():
            add(f"{n} nodes, mid-run", still(work, f"g{n}m", path, f"seq={n * 2}"))
            add(f"{n} nodes, final", still(work, f"g{n}f", path, "final"))
        for theme in ("dark", "light"):
            path = still(work, f"t-{theme}", bowtie, "final", "--transparent", "--theme", theme)
            tiles.append((f"transparent {theme} over white", over(path, (255, 255, 255))))
            tiles.append((f"transparent {theme} over black", over(path, (0, 0, 0))))
        sheet = Image.fromarray(contact_sheet([t for _, t in tiles],
                                              [label for label, _ in tiles]))
        width = 2560  # small enough for a repository, large enough to read every tag
        sheet = sheet.resize((width, round(sheet.height * width / sheet.width)),
                             Image.Resampling.LANCZOS)
        sheet.quantize(256, method=Image.Quantize.MEDIANCUT).save(out, optimize=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "looks.png")
