"""Real names read (issue 22): a picture names each node by its DOT label, else by its name
less the domain every host shares; the panel never leaves the frame and its text never falls
under 14 px at 1080p."""

from __future__ import annotations

import pytest

from conftest import GRAPHS
from inkworm import Mode, load_dot, parse_dot, simulate
from inkworm.names import common_domain, shown, shown_names
from inkworm.render.board import MIN_TEXT_1080, Board
from inkworm.render.options import RenderOptions
from inkworm.render.timeline import steps_from_trace, time_steps
from inkworm.run import RunSpec
from inkworm.runs import load_run

HOSTS = GRAPHS / "prod_hosts.dot"


@pytest.mark.parametrize(("nodes", "domain"), [
    (("api@web-01.prod.example.com", "db@db-01.prod.example.com"), "prod.example.com"),
    (("a@x.example.com", "b@y.example.org"), ""),          # nothing shared
    (("a@web.example.com", "b@web.example.com"), "example.com"),  # a host keeps its own label
    (("a@10.0.0.5", "b@10.0.0.6"), ""),                    # an address keeps its host
    (("a@host", "b@host"), ""),                             # short names: nothing to drop
    (("a", "b@x.example.com"), ""),
    (("only@one.example.com",), ""),
])
def test_the_shared_domain(nodes: tuple[str, ...], domain: str) -> None:
    assert common_domain(nodes) == domain


def test_names_lose_the_shared_domain_and_keep_what_tells_them_apart() -> None:
    how = shown_names(load_dot(HOSTS))
    assert how.domain == "prod.example.com"
    assert how.names["api@web-01.prod.example.com"] == "api@web-01"
    assert len(set(how.names.values())) == len(how.names)


def test_a_label_is_the_name_shown_unless_it_is_ambiguous() -> None:
    topology = parse_dot('graph G { a [label="Alpha"]; b [label="Alpha"]; c [label="C"];'
                         ' d [label="a"]; a -- b -- c -- d; }')
    names = shown_names(topology).names
    assert names["c"] == "C"
    assert names["a"] == "a" and names["b"] == "b"  # two nodes labelled alike: their names
    assert names["d"] == "d"  # labelled as another node is named: its name


def test_a_picture_shows_the_short_names_and_titles_the_domain() -> None:
    topology, trace = load_run(str(HOSTS), RunSpec(mode=Mode.NAIVE))
    assert "api@web-01" in topology.nodes and trace.header.launch == "api@web-01"
    assert trace.header.graph == "prod_hosts.dot  \u00b7  *.prod.example.com"
    assert all(e.node in topology.nodes for e in trace.events)
    plain = load_dot(HOSTS)
    same, run, how = shown(plain, simulate(plain, RunSpec()))  # the library's own: full names
    assert how.domain and run.header.launch == "api@web-01"
    assert set(same.nodes) == set(how.names.values())


@pytest.mark.parametrize(("width", "height"), [(854, 480), (1920, 1080)])
def test_the_panel_stays_in_the_frame_and_readable(width: int, height: int) -> None:
    long_names = parse_dot("graph G {\n" + "".join(
        f'  "svc{i}@host-{i:02d}.{"eu" if i % 2 else "us"}.example.net" -- '
        f'"svc{i + 1}@host-{i + 1:02d}.{"us" if i % 2 else "eu"}.example.net";\n'
        for i in range(14)) + "}\n", "long.dot")
    for topology in (load_dot(HOSTS), long_names):
        trace = simulate(topology, RunSpec(mode=Mode.NAIVE))
        board = Board(trace, topology, time_steps(steps_from_trace(trace)), RenderOptions(),
                      width, height)
        for step in board.steps[:: max(1, len(board.steps) // 12)]:
            board.advance(step.end)
            assert board.panel_extent[2] <= width and board.panel_extent[3] <= height
            assert board.panel_size >= round(MIN_TEXT_1080 * height / 1080)
        board.finish()
        assert board.panel_extent[2] <= width, topology.source
        assert board.panel_size >= round(MIN_TEXT_1080 * height / 1080)


@pytest.mark.parametrize("compare", [False, True])
def test_captions_panels_and_legend_stay_in_the_action_safe_area(compare: bool) -> None:
    """Inside the middle 90 % of a 1080p frame, where no player's controls lie: two-line
    captions sat in its bottom 2 %, the panel and the legend ran to its right edge."""
    from inkworm.render.compare import PairBoard
    from inkworm.render.options import SAFE
    from inkworm.render.pair import label_runs

    width, height = 1920, 1080
    topology, trace = load_run(str(HOSTS), RunSpec(mode=Mode.NAIVE))
    if compare:
        _, fixed = load_run(str(HOSTS), RunSpec(mode=Mode.FIXED))
        a, b = label_runs((topology, trace), (topology, fixed))
        pair = PairBoard(a, b, time_steps(steps_from_trace(a.trace)),
                         time_steps(steps_from_trace(b.trace)), RenderOptions(), width, height)
        boards = list(pair.boards)
        steps = pair.steps
    else:
        boards = [Board(trace, topology, time_steps(steps_from_trace(trace)), RenderOptions(),
                        width, height)]
        steps = boards[0].steps
    for step in steps[:: max(1, len(steps) // 20)]:
        for board in boards:
            board.advance(step.start + 1e-6)
            _, _, x1, y1 = board._caption_box or (0, 0, 0, 0)
            right = board.f.width * SAFE if not compare else board.f.width
            assert y1 <= SAFE * height + 1 and x1 <= right + 1, step.caption
            assert board.panel_extent[2] <= right + 1 and board.panel_extent[3] <= SAFE * height
    for board in boards:
        legend = board.labels[1:]  # (the first is the title)
        assert legend and max(box[2] for box in legend) <= (
            SAFE * board.f.width if not compare else 0.97 * board.f.width) + 1


def test_the_map_panel_shows_names_whole_and_tags_in_one_size() -> None:
    """Text shrinks (to its floor) before a name is cut ('a…: … +1' read like nothing), and
    where every tag fits at one size, all tags have it (mixed sizes read as a tag cloud)."""
    from inkworm.render.panel import names_fit

    topology, trace = load_run(str(HOSTS), RunSpec(mode=Mode.NAIVE))
    board = Board(trace, topology, time_steps(steps_from_trace(trace)), RenderOptions(),
                  1920, 1080)
    board.finish()
    assert trace.outcome is not None and trace.outcome.kind.value == "result"
    assert names_fit(trace.outcome.map, board.panel_size, board.f.panel[2])  # type: ignore[attr-defined]
    assert board.panel_size >= MIN_TEXT_1080
    assert board.tagging.all_tagged
    assert len({board.tagging.sizes[size] for _, size in board.tagging.tags.values()}) == 1


def test_a_map_row_of_name_at_address_nodes_names_its_peers() -> None:
    """The bowtie over six loopback hosts (an attached run's names): ``a@127.0.0.2: b c``,
    where each row read ``a@127.0.0.2: … +2`` (no peer's full name fitted beside it)."""
    from inkworm.names import peer_names
    from inkworm.render import palette as P
    from inkworm.render.hud import font
    from inkworm.render.panel import _map_line

    hosts = {n: f"{n}@127.0.0.{i + 2}" for i, n in enumerate("abcdef")}
    bowtie = load_dot(GRAPHS / "bowtie.dot")
    face = font(22)
    shown_as = peer_names(list(hosts.values()))
    for node, neighbours in bowtie.peers().items():
        peers = [hosts[p] for p in neighbours]
        line = _map_line(hosts[node], peers, lambda a, b: True, P.THEMES["dark"], 330,
                         lambda text, room: face.getlength(text) <= room, False, shown_as)
        assert "".join(text for text, _ in line) == \
            f"{hosts[node]}: " + " ".join(neighbours)
    assert peer_names(["api@web-01", "api@web-02"]) == \
        {"api@web-01": "api@web-01", "api@web-02": "api@web-02"}  # not unique: kept whole


def test_a_map_row_of_long_names_that_are_not_unique_wraps_under_its_node() -> None:
    """``api@web-01`` and ``api@web-02`` cannot lose their hosts: a row too long for its room
    goes on under its node, indented, every peer whole and in order, every line in the room;
    a name wider than the room on its own line is no wrap (the row is cut as before)."""
    from inkworm.render import palette as P
    from inkworm.render.hud import font
    from inkworm.render.panel import _wrapped_line

    face = font(22)

    def fits(text: str, room: float) -> bool:
        return face.getlength(text) <= room

    peers = ["api@web-02", "db@db-01", "db@db-02", "cache@cache-01"]
    lines = _wrapped_line("api@web-01", peers, lambda a, b: b != "db@db-02",
                          P.THEMES["dark"], 260, fits, {})
    assert lines is not None and len(lines) > 1
    texts = ["".join(text for text, _ in line) for line in lines]
    assert texts[0].startswith("api@web-01:") and all(t.startswith("   ") for t in texts[1:])
    assert " ".join(texts).split() == ["api@web-01:", *peers]
    assert all(fits(t, 260) for t in texts)
    warned = [text.strip() for line in lines for text, colour in line
              if colour == P.THEMES["dark"].warn]
    assert warned == ["db@db-02"]  # a spurious peer keeps its colour on any line
    assert _wrapped_line("api@web-01", ["a-very-long-name@a-very-long-host"], lambda a, b: True,
                         P.THEMES["dark"], 120, fits, {}) is None
