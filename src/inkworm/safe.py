"""Text from an input, made data for the place it lands in: one helper per context.

Node names, labels, graph names, header fields and collector values come from files that may
be someone else's (a colleague's DOT file, an edited recording), and a quoted DOT name may hold
any character. Every piece of such text that inkworm writes into an HTML file, a WebVTT file
or a script goes through the helper of its context:

- :func:`html_text`: HTML text and attribute values (``&``, ``<``, ``>`` and both quotes);
- :func:`script_json`: a value as JSON inside a ``<script>`` element (``<``, ``>``, ``&`` and
  U+2028/2029 as ``\\u`` escapes, so neither ``</script>`` nor ``<!--`` can appear);
- :func:`css_string`: a quoted CSS string (every character that is not a letter, a digit or
  a space as a CSS escape);
- :func:`vtt_text`: WebVTT cue text (``&``, ``<``, ``>``: no cue can be ended, tagged or
  styled by a name);
- :func:`mov_text_text`: an MP4 subtitle sample (plain text, which FFmpeg-based players read
  as ASS: no backslash starts an ASS escape such as ``\\N``, no brace an override block).

:func:`with_csp` gives an HTML document a Content-Security-Policy that runs its own inline
scripts alone (by hash: neither an injected ``<script>`` nor an inline event handler runs)
and reaches no network origin, so a spot that escaping missed can neither run nor send.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
from collections.abc import Iterable

__all__ = ["content_security_policy", "css_string", "html_text", "inline_scripts",
           "mov_text_text", "script_json", "vtt_text", "with_csp"]


def html_text(text: str) -> str:
    """``text`` as HTML text or a quoted attribute's value: shown as written."""
    return html.escape(text, quote=True)


_SCRIPT_UNSAFE = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028",
                  "\u2029": "\\u2029"}


def script_json(value: object) -> str:
    """``value`` as JSON that may stand inside a ``<script>`` element: the same value to
    ``JSON.parse`` and to JavaScript, and no sequence the HTML parser acts on."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return re.sub("[<>&\u2028\u2029]", lambda m: _SCRIPT_UNSAFE[m.group()], text)


def css_string(text: str) -> str:
    """``text`` as a double-quoted CSS string (for ``content:`` and the like)."""
    return '"' + "".join(c if (c.isalnum() and c.isascii()) or c == " " else f"\\{ord(c):x} "
                         for c in text) + '"'


def vtt_text(text: str) -> str:
    """``text`` as WebVTT cue text: a player shows it as written (no tag, no entity, no
    ``-->``)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


WORD_JOINER = "\u2060"


_ASS_BRACES = str.maketrans({"{": "\uff5b", "}": "\uff5d"})


def mov_text_text(text: str) -> str:
    """``text`` as a mov_text sample, for FFmpeg's decoder, which hands the text on as ASS:
    every backslash is followed by an invisible word joiner (no line break or hard space is
    made of ``\\N``, ``\\n``, ``\\h`` in a name), and braces are the fullwidth ones (ASS
    hides ``{...}`` as an override block, and has no escape for a brace). The WebVTT file
    beside the video keeps every character as written."""
    return text.replace("\\", "\\" + WORD_JOINER).translate(_ASS_BRACES)


_SCRIPT = re.compile(r"<script(?P<attrs>(?:\s[^>]*)?)>(?P<body>.*?)</script", re.S | re.I)


def inline_scripts(document: str) -> list[str]:
    """The text of every inline ``<script>`` element of ``document``, as the HTML parser
    reads it (a script element's text ends at the first ``</script``)."""
    return [m.group("body") for m in _SCRIPT.finditer(document)
            if "src=" not in m.group("attrs").lower()]


def _sha256(script: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"


def content_security_policy(scripts: Iterable[str]) -> str:
    """A policy that runs these inline scripts only (by hash: no other inline script, no
    inline event handler, no ``eval``), loads nothing from any network origin (media, images
    and fonts from ``data:`` URIs only), sends nothing (no fetch, no form) and frames only the
    file itself (reveal.js's speaker view)."""
    hashes = " ".join(sorted({_sha256(s) for s in scripts}))
    return ("default-src 'none'; "
            f"script-src {hashes}; "
            "style-src 'unsafe-inline'; "
            "img-src data:; media-src data: blob:; font-src data:; "
            "frame-src 'self'; connect-src 'none'; form-action 'none'; base-uri 'none'")


def with_csp(document: str, extra_scripts: Iterable[str] = ()) -> str:
    """``document`` with a Content-Security-Policy ``<meta>`` first in its ``<head>``,
    allowing its own inline scripts and ``extra_scripts`` (scripts it writes into windows it
    opens, which inherit the policy)."""
    policy = content_security_policy([*inline_scripts(document), *extra_scripts])
    meta = f'<meta http-equiv="Content-Security-Policy" content="{html_text(policy)}">'
    head = re.search(r"<head(\s[^>]*)?>", document, re.I)
    if head is None:
        raise ValueError("an HTML document without <head>")
    return document[:head.end()] + meta + document[head.end():]
