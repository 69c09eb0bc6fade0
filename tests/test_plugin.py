"""The pytest plugin, tested with pytest's own pytester: real test files, real runs."""

from __future__ import annotations

import re
import shutil

import pytest

from conftest import GRAPHS, ROOT

pytest_plugins = ["pytester"]


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    shutil.copytree(GRAPHS, pytester.path / "graphs")
    return pytester


def readme_example() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Testing your probe", 1)[1]
    return re.search(r"```python\n(.*?)```", section, flags=re.S).group(1)  # type: ignore[union-attr]


def test_readme_example_passes_and_writes_its_snapshot(project: pytest.Pytester) -> None:
    project.makepyfile(test_probe_example=readme_example())
    missing = project.runpytest("-q")  # a CI run never passes on a snapshot it just wrote
    missing.assert_outcomes(passed=1, failed=1)
    missing.stdout.fnmatch_lines(["*no inkworm snapshot at *test_walk_order_is_stable.json: "
                                  "run pytest with --inkworm-update-snapshots to write it*"])
    assert not (project.path / "__inkworm_snapshots__").exists()
    project.runpytest("-q", "--inkworm-update-snapshots").assert_outcomes(passed=2)
    result = project.runpytest("-q")
    result.assert_outcomes(passed=2)
    snapshot = (project.path / "__inkworm_snapshots__"
                / "test_probe_example.test_walk_order_is_stable.json")
    assert snapshot.exists()
    assert '"visit_order": [\n    "a",' in snapshot.read_text(encoding="utf-8")


def test_failure_reads_like_a_story(project: pytest.Pytester) -> None:
    project.makepyfile(test_walk="""
        from inkworm.testing import assert_spurious_edges, assert_visit_order

        def test_edges(inkworm_simulate):
            trace = inkworm_simulate("graphs/bowtie.dot", mode="naive")
            assert_spurious_edges(trace, {("a", "d"), ("a", "e")})

        def test_order(inkworm_simulate):
            trace = inkworm_simulate("graphs/bowtie.dot", mode="fixed", edge_order="reverse")
            assert_visit_order(trace, "a b c d e f")
    """)
    result = project.runpytest("-q")
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines([
        "*unexpected spurious edge(s) a\u2013f*",
        "*expected: a\u2013d, a\u2013e*",
        "*> seq   32  f connect a*",
        "*visit order differs at visit 2: expected b, but the worm went to c*",
        "*actual:   a c b d f e*",
    ])


def test_snapshot_detects_a_change_and_updates(project: pytest.Pytester,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    project.makepyfile(test_snap="""
        import os

        def test_walk(inkworm_simulate, inkworm_snapshot):
            order = os.environ.get("ORDER", "dot")
            inkworm_snapshot(inkworm_simulate("graphs/bowtie.dot", edge_order=order), "bowtie")
    """)
    project.runpytest("-q", "--inkworm-update-snapshots").assert_outcomes(passed=1)
    stored = project.path / "__inkworm_snapshots__" / "test_snap.test_walk-bowtie.json"
    first = stored.read_text(encoding="utf-8")
    monkeypatch.setenv("ORDER", "reverse")
    changed = project.runpytest("-q")
    changed.assert_outcomes(failed=1)
    changed.stdout.fnmatch_lines(["*visit order was: a b c d e f*", "*now: a c b d f e*"])
    assert stored.read_text(encoding="utf-8") == first
    project.runpytest("-q", "--inkworm-update-snapshots").assert_outcomes(passed=1)
    assert stored.read_text(encoding="utf-8") != first
    project.runpytest("-q").assert_outcomes(passed=1)


def test_render_failures_writes_a_png(project: pytest.Pytester) -> None:
    project.makepyfile(test_fail="""
        from inkworm.testing import assert_no_spurious_edges

        def test_no_artefacts(inkworm_simulate):
            assert_no_spurious_edges(inkworm_simulate("graphs/bowtie.dot", mode="naive"))
    """)
    result = project.runpytest("-q", "--inkworm-render-failures")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*inkworm: the chip at seq 18 is rendered at*"])
    png = project.path / ".inkworm-failures" / "test_fail.test_no_artefacts.png"
    assert png.exists()
    from PIL import Image

    assert Image.open(png).size == (854, 480)


def test_record_fixture_skips_without_elixir(project: pytest.Pytester) -> None:
    project.makepyfile(test_rec="""
        def test_real(inkworm_record):
            inkworm_record("graphs/bowtie.dot")
    """)
    result = project.runpytest("-q", "-rs")
    if shutil.which("elixir"):
        result.assert_outcomes(passed=1)
    else:
        result.assert_outcomes(skipped=1)
        result.stdout.fnmatch_lines(["*needs a real BEAM*"])


def test_trace_equality_shows_the_first_difference(project: pytest.Pytester) -> None:
    project.makepyfile(test_eq="""
        def test_same(inkworm_simulate):
            assert inkworm_simulate("graphs/bowtie.dot", mode="naive") == \\
                inkworm_simulate("graphs/bowtie.dot", mode="fixed")
    """)
    result = project.runpytest("-q")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*first difference at event 18*", "*left:  d connect a*"])


def test_a_failing_assertion_shows_the_story_not_the_helper(project: pytest.Pytester) -> None:
    """Every assertion helper hides itself (__tracebackhide__): the failure shows the test's
    line and the story, never the helper's own source."""
    project.makepyfile(test_story="""
        from inkworm.testing import assert_visit_order

        def test_order(inkworm_simulate):
            trace = inkworm_simulate("graphs/bowtie.dot", mode="naive")
            assert_visit_order(trace, "a c b d e f")
    """)
    result = project.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    assert 'assert_visit_order(trace, "a c b d e f")' in out
    assert "raise TraceAssertionError" not in out and "__tracebackhide__" not in out
