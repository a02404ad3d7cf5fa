"""Deciding how a text export is encoded, without ever producing mojibake silently.

Survey tools write CSV files in UTF-8 (with or without a byte order mark), UTF-16 (Excel's
"Unicode text") or, from older Windows machines, Windows-1252/Latin-1. Guessing wrong turns
"Göteborg" into "GÃ¶teborg" or "G”teborg" without any error, so the rules here accept an
encoding only when the decoded text is plausible and otherwise refuse with the line to look at.
Error messages name lines, never the text itself (cells may hold identity numbers).
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path

_UTF8_BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def _decoded_bytes(first: int, last: int) -> str:
    """Every character that a byte in ``first..last`` becomes in Windows-1252 or Latin-1."""
    chars = set()
    for b in range(first, last + 1):
        chars.add(bytes([b]).decode("latin-1"))
        chars.add(bytes([b]).decode("cp1252", errors="ignore"))
    return "".join(sorted(chars - {""}))


# What UTF-8 continuation bytes (0x80-0xBF) become when UTF-8 is decoded as Windows-1252/Latin-1.
_CONT = f"[{re.escape(_decoded_bytes(0x80, 0xBF))}]"
# UTF-8 decoded twice: "å" -> "Ã¥", "–" -> "â€“", Arabic "أو" -> "Ø£Ù\x88".
_MOJIBAKE = re.compile(
    f"[ÂÃ]{_CONT}|â[{re.escape(_decoded_bytes(0x80, 0x9F))}]{_CONT}|(?:[Ä-ß]{_CONT}){{2}}"
)

# Non-ASCII characters expected in Nordic and other European survey answers.
_PLAUSIBLE_LETTERS = frozenset(c for c in map(chr, range(0xC0, 0x100)) if c.isalpha())
_PLAUSIBLE_MARKS = frozenset("–—‘’“”„…•€§°«»\u00a0´·£©®±½¼¾²³¿¡")
# Nordic and European words mix accented letters with ASCII ones ("Säätiö", "Ødegård"); Arabic
# (Windows-1256) or Cyrillic (Windows-1251) read as Windows-1252 become runs of them ("ÃæÇÝÞ").
_LONG_ACCENTED_RUN = re.compile(f"[{''.join(sorted(_PLAUSIBLE_LETTERS))}]{{3,}}")
# Quotation marks never stand between two letters; DOS code pages put "ä" and "ö" on the bytes
# that Windows-1252 reads as „ and ” ("s„ga", "G”teborg").
_NOT_INSIDE_WORDS = frozenset("‘“”„")


class SurveyReadError(RuntimeError):
    """A survey export that is missing or cannot be read.

    The message always names the file and says what to do; it never quotes cell contents.
    """


def detect_encoding(raw: bytes, path: Path) -> str:
    """Decide the text encoding of a delimited text export from its bytes.

    Parameters
    ----------
    raw : bytes
        The whole file.
    path : Path
        The file, named in error messages.

    Returns
    -------
    str
        ``"utf-8-sig"`` (UTF-8 byte order mark), ``"utf-16"`` (UTF-16 byte order mark),
        ``"utf-8"`` (decodes as strict UTF-8), ``"latin-1"`` (no byte in 0x80-0x9F, where
        ISO-8859-1 and Windows-1252 agree) or ``"cp1252"``; the last two only when every non-ASCII
        character is plausible in Nordic or European text.

    Raises
    ------
    SurveyReadError
        If the text is double-encoded UTF-8, or is neither UTF-8 nor plausible
        Windows-1252/Latin-1 text; the message gives the line to look at.
    """
    return _detect(raw, path)[1]


def decode_text(raw: bytes, path: Path, encoding: str | None = None) -> tuple[str, str]:
    """Decode a text export with a declared encoding, or with the detected one.

    Parameters
    ----------
    raw : bytes
        The whole file.
    path : Path
        The file, named in error messages.
    encoding : str, optional
        The encoding declared by the user; it skips detection, but the text must still decode
        without error and must not be double-encoded UTF-8.

    Returns
    -------
    text : str
        The decoded file.
    encoding : str
        The encoding used, as a Python codec name.

    Raises
    ------
    SurveyReadError
        If the encoding is unknown, the bytes do not decode, or the result is mojibake.
    """
    if encoding is None:
        return _detect(raw, path)
    if raw.startswith(_UTF8_BOM) and _codec_name(encoding, path) == "utf-8":
        encoding = "utf-8-sig"
    return _decode(raw, path, encoding), encoding


def find_mojibake(text: str) -> int | None:
    """Position of the first double-encoded UTF-8 sequence in ``text`` (``"Ã¥"`` for å), or None.

    Parameters
    ----------
    text : str
        Decoded text.

    Returns
    -------
    int or None
        Index into ``text`` of the first suspicious sequence.
    """
    match = _MOJIBAKE.search(text)
    return match.start() if match else None


def _detect(raw: bytes, path: Path) -> tuple[str, str]:
    """The decoded text and the encoding that :func:`detect_encoding` chooses."""
    if raw.startswith(_UTF8_BOM):
        return _decode(raw, path, "utf-8-sig"), "utf-8-sig"
    if raw.startswith(_UTF16_BOMS):
        return _decode(raw, path, "utf-16"), "utf-16"
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        _refuse_mojibake(text, path)
        return text, "utf-8"
    encoding = "cp1252" if re.search(rb"[\x80-\x9f]", raw) else "latin-1"
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as exc:
        raise _undecidable(path, _line_of_byte(raw, exc.start)) from None
    position = _implausible_position(text)
    if position is not None:
        raise _undecidable(path, _line_of(text, position))
    _refuse_mojibake(text, path)
    return text, encoding


def _codec_name(encoding: str, path: Path) -> str:
    try:
        return codecs.lookup(encoding).name
    except LookupError:
        raise SurveyReadError(
            f"{path.name}: '{encoding}' is not a known text encoding; give a Python codec name "
            f"such as 'utf-8', 'cp1252' or 'latin-1'."
        ) from None


def _decode(raw: bytes, path: Path, encoding: str) -> str:
    """``raw`` decoded strictly with ``encoding``, refused if the result is mojibake."""
    _codec_name(encoding, path)
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as exc:
        line = _line_of_byte(raw, exc.start, encoding)
        raise SurveyReadError(
            f"{path.name}: line {line} cannot be decoded as {encoding}. Export the file again as "
            f"CSV UTF-8, or declare the encoding the file really uses."
        ) from None
    _refuse_mojibake(text, path)
    return text


def _refuse_mojibake(text: str, path: Path) -> None:
    position = find_mojibake(text)
    if position is not None:
        raise SurveyReadError(
            f"{path.name}: line {_line_of(text, position)} contains text that was converted to "
            f"UTF-8 twice (å, ä, ö appear as Ã¥, Ã¤, Ã¶). Export the survey again as CSV UTF-8 "
            f"straight from the survey tool, without saving it in another program, or declare "
            f"the encoding the file really uses."
        )


def _implausible_position(text: str) -> int | None:
    """Index of the first non-ASCII character unlikely in Nordic/European text, or None."""
    run = _LONG_ACCENTED_RUN.search(text)
    if run:
        return run.start()
    for match in re.finditer(r"[^\x00-\x7f]", text):
        char, i = match.group(), match.start()
        if char in _PLAUSIBLE_LETTERS:
            continue
        if char not in _PLAUSIBLE_MARKS:
            return i
        inside_word = 0 < i < len(text) - 1 and text[i - 1].isalpha() and text[i + 1].isalpha()
        if char in _NOT_INSIDE_WORDS and inside_word:
            return i
    return None


def _undecidable(path: Path, line: int) -> SurveyReadError:
    return SurveyReadError(
        f"{path.name}: cannot tell the text encoding; line {line} is neither UTF-8 nor plausible "
        f"Windows-1252/Latin-1 text. Export the file again as CSV UTF-8, or declare its encoding "
        f"explicitly (for example encoding='cp1252')."
    )


def _line_of(text: str, position: int) -> int:
    return text.count("\n", 0, position) + 1


def _line_of_byte(raw: bytes, offset: int, encoding: str = "latin-1") -> int:
    return raw[:offset].decode(encoding, errors="replace").count("\n") + 1
