"""A run for the tools distributed-systems people already use (``inkworm export``).

- **ShiViz** (space-time diagrams from logs with vector clocks): one line an event,
  ``HOST "EVENT" {CLOCK}``, the clock a JSON object of host to count, parsed by
  :data:`SHIVIZ_REGEX`. Each node is a host; a call is a message from the caller to the
  callee's probe start, an answer one from the callee's probe end to the caller's return, so
  the clocks order the run as it happened. A host name ShiViz's regex could not read (a space,
  a quote) is written percent-encoded.
- **Perfetto / Chrome trace events** (``traceEvents`` JSON, ``ui.perfetto.dev`` and
  ``chrome://tracing``): a track a node (a thread of one process, named), each probe a span
  from its start to its end (or to the run's last event, when it never ends), calls and
  answers as flow arrows between the tracks, every other event an instant on its node's track.

Both mark the connections the measurement made: ShiViz's event text starts ``MEASUREMENT``,
Perfetto's instants are in the ``measurement`` category. Times are the trace's ``t_us``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from inkworm.trace import Call, Connect, Event, ProbeEnd, ProbeStart, Return, Trace
from inkworm.views import describe

SHIVIZ_REGEX = r'(?<host>\S+) "(?<event>.*)" (?<clock>\{.*\})'
"""What to paste into ShiViz's "log parsing regular expression" field (JavaScript syntax)."""

_UNSAFE_HOST = re.compile(r'[\s"%\\{}\x00-\x1f\x7f]')


def shiviz_host(node: str) -> str:
    """``node`` as a ShiViz host: percent-encoded where the regex (or JSON) would not read it."""
    return _UNSAFE_HOST.sub(lambda m: "".join(f"%{b:02X}" for b in m.group().encode()), node)


def _text(e: Event, made: bool) -> str:
    """An event's text on one line, no double quote (the regex's delimiter)."""
    text = describe(e).replace('"', "'").replace("\n", " ").replace("\r", " ")
    return f"MEASUREMENT {text}" if made else text


def _key(e: Event, node: str) -> str:
    """The probe an event belongs to: its path (a parallel run) or its node."""
    return e.probe if e.probe is not None else node


def _made(trace: Trace) -> Iterator[tuple[Event, bool]]:
    """Each event, and whether it is a connection the run made (a ``connect`` is one: the
    cluster's own were there before the run; each side reports it, both are marked)."""
    for e in trace.events:
        yield e, isinstance(e, Connect)


def shiviz_lines(trace: Trace) -> Iterator[str]:
    """The run as ShiViz log lines, one an event (:data:`SHIVIZ_REGEX` parses each)."""
    clocks: dict[str, dict[str, int]] = {}
    sent: dict[str, dict[str, int]] = {}  # a call's clock, by the probe it starts
    ended: dict[str, dict[str, int]] = {}  # a probe end's clock, by the probe
    for e, made in _made(trace):
        host = shiviz_host(e.node)
        clock = clocks.setdefault(host, {})
        heard = None
        if isinstance(e, ProbeStart):
            heard = sent.pop(_key(e, e.node), None)
        elif isinstance(e, Return):
            heard = ended.pop(e.child if e.child is not None else e.callee, None)
        if heard is not None:
            for other, count in heard.items():
                clock[other] = max(clock.get(other, 0), count)
        clock[host] = clock.get(host, 0) + 1
        if isinstance(e, Call):
            sent[e.child if e.child is not None else e.to] = dict(clock)
        elif isinstance(e, ProbeEnd):
            ended[_key(e, e.node)] = dict(clock)
        yield f'{host} "{_text(e, made)}" {json.dumps(clock, ensure_ascii=False)}'


def perfetto(trace: Trace) -> dict[str, Any]:
    """The run as Chrome trace events (a ``traceEvents`` object Perfetto loads)."""
    nodes: dict[str, int] = {}
    events: list[dict[str, Any]] = []
    starts: dict[str, tuple[int, int, str]] = {}  # probe -> (tid, start, node)
    flows = 0
    pending: dict[str, int] = {}  # a flow's id, by the probe (call) or probe (answer) it meets
    last = 0

    def tid(node: str) -> int:
        if node not in nodes:
            nodes[node] = len(nodes) + 1
        return nodes[node]

    for e, made in _made(trace):
        last = max(last, e.t_us)
        track = tid(e.node)
        base = {"pid": 1, "tid": track, "ts": e.t_us}
        if isinstance(e, ProbeStart):
            key = _key(e, e.node)
            starts[key] = (track, e.t_us, e.node)
            if key in pending:
                events.append({**base, "ph": "f", "bp": "e", "id": pending.pop(key),
                               "name": "call", "cat": "call"})
        elif isinstance(e, ProbeEnd):
            key = _key(e, e.node)
            if key in starts:
                _, start, node = starts.pop(key)
                events.append({**base, "ph": "X", "ts": start, "dur": e.t_us - start,
                               "name": f"probe on {node}", "cat": "probe",
                               "args": {"probe": key}})
            flows += 1
            pending["answer " + key] = flows
            events.append({**base, "ph": "s", "id": flows, "name": "answer", "cat": "answer"})
        elif isinstance(e, Call):
            flows += 1
            pending[e.child if e.child is not None else e.to] = flows
            events.append({**base, "ph": "s", "id": flows, "name": "call", "cat": "call"})
        elif isinstance(e, Return):
            key = "answer " + (e.child if e.child is not None else e.callee)
            if key in pending:
                events.append({**base, "ph": "f", "bp": "e", "id": pending.pop(key),
                               "name": "answer", "cat": "answer"})
        if not isinstance(e, ProbeStart | ProbeEnd):
            events.append({**base, "ph": "i", "s": "t", "name": describe(e),
                           "cat": "measurement" if made else e.kind.value,
                           "args": {"seq": e.seq}})
    for key, (track, start, node) in starts.items():  # probes that never ended
        events.append({"pid": 1, "tid": track, "ph": "X", "ts": start, "dur": last - start,
                       "name": f"probe on {node} (never ended)", "cat": "probe",
                       "args": {"probe": key}})
    names = [{"pid": 1, "tid": t, "ph": "M", "name": "thread_name", "args": {"name": node}}
             for node, t in nodes.items()]
    title = {"pid": 1, "ph": "M", "name": "process_name",
             "args": {"name": f"inkworm: {trace.header.graph or 'cluster'}"}}
    return {"traceEvents": [title, *names, *events], "displayTimeUnit": "ms",
            "otherData": {"launch": trace.header.launch, "mode": trace.header.mode.value,
                          "source": trace.header.source.value}}
