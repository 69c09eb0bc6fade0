"""The names a viewer reads: each node's DOT ``label``, else its name less the domain that
every node's host shares.

A real cluster's names are long (``api@web-01.prod.example.com``) and mostly the same: the
domain repeats in every tag, panel line and caption, and pushes the part that tells nodes apart
off the frame. The picture shows ``api@web-01`` and names the domain once, in its title. The
trace and every check keep the full names; only what is drawn (video, stills, decks, their
captions and subtitles) shows the short ones. A name is never shortened into another's, an IP
address keeps its host, and a label that is empty, holds a line break or is another node's
label is not used.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence

from inkworm.topology import Topology
from inkworm.trace import Trace
from inkworm.views import relabelled, trace_nodes

__all__ = ["LINE_BREAK", "Shown", "shown", "shown_names"]

_IPV4 = re.compile(r"^\d{1,3}(\.\d{1,3}){3}$")
LINE_BREAK = re.compile("[\n\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")
"""What breaks a line (:meth:`str.splitlines`' breaks): a name or label drawn on one line
holds none."""


@dataclasses.dataclass(frozen=True)
class Shown:
    """What a picture calls each node, and the domain it left out (``""``: none)."""

    names: Mapping[str, str]
    domain: str = ""


def common_domain(nodes: tuple[str, ...]) -> str:
    """The dot-separated suffix every node's host shares, leaving each host one label of its
    own at least (``prod.example.com`` for ``a@web-01.prod.example.com`` and
    ``b@db-01.prod.example.com``); ``""`` when a node has no ``@host.domain``, a host is an IP
    address, or there are fewer than two nodes."""
    if len(nodes) < 2:
        return ""
    hosts = []
    for node in nodes:
        _, at, host = node.partition("@")
        if not at or "." not in host or _IPV4.match(host):
            return ""
        hosts.append(host.split("."))
    shared: list[str] = []
    for labels in zip(*(reversed(h) for h in hosts), strict=False):
        if len(set(labels)) != 1:
            break
        shared.append(labels[0])
    shared = shared[:min(len(h) for h in hosts) - 1]  # every host keeps a label of its own
    return ".".join(reversed(shared))


def shown_names(topology: Topology) -> Shown:
    """Each node's name as drawn: its DOT label, else its name less :func:`common_domain`;
    the full name wherever either would be ambiguous."""
    domain = common_domain(topology.nodes)
    short = {n: n[:len(n) - len(domain) - 1] if domain else n for n in topology.nodes}
    if len(set(short.values())) != len(short):
        domain, short = "", {n: n for n in topology.nodes}
    labels = {n: topology.node_attrs.get(n, {}).get("label", "").strip() for n in topology.nodes}
    taken = list(short.values()) + [label for label in labels.values() if label]
    names = {n: label if label and not LINE_BREAK.search(label) and taken.count(label) == 1
             else short[n] for n, label in labels.items()}
    if len(set(names.values())) != len(names):  # a label that is another node's short name
        names = short
    return Shown(names, domain)


def shown(topology: Topology, trace: Trace) -> tuple[Topology, Trace, Shown]:
    """The topology and trace as a picture names them (:func:`shown_names`); the domain left
    out is named in the trace header's ``graph``, which titles the picture."""
    how = shown_names(topology)
    if all(k == v for k, v in how.names.items()):
        return topology, trace, how
    names = how.names
    edges = tuple((names[u], names[v]) for u, v in topology.edges)
    renamed = dataclasses.replace(
        topology, nodes=tuple(names[n] for n in topology.nodes), edges=edges,
        node_attrs={names[n]: a for n, a in topology.node_attrs.items() if n in names},
        edge_attrs={(names[u], names[v]): a for (u, v), a in topology.edge_attrs.items()
                    if u in names and v in names},
        subgraph_of={names[n]: s for n, s in topology.subgraph_of.items() if n in names})
    run = relabelled(trace, {n: names.get(n, n) for n in trace_nodes(trace)})
    if how.domain:
        graph = run.header.graph or "cluster"
        run = Trace(dataclasses.replace(run.header, graph=f"{graph}  \u00b7  *.{how.domain}"),
                    run.events, run.path)
    return renamed, run, how


def peer_names(nodes: Sequence[str]) -> Mapping[str, str]:
    """How a map row names its peers (the panel's, the viewer's): ``name@host`` nodes whose
    names are unique without their hosts (``a@127.0.0.2`` … ``f@127.0.0.7``) by the name
    alone, as a row has room for; each row's own node keeps its full name."""
    short = {n: n.partition("@")[0] for n in nodes}
    if all("@" in n for n in nodes) and len(set(short.values())) == len(short):
        return short
    return {n: n for n in nodes}
