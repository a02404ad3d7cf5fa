"""Scrubbing free-text answers of personal data before anything is stored.

E-mail addresses, phone numbers and identity numbers are found by :func:`pipeline.privacy.redact`
(every candidate of their shape, valid or not). Names cannot be recognised in general; the names
the programme knows (the roster's and the respondent's own first and last names) are replaced
wherever they occur as whole words, whatever their case.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable

from pipeline.privacy import redact

NAME_MARK = "[redacted name]"


class NameScrubber:
    """Replaces known names, as whole words and case-insensitively, by ``[redacted name]``.

    Parameters
    ----------
    names : iterable of str
        First and last names; parts shorter than two letters are ignored.
    """

    def __init__(self, names: Iterable[str]) -> None:
        parts = {
            part
            for name in names
            if isinstance(name, str)
            for part in re.split(r"[\s-]+", unicodedata.normalize("NFC", name.strip()))
            if len(part) >= 2
        }
        alternatives = "|".join(re.escape(p) for p in sorted(parts, key=len, reverse=True))
        self._pattern = (
            re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE) if parts else None
        )

    def __call__(self, text: str) -> str:
        if self._pattern is None:
            return text
        return self._pattern.sub(NAME_MARK, text)


def scrub_text(text: object, names: NameScrubber, own_names: Iterable[str] = ()) -> str | None:
    """Free text with identifiers and known names replaced; None for empty text.

    Parameters
    ----------
    text : object
        The answer as exported.
    names : NameScrubber
        Names known from the roster.
    own_names : iterable of str
        The respondent's own names from the same row.

    Returns
    -------
    str or None
    """
    if not isinstance(text, str) or not text.strip():
        return None
    cleaned = names(redact(unicodedata.normalize("NFC", text.strip())))
    own = tuple(sorted({n for n in own_names if isinstance(n, str) and n.strip()}))
    return _scrubber(own)(cleaned) if own else cleaned


@functools.lru_cache(maxsize=4096)
def _scrubber(names: tuple[str, ...]) -> NameScrubber:
    return NameScrubber(names)
