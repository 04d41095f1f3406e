"""Finding a quote verbatim in a source's text, up to Unicode, whitespace and typographic quotes.

Both the quote and the text go through :func:`normalise`, exactly these steps in this order:

1. Unicode NFKC (compatibility composition: ``ﬁ`` -> ``fi``, a no-break space -> a space, a
   decomposed ``é`` -> the single character ``é``; NFKC also gives everything NFC gives);
2. the invisible characters soft hyphen (U+00AD), zero-width space, non-joiner and joiner
   (U+200B..U+200D), word joiner (U+2060) and byte-order mark (U+FEFF) are removed;
3. typographic quotes are folded to ASCII: ``‘ ’ ‚ ‛ ′`` -> ``'`` and ``“ ” „ ‟ ″ « »`` -> ``"``;
4. every run of whitespace (spaces, tabs, line breaks, any Unicode space) becomes one space, and
   leading and trailing whitespace is dropped.

Nothing else is folded: letter case, dashes, punctuation and spelling must match, so "verbatim"
still means verbatim. A TextQuoteSelector's prefix and suffix (the words just before and after the
quote) pick the occurrence when the quote appears more than once: they must stand right before and
after it, whitespace between them aside.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff"))
_SINGLE_QUOTES = "\u2018\u2019\u201a\u201b\u2032"
_DOUBLE_QUOTES = "\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb"
_QUOTES = str.maketrans(dict.fromkeys(_SINGLE_QUOTES, "'") | dict.fromkeys(_DOUBLE_QUOTES, '"'))
_SPACE = re.compile(r"\s+")


def normalise(text: str) -> str:
    """The text in the form quotes are compared in (see the module's docstring for the exact steps)."""
    text = unicodedata.normalize("NFKC", text).translate(_INVISIBLE).translate(_QUOTES)
    return _SPACE.sub(" ", text).strip()


@dataclass(frozen=True)
class Match:
    """Where a quote stands in a text: how many times it occurs, and how many fit the prefix and suffix."""

    occurrences: int
    in_context: int

    @property
    def found(self) -> bool:
        """The quote occurs at least once where its prefix and suffix (if any) say it does."""
        return self.in_context > 0


def find_quote(text: str, quote: str, *, prefix: str | None = None, suffix: str | None = None) -> Match:
    """Count the occurrences of ``quote`` in ``text`` and those that stand between ``prefix`` and ``suffix``."""
    return find_normalised(normalise(text), quote, prefix=prefix, suffix=suffix)


def find_normalised(haystack: str, quote: str, *, prefix: str | None = None, suffix: str | None = None) -> Match:
    """:func:`find_quote` in a text already passed through :func:`normalise` (normalise a long text once)."""
    needle, before, after = normalise(quote), normalise(prefix or ""), normalise(suffix or "")
    if not needle:
        return Match(0, 0)
    occurrences = in_context = 0
    start = haystack.find(needle)
    while start >= 0:
        occurrences += 1
        # Normalised text has single spaces, so at most one space stands between quote and context.
        left = start - 1 if start > 0 and haystack[start - 1] == " " else start
        right = start + len(needle)
        right += 1 if haystack.startswith(" ", right) else 0
        if haystack.endswith(before, 0, left) and haystack.startswith(after, right):
            in_context += 1
        start = haystack.find(needle, start + 1)
    return Match(occurrences, in_context)
