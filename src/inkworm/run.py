"""The run's vocabulary, declared once: how the worm is run on a cluster.

Every stage and the CLI take these enums (never bare strings): the simulator and the recorder
take a :class:`RunSpec`, a trace's header carries the same values, and the CLI's options are
``click.Choice`` over them.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass


class Mode(enum.Enum):
    """How the probe treats its group leader (see the seed's gotcha)."""

    NAIVE = "naive"
    """The seed's probe as first written: remote calls inherit the launcher's group leader."""
    FIXED = "fixed"
    """Each probe first resets its group leader to the local ``init`` process."""
    IGNORE_LAUNCHER = "ignore-launcher"
    """The seed's footnote: the naive probe (so each probed node still connects to the
    launcher, for good), whose map ignores every mention of the launcher but in the
    launcher's own ``nodes()``: the map comes out right while the connections happen."""

    @property
    def prints_to_launcher(self) -> bool:
        """Whether a probe's output travels to the launcher's group leader (naive probes)."""
        return self is not Mode.FIXED

    def reported(self, node: str, neighbors: Sequence[str], launch: str) -> tuple[str, ...]:
        """The map's row for ``node`` whose ``nodes()`` returned ``neighbors``."""
        if self is Mode.IGNORE_LAUNCHER and node != launch:
            return tuple(n for n in neighbors if n != launch)
        return tuple(neighbors)


class EdgeOrder(enum.Enum):
    """The order in which the DOT edges are connected when the cluster is built."""

    DOT = "dot"
    REVERSE = "reverse"


class AutoConnect(enum.Enum):
    """``-kernel dist_auto_connect``: ``always`` (BEAM default) or ``never``."""

    ALWAYS = "always"
    NEVER = "never"


class Strategy(enum.Enum):
    """How a probe walks its neighbours."""

    SEQUENTIAL = "sequential"
    """The seed's depth-first fold: one neighbour after another."""
    PARALLEL = "parallel"
    """The seed's ``:erpc.multicall`` idea: every unvisited neighbour at once, each sent the
    visited set at fan-out; a node two branches reach at once is probed twice."""

    @property
    def probes(self) -> str:
        """How a title names the strategy's probe."""
        return {"sequential": "probe", "parallel": "probes in parallel"}[self.value]

    @property
    def tree(self) -> str:
        """What the calls of a run form (a summary's line)."""
        return {"sequential": "dfs tree", "parallel": "call tree"}[self.value]


@dataclass(frozen=True)
class RunSpec:
    """How the worm is run on a topology: where, which probe, which cluster settings."""

    launch: str | None = None
    """The launch node (``None``: the first node of the DOT file)."""
    mode: Mode = Mode.NAIVE
    edge_order: EdgeOrder = EdgeOrder.DOT
    auto_connect: AutoConnect = AutoConnect.ALWAYS
    strategy: Strategy = Strategy.SEQUENTIAL
    collect: tuple[str, ...] = ()
    """Collectors run on every probed node (``--collect``; :data:`inkworm.collect.BUILTINS`)."""


@dataclass(frozen=True)
class Fault:
    """Fault injection: stop ``victim`` right after ``after``'s probe starts."""

    victim: str
    after: str


@dataclass(frozen=True)
class Faults:
    """What goes wrong in a simulated run: the recorder's fault options, in the model.

    ``kill``: stop ``kill.victim`` right after ``kill.after``'s probe starts (``--kill`` and
    ``--after``); ``tolerant``: a failed call is recorded as ``error`` and the caller goes on
    with its next neighbour (a partial map) instead of the seed's crash (``--tolerant``);
    ``timeout_ms``: every erpc call's timeout (``--timeout``; ``None``: ``infinity``, the
    seed's); ``hang``: a node whose probe stalls for good right after it starts (``--hang``).
    """

    kill: Fault | None = None
    tolerant: bool = False
    timeout_ms: int | None = None
    hang: str | None = None
