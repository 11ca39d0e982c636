"""Text the report shows, rendered literally: the one place that turns values into Markdown.

A config value (scope regex, path, title) must reach the reader exactly as it was written:
`{re}.*BertAttention.*` in Markdown is emphasis around `BertAttention`, so every piece of text the
report renders passes through `to_markdown` here, which escapes it. Three kinds of text:

- a plain `str`: prose or a number; Markdown's inline punctuation is backslash-escaped;
- `Code(value)`: a value shown verbatim, as a code span (the backtick fence is longer than any
  run of backticks inside);
- `Strong(text)`: emphasised prose (the headline's numbers);
- `Link(text, target)`: a file name shown verbatim, linked to a relative URL;
- `Spans(piece, piece, ...)`: a line mixing the three.

All three classes are `str` subclasses whose string value is the plain text, so the terminal
(`ov-movement report`) and `tables.json` show the same characters without any Markdown.
"""

from __future__ import annotations

import re

# Characters that start inline Markdown (emphasis, code, links, images, HTML, entities, strike-
# through, headings' closing sequence); CommonMark lets a backslash escape any of them. A table's
# `|` is escaped by the table writer (tables.to_markdown), also inside code spans.
_INLINE = re.compile(r"([\\`*_\[\]<>&~!#])")
_BACKTICKS = re.compile(r"`+")
_ANGLE = re.compile(r"[<>\\\n ]")
_ASCII_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")


class Code(str):
    """A value shown verbatim: a code span in Markdown, plain text elsewhere."""

    __slots__ = ()


class Strong(str):
    """Prose in bold in Markdown, plain text elsewhere."""

    __slots__ = ()


class Link(str):
    """A file name shown verbatim and linked to `target` (a relative URL) in Markdown."""

    target: str

    def __new__(cls, text: str, target: str) -> Link:
        link = super().__new__(cls, text)
        link.target = target
        return link

    def __reduce__(self):
        return (Link, (str(self), self.target))


class Spans(str):
    """Plain text, `Code` and `Strong` pieces in one line; its string value is the plain text."""

    pieces: tuple[str, ...]

    def __new__(cls, *pieces: str) -> Spans:
        flat: list[str] = []
        for piece in pieces:
            flat.extend(piece.pieces if isinstance(piece, Spans) else (piece,))
        text = super().__new__(cls, "".join(flat))
        text.pieces = tuple(flat)
        return text

    def __reduce__(self):  # copies (dataclasses.asdict deep-copies cells) keep the pieces
        return (Spans, self.pieces)


def join(pieces: list[str], separator: str = ", ") -> Spans:
    """`pieces` separated by plain `separator`, each keeping its kind."""
    out: list[str] = []
    for index, piece in enumerate(pieces):
        out += [separator, piece] if index else [piece]
    return Spans(*out)


def escape(text: str) -> str:
    """Plain text for an inline Markdown context (a table cell, a list item, a heading)."""
    return _INLINE.sub(r"\\\1", text)


def escape_block(text: str) -> str:
    """Plain text that may span lines (a description): every ASCII punctuation character is
    escaped, so no line can start a list, heading, quote or rule; indentation cannot make a code
    block."""
    lines = [_ASCII_PUNCTUATION.sub(r"\\\1", line.strip()) for line in text.strip().splitlines()]
    return "\n".join(lines)


def code_span(text: str) -> str:
    """`text` as one CommonMark code span, whatever backticks or spaces it holds."""
    if not text:
        return "` `"  # an empty value still shows that something is there
    text = text.replace("\n", " ")  # a code span cannot hold a line break
    longest = max((len(run) for run in _BACKTICKS.findall(text)), default=0)
    fence = "`" * (longest + 1)
    # One space on each side is stripped from a span that starts and ends with one; pad when the
    # text touches a backtick, or has its own spaces at both ends, so what is inside stays exact.
    pad = text.startswith("`") or text.endswith("`") or (text.startswith(" ") and text.endswith(" "))
    space = " " if pad else ""
    return f"{fence}{space}{text}{space}{fence}"


def to_markdown(text: str) -> str:
    """Markdown that renders as exactly the characters of `text` (see the module docstring)."""
    if isinstance(text, Spans):
        return "".join(to_markdown(piece) for piece in text.pieces)
    if isinstance(text, Code):
        return code_span(str(text))
    if isinstance(text, Link):
        return f"[{code_span(str(text))}](<{_ANGLE.sub(lambda m: f'%{ord(m.group()):02X}', text.target)}>)"
    if isinstance(text, Strong):
        core = text.strip()  # `** x**` would not be emphasis: its own edge spaces go outside
        return f"**{escape(core)}**" if core else ""
    return escape(str(text))


__all__ = ["Code", "Link", "Spans", "Strong", "code_span", "escape", "escape_block", "join", "to_markdown"]
