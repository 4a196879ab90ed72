"""Titles in Chicago's headline style (CMOS 8.159), wherever a brief names one: its notes and its running text."""

from __future__ import annotations

import re

# CMOS 8.159: articles, the coordinating conjunctions and, but, for, or, nor, "to" and "as", and prepositions
# whatever their length. Not "up", "down", "out", "off": far more often adverbs in a headline ("Steps Up"),
# which Chicago capitalizes.
_MINOR_WORDS = frozenset(
    {"a", "an", "the", "and", "but", "for", "or", "nor", "to", "as"}
    | {"about", "above", "across", "after", "against", "along", "amid", "among", "around", "at", "before"}
    | {"behind", "below", "beneath", "beside", "between", "beyond", "by", "despite", "during", "except", "from"}
    | {"in", "inside", "into", "like", "near", "of", "on", "onto", "outside", "over", "past", "per", "since"}
    | {"than", "through", "throughout", "till", "toward", "towards", "under", "underneath", "until", "upon"}
    | {"versus", "via", "with", "within", "without"}
)
_WORD = re.compile(r"^([^\w]*)([\w’'.-]+?)([^\w]*)$")


def headline_case(title: str) -> str:
    """A title in Chicago's headline style (CMOS 8.159): major words capitalized, minor words lower case.

    The first and last words of the title and of each part (before and after a colon or a dash), and a
    word after an opening quotation mark, are always capitalized. A word the data gives with a capital
    inside it or in capitals (IntelliNews, UN, FM) is kept as written; a minor word the data capitalized
    mid-title ("Tolls From January") is lowered.
    Hyphenated compounds capitalize each element that is not a minor word ("Re-Exports").
    citeproc-py's own title case keeps every word it finds capitalized, lowers only its short stop-word
    list (so "About" and "Between" stay), and skips a word after an opening quote ("‘look at Ukraine’").
    """
    tokens = title.split(" ")
    out = []
    starts = True  # the next word opens the title or a part of it
    for i, token in enumerate(tokens):
        m = _WORD.match(token)
        if not m:
            out.append(token)
            starts = starts or token in ("—", "–", "-", ":")
            continue
        lead, word, trail = m.groups()
        first = starts or any(q in lead for q in "‘“\"'(")
        last = i == len(tokens) - 1 or trail.endswith((":", "—", "–"))  # the last word of the title or its part
        parts = word.split("-")
        cased = []
        for j, part in enumerate(parts):
            keep = any(c.isupper() for c in part[1:]) or (part.isupper() and len(part) > 1)
            if keep or not part:
                cased.append(part)
            elif part.lower() in _MINOR_WORDS and not ((first and j == 0) or (last and j == len(parts) - 1)):
                cased.append(part.lower())
            else:
                cased.append(part[:1].upper() + part[1:])
        out.append(lead + "-".join(cased) + trail)
        starts = trail.endswith((":", "—", "–", "?", "!"))
    return " ".join(out)
