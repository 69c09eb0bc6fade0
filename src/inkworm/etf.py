"""Erlang's external term format, write side only: how the recorder hands its spec to Elixir,
and how big a term the worm ships is (:mod:`inkworm.costs`).

The spec travels as data, never as text lines built from names, so no node name, file name or
path can add a directive: the driver reads it with ``:erlang.binary_to_term(bin, [:safe])``.
Only what a spec needs is encoded: ``None``/``True``/``False`` as the atoms ``nil``/``true``/
``false``, :class:`Atom` as an atom, integers, ``str`` as UTF-8 binaries, lists and tuples as
lists, dicts as maps. The bytes are those of ``term_to_binary/1`` on OTP 26 and later (atoms
as UTF-8, small integers in one byte).
"""

from __future__ import annotations

import struct
from collections.abc import Mapping, Sequence

Term = None | bool | int | str | Sequence["Term"] | Mapping[str, "Term"]

_VERSION = b"\x83"
_ATOMS = {None: b"nil", True: b"true", False: b"false"}


class Atom(str):
    """A string encoded as an atom (a node name, a module, a struct key)."""

    __slots__ = ()


def encode(term: Term) -> bytes:
    """``term`` as an external-term-format binary (what ``term_to_binary/1`` would give)."""
    out = bytearray(_VERSION)
    _put(out, term)
    return bytes(out)


def _put(out: bytearray, term: Term) -> None:
    if term is None or isinstance(term, bool | Atom):
        atom = term.encode("utf-8") if isinstance(term, Atom) else _ATOMS[term]
        if len(atom) < 256:
            out += b"w" + struct.pack(">B", len(atom)) + atom  # SMALL_ATOM_UTF8_EXT
        else:
            out += b"v" + struct.pack(">H", len(atom)) + atom  # ATOM_UTF8_EXT
    elif isinstance(term, int):
        if 0 <= term < 256:
            out += b"a" + struct.pack(">B", term)  # SMALL_INTEGER_EXT
        elif -(2**31) <= term < 2**31:
            out += b"b" + struct.pack(">i", term)  # INTEGER_EXT
        else:
            magnitude = abs(term).to_bytes((abs(term).bit_length() + 7) // 8, "little")
            if len(magnitude) > 255:
                raise ValueError("integer too large for the spec")
            out += b"n" + struct.pack(">BB", len(magnitude), term < 0) + magnitude
    elif isinstance(term, str):
        data = term.encode("utf-8")
        out += b"m" + struct.pack(">I", len(data)) + data  # BINARY_EXT
    elif isinstance(term, Mapping):
        out += b"t" + struct.pack(">I", len(term))  # MAP_EXT
        for key, value in term.items():
            _put(out, key)
            _put(out, value)
    elif isinstance(term, Sequence):
        if not term:
            out += b"j"  # NIL_EXT
            return
        out += b"l" + struct.pack(">I", len(term))  # LIST_EXT, proper: ends in NIL
        for item in term:
            _put(out, item)
        out += b"j"
    else:
        raise TypeError(f"cannot encode {type(term).__name__} in a spec")
