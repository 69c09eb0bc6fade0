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

from inkworm.trace import Connect, Event, ProbeEnd, ProbeStart, Trace
from inkworm.views import describe, messages

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


def shiviz_lines(trace: Trace) -> Iterator[str]:
    """The run as ShiViz log lines, one an event (:data:`SHIVIZ_REGEX` parses each)."""
    heard = {receive: send for send, receive, _ in messages(trace.events)}
    sends = set(heard.values())
    clocks: dict[str, dict[str, int]] = {}
    sent: dict[int, dict[str, int]] = {}  # a send's clock, by its event's index
    for i, e in enumerate(trace.events):
        host = shiviz_host(e.node)
        clock = clocks.setdefault(host, {})
        if i in heard:
            for other, count in sent.pop(heard[i]).items():
                clock[other] = max(clock.get(other, 0), count)
        clock[host] = clock.get(host, 0) + 1
        if i in sends:
            sent[i] = dict(clock)
        made = isinstance(e, Connect)  # (the cluster's own links were there before the run)
        yield f'{host} "{_text(e, made)}" {json.dumps(clock, ensure_ascii=False)}'


def perfetto(trace: Trace) -> dict[str, Any]:
    """The run as Chrome trace events (a ``traceEvents`` object Perfetto loads)."""
    nodes: dict[str, int] = {}
    events: list[dict[str, Any]] = []
    starts: dict[str, tuple[int, int, str]] = {}  # probe -> (tid, start, node)
    flows: dict[int, list[tuple[str, int, str]]] = {}  # event index -> (phase, id, kind)
    for k, (send, receive, kind) in enumerate(messages(trace.events), start=1):
        name = "call" if kind == "call" else "answer"
        flows.setdefault(send, []).append(("s", k, name))
        flows.setdefault(receive, []).append(("f", k, name))
    last = 0

    def tid(node: str) -> int:
        if node not in nodes:
            nodes[node] = len(nodes) + 1
        return nodes[node]

    for i, e in enumerate(trace.events):
        last = max(last, e.t_us)
        track = tid(e.node)
        base = {"pid": 1, "tid": track, "ts": e.t_us}
        key = e.probe or e.node
        if isinstance(e, ProbeStart):
            starts[key] = (track, e.t_us, e.node)
        elif isinstance(e, ProbeEnd) and key in starts:
            _, start, node = starts.pop(key)
            events.append({**base, "ph": "X", "ts": start, "dur": e.t_us - start,
                           "name": f"probe on {node}", "cat": "probe", "args": {"probe": key}})
        for phase, k, name in flows.get(i, ()):
            events.append({**base, "ph": phase, "id": k, "name": name, "cat": name,
                           **({"bp": "e"} if phase == "f" else {})})
        if not isinstance(e, ProbeStart | ProbeEnd):
            events.append({**base, "ph": "i", "s": "t", "name": describe(e),
                           "cat": "measurement" if isinstance(e, Connect) else e.kind.value,
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
