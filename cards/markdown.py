"""GitHub-flavoured Markdown for card details, safe for clients that render raw HTML.

The CDS Hooks Sandbox renders ``detail`` with rehype-raw (raw HTML is live), so every piece
of text that comes from data goes through :func:`text`: ``&``, ``<`` and ``>`` become
entities and Markdown-active characters are backslash-escaped. Our own templates use no HTML.
"""
from __future__ import annotations

import re
from datetime import date, datetime
from enum import Enum
from typing import Any, Iterable

from pathway.facts import Fact, MitoticCount, MitoticDenominator, PdL1, Provenance

_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_MD_ACTIVE = set("\\`*_[]{}#|~!")
_ESCAPES = str.maketrans({**_ENTITIES, **{char: "\\" + char for char in _MD_ACTIVE}})  # one pass, per character
_LEADING_MARKER = re.compile(r"^([-+=])")  # bullet / setext markers at the start of a value
_LEADING_ORDERED = re.compile(r"^(\d{1,9})([.)])(?=\s|$)")  # "1. " would open an ordered list
_WHITESPACE = re.compile(r"\s+")


def text(value: Any) -> str:
    """Plain text from data, escaped for Markdown and HTML, on one line."""
    escaped = _WHITESPACE.sub(" ", str(value)).strip().translate(_ESCAPES)
    # A value that starts like a list item or an ordered list must stay text.
    escaped = _LEADING_MARKER.sub(r"\\\1", escaped, count=1)
    return _LEADING_ORDERED.sub(r"\1\\\2", escaped, count=1)


def section(title: str, lines: Iterable[str]) -> str:
    """A bold section title followed by bullet lines (already escaped); '' when there are no lines."""
    items = [line for line in lines if line]
    if not items:
        return ""
    return f"**{title}**\n\n" + "\n".join(f"- {line}" for line in items)


def join_sections(*sections: str) -> str:
    return "\n\n".join(s for s in sections if s)


_DENOMINATOR_WORDS = {
    MitoticDenominator.PER_50_HPF: "per 50 HPF",
    MitoticDenominator.PER_10_HPF: "per 10 HPF",
    MitoticDenominator.PER_MM2: "per mm²",
}


def value_words(value: Any) -> str:
    """A fact value in words (unescaped): enums by value, booleans yes/no, counts with denominators."""
    if value is None:
        return "unknown"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Enum):
        return str(value.value).replace("_", " ")
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, MitoticCount):
        return f"{value.count:g} {_DENOMINATOR_WORDS.get(value.denominator, str(value.denominator))}"
    if isinstance(value, PdL1):
        parts = [p for p in (value.status, value.score, value.assay and f"assay {value.assay}",
                             value.cutoff and f"cut-off {value.cutoff}") if p]
        if value.cutoff is None:
            parts.append("cut-off not reported")
        return ", ".join(str(p) for p in parts)
    if isinstance(value, (list, tuple, set, frozenset)):
        return ", ".join(value_words(v) for v in value) or "none"
    if isinstance(value, dict):
        return "; ".join(f"{k}: {value_words(v)}" for k, v in value.items()) or "none"
    return str(value)


def fact_line(label: str, fact: Fact[Any] | None, display: str | None = None) -> str:
    """'**label**: value unit (date; inferred; Observation/1)' — escaped, one line."""
    if not isinstance(fact, Fact):
        fact = Fact(value=fact)
    shown = display if display else value_words(fact.value)
    if fact.unit and fact.value is not None and not display:
        shown = f"{shown} {fact.unit}"
    context = []
    if fact.date:
        context.append(fact.date.isoformat())
    if fact.provenance is Provenance.INFERRED:
        context.append("inferred")
    elif fact.provenance is Provenance.REPORTED:
        context.append("as reported")
    if fact.note:
        context.append(fact.note)
    if fact.sources:
        context.append(", ".join(fact.sources))
    line = f"**{text(label) or 'fact'}**: {text(shown)}"
    if context:
        line += f" ({text('; '.join(str(c) for c in context))})"
    return line
