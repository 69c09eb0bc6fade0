"""The worm model's constants: the reasons the BEAM gives, and virtual time (:class:`Latency`).

The bottom of :mod:`inkworm.worm`: every engine (sequential, with faults, parallel) reads them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields

from inkworm.errors import InputError

#: What the caller's erpc raises when a naive probe's output cannot reach the launcher's group
#: leader under ``dist_auto_connect never`` (observed on OTP 25 by the recorder).
NEVER_CONNECT_REASON = "{:exception, :terminated}"
#: What an erpc call to a node that is gone raises (the recorder's ``--kill``, OTP 25).
NOCONNECTION_REASON = "{:erpc, :noconnection}"
#: The ``nodedown_reason`` each peer of a stopped node records.
NODEDOWN_REASON = ":connection_closed"
#: What an erpc call raises when its timeout passes.
TIMEOUT_REASON = "{:erpc, :timeout}"
#: The clock of a walker that will never step again (a hung probe).
NEVER = 1 << 62


#: The longest step of the latency model: 1,000 s (a run's clock stays far inside ``t_us``'s
#: 64 bits, which the reader requires).
MAX_LATENCY_US = 10**9


@dataclass(frozen=True)
class Latency:
    """Virtual durations in microseconds; the defaults are of the order of a local cluster.

    ``call``: one erpc hop (request or reply); ``load``: shipping and loading the probe's object
    code (``:code.load_binary`` over erpc, round trip); ``start``: a probe's start-up (its
    ``IO.puts``); ``nodes``: ``:erlang.nodes()``; ``skip``: passing over a visited neighbour;
    ``connect``: an auto-connect handshake (naive mode).
    """

    call: int = 400
    load: int = 1200
    start: int = 60
    nodes: int = 15
    skip: int = 5
    connect: int = 900

    @classmethod
    def parse(cls, spec: str) -> Latency:
        """``"call=400,load=1200"`` → a :class:`Latency` with those fields changed."""
        names = {f.name for f in fields(cls)}
        values: dict[str, int] = {}
        for item in filter(None, (part.strip() for part in spec.split(","))):
            key, sep, raw = item.partition("=")
            if not sep or key not in names or not re.fullmatch(r"[0-9]{1,10}", raw) \
                    or int(raw) > MAX_LATENCY_US:
                raise InputError(f"bad latency '{item}': expected NAME=MICROSECONDS with NAME "
                                 f"in {', '.join(sorted(names))} and at most "
                                 f"{MAX_LATENCY_US:,} microseconds")
            values[key] = int(raw)
        return cls(**values)
