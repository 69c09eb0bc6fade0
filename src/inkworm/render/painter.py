"""Plays timed steps onto a :class:`~inkworm.render.raster.Chip` (no manim here).

``Painter.advance(tau)`` brings the chip to timeline time ``tau``: steps that ended are drawn
in their final state once, the step under way is drawn at its progress. Time only moves
forward, so each step's pixels are touched while it runs and once more when it ends.
"""

from __future__ import annotations

from collections.abc import Sequence

from inkworm.render.raster import Chip
from inkworm.render.timeline import Step, StepKind

CALL_TRAVEL = 0.72
"""Share of a call step the ink front spends in the channel; the rest is the well's bloom."""
SKIP_REACH = 0.3
"""How far into a channel a skip's tint stays, after the pulse."""
SKIP_BOUNCE = 0.78
"""How far a skip's probe pulse runs into the channel before it bounces off the visited well."""
DUPLICATE_REACH = 0.45
"""How far into an inked well a duplicate probe's second ink blooms (from the side its call
comes in), so that both inks show."""


class Painter:
    """Draws steps on a chip as timeline time advances."""

    def __init__(self, chip: Chip, steps: Sequence[Step]) -> None:
        self.chip = chip
        self.steps = list(steps)
        self.relayed = {s.node for s in steps if s.kind is StepKind.FAULT and s.peer}
        """Nodes that recorded a failed call themselves: they relay a failure, not cause it."""
        self.done = 0
        """Steps before this index are drawn in their final state."""
        self.time = 0.0
        self.partly = -1
        """The step last drawn under way (the others before :attr:`done` never were)."""

    def advance(self, tau: float) -> None:
        """Draw everything up to timeline time ``tau`` (never goes back)."""
        tau = max(tau, self.time)
        self.time = tau
        while self.done < len(self.steps) and self.steps[self.done].end <= tau:
            self.draw(self.steps[self.done], 1.0, fresh=self.done != self.partly)
            self.done += 1
        if self.done < len(self.steps):
            step = self.steps[self.done]
            if step.start <= tau and step.duration > 0:
                self.draw(step, (tau - step.start) / step.duration)
                self.partly = self.done
        self.chip.composite()

    def finish(self) -> None:
        self.advance(self.steps[-1].end if self.steps else 0.0)

    def draw(self, step: Step, p: float, fresh: bool = False) -> None:
        """Draw ``step`` at progress ``p`` (0..1); ``p == 1`` is its lasting state. ``fresh``:
        the step was never drawn under way, so its transients (a pulse, a ring), which end at
        0, were never drawn and need no clearing (two of a skip's four layers; a 1,000-node
        run ends most of its 2,000 skips between two frames)."""
        if step.parts:  # concurrent fronts: each part as it would be drawn alone, together
            for part in step.parts:
                self.draw(part, p, fresh)
            return
        transient = not (fresh and p >= 1.0)
        chip, node, peer = self.chip, step.node, step.peer
        ink = "ghost" if step.orphan else "ink"  # an orphan's answer goes nowhere: faded
        if step.kind is StepKind.INJECT:
            chip.bloom(node, p, layer=ink)  # from the launcher's port
        elif step.kind is StepKind.CALL and peer is not None:
            travel = min(p / CALL_TRAVEL, 1.0)
            reach = travel if step.ok else min(travel, 0.55)
            filling = max(p - CALL_TRAVEL, 0.0) / (1 - CALL_TRAVEL) if step.ok else 0.0
            chip.look.call(chip, node, peer, reach, filling, ink, p < 1.0 and travel < 1.0)
            if step.ok and p > CALL_TRAVEL and step.duplicate:  # a second ink meets the first
                chip.bloom(peer, filling * DUPLICATE_REACH, inlet=node, layer="dup")
            elif step.ok and p > CALL_TRAVEL:  # the callee's well fills from the caller's side
                chip.bloom(peer, filling, inlet=node, layer=ink)
        elif step.kind is StepKind.SKIP and peer is not None:
            # out and back in the first 70% of the step, then the tint stays
            bounce = min(p / 0.7, 1.0)
            if transient:
                chip.pulse(node, peer, 0.0 if p >= 1.0 else
                           max(SKIP_BOUNCE * (1 - abs(2 * bounce - 1)),
                               0.02 if bounce < 1 else 0))
            chip.flow("tint", node, peer, SKIP_REACH * min(p / 0.6, 1.0), soft_px=4.0)
            if transient:  # the visited well flashes as the pulse bounces off it
                chip.ring(peer, 0.0 if p >= 1.0 else
                          _pulse(min(max((bounce - 0.3) / 0.4, 0), 1)), "pulse_rim")
        elif step.kind is StepKind.RETURN and peer is not None:
            chip.look.answer(chip, node, peer, p)  # a soft, diffuse front
        elif step.kind is StepKind.ETCH and peer is not None:
            if step.emphasis:  # both wells pulse while the channel is etched
                for well in (node, peer):
                    chip.ring(well, 0.0 if p >= 1.0 else _pulse((p * 3) % 1.0), "glow")
            chip.etch(node, peer, min(p / 0.55, 1.0))
            if p > 0.45:
                chip.flow("leak", node, peer, (p - 0.45) / 0.55, stream=0.6)
        elif step.kind is StepKind.ASK and transient:
            chip.ring(node, 0.0 if p >= 1.0 else _pulse(p))
        elif step.kind in (StepKind.FAULT, StepKind.CRASH) and p >= 0.3:
            self._fault(step)
        # RESULT: nothing new on the chip

    def _fault(self, step: Step) -> None:
        chip, node, peer = self.chip, step.node, step.peer
        if step.kind is StepKind.CRASH or peer is None:  # the launcher failed, or a node stopped
            chip.grey(node)
        elif chip.g.has_channel(node, peer):
            chip.clot(node, peer)
            if peer not in self.relayed:
                chip.grey(peer)


def _pulse(p: float) -> float:
    return float(max(0.0, 1.0 - abs(2 * p - 1)))
