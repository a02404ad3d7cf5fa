r"""The report's language layer: message catalogues and locale-aware number formats.

A :class:`Translator` for one language (``"en"`` or ``"sv"``) turns catalogue keys into text
and numbers into strings written the way that language writes them::

    tr = translator("sv")
    tr.t("summary.headline", duration=tr.plural("unit.months", 12), treated=tr.percent(0.54),
         control=tr.percent(0.46), effect=tr.percentage_points(0.08), level=tr.number(95),
         low=tr.number(2, signed=True), high=tr.number(14, signed=True))

Catalogues
    ``pipeline/report/locales/<language>.yml``: nested YAML mappings whose leaves are texts.
    A key is the dot path to a leaf (``summary.headline``); every segment is lower case,
    ``[a-z][a-z0-9_]*``. Both catalogues hold exactly the same keys with the same placeholders
    (``tests/test_i18n.py`` checks it), so a key that exists in one exists in the other.
Placeholders
    :meth:`str.format` fields with a bare name: ``{treated}``. No format specs, conversions,
    attributes or positional fields (the loader rejects them); literal braces are ``{{ }}``.
    Values must be strings: numbers are formatted first with :meth:`Translator.number`,
    :meth:`~Translator.percent` and friends, so that ``0.5`` can never reach a Swedish page as
    "0.5". Every placeholder of the text must be given and nothing else.
Plurals
    A plural phrase is a pair of keys ``<base>_one`` / ``<base>_other``, the CLDR plural
    categories of English and Swedish (no other key may end in ``_one`` or ``_other``).
    :meth:`Translator.plural` picks the variant with Babel's plural rule for the language, so
    ``1`` is *one* but ``1.0`` is *other* ("1.0 percentage points"), and fills ``{n}``.
No fallback
    A key missing from the chosen catalogue raises :class:`MissingKeyError` (a ``KeyError``)
    naming the key and the catalogue file; nothing falls back to English and no key is ever
    printed in its place. :func:`find_catalogue_keys` finds key-shaped strings in a rendered
    page, for tests (and a render-time guard) that no untranslated key slipped through.
Numbers
    Through :mod:`babel.numbers`, with the locale ``en_GB`` (the reports' English is British)
    or ``sv_SE``: decimal comma and non-breaking-space (U+00A0) thousands separator in Swedish,
    ``54 %`` with a non-breaking space in Swedish and ``54%`` in English. Rounding is half
    away from zero on the decimal value as written (``0.545`` → ``0.55``), a value that rounds
    to zero loses its sign, and negative numbers carry the true minus sign U+2212 in both
    languages. (Babel's sv locale data has U+2212 as its minus sign, but Babel 2.18's
    formatting functions still write the ASCII hyphen-minus; we substitute.) ``None``, NaN and
    ``pd.NA`` become :meth:`Translator.missing`.
"""

from __future__ import annotations

import datetime as dt
import decimal
import functools
import html.parser
import math
import re
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pandas as pd
import yaml
from babel import Locale
from babel.dates import format_date
from babel.lists import format_list
from babel.numbers import format_decimal, format_percent

SUPPORTED_LANGUAGES = ("en", "sv")
BABEL_LOCALES = {"en": "en_GB", "sv": "sv_SE"}
LOCALES_DIR = Path(__file__).with_name("locales")

MINUS = "\u2212"
NBSP = "\u00a0"

SEGMENT = re.compile(r"[a-z][a-z0-9_]*")
# Final segments that make a dotted word a file name, not a key ("effects.parquet").
FILE_EXTENSIONS = frozenset(
    "parquet csv tsv txt html htm json yml yaml xlsx xls sav dta sas7bdat por zsav py ipynb "
    "md toml lock key log pdf png svg jpg jpeg gz zip".split()
)

__all__ = [
    "BABEL_LOCALES",
    "SUPPORTED_LANGUAGES",
    "CatalogueError",
    "MissingKeyError",
    "Translator",
    "catalogue_path",
    "find_catalogue_keys",
    "load_catalogue",
    "placeholders",
    "translator",
]


class CatalogueError(ValueError):
    """A catalogue file that breaks the rules (bad key, non-text leaf, bad placeholder...)."""


class MissingKeyError(KeyError):
    """A key the chosen catalogue does not hold; the message names key and catalogue file."""

    def __str__(self) -> str:  # KeyError would show the repr of its message
        return str(self.args[0])


# ---- catalogues ----------------------------------------------------------------------------


def _check_language(language: str) -> str:
    if language not in SUPPORTED_LANGUAGES:
        raise ValueError(
            f"unsupported report language {language!r}; supported: "
            f"{', '.join(SUPPORTED_LANGUAGES)}"
        )
    return language


def catalogue_path(language: str, directory: Path | None = None) -> Path:
    """The catalogue file of ``language`` (``locales/<language>.yml`` next to this module)."""
    return Path(directory or LOCALES_DIR) / f"{_check_language(language)}.yml"


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate mapping keys (PyYAML silently keeps the last)."""


def _construct_unique_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep=False):
    seen: dict[Any, yaml.Node] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise CatalogueError(
                f"duplicate key {key!r} at line {key_node.start_mark.line + 1} "
                f"(first at line {seen[key].start_mark.line + 1})"
            )
        seen[key] = key_node
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_unique_mapping
)


def placeholders(text: str) -> frozenset[str]:
    """Names of the ``{placeholders}`` in ``text``.

    Raises
    ------
    ValueError
        If a field is positional, has a format spec, a conversion, an attribute or an index.

    Examples
    --------
    >>> sorted(placeholders("{low} to {high}"))
    ['high', 'low']
    >>> sorted(placeholders("literal {{braces}}"))
    []
    """
    names = set()
    for _, name, spec, conversion in string.Formatter().parse(text):
        if name is None:
            continue
        if not name.isidentifier() or spec or conversion:
            raise ValueError(
                f"placeholder {{{name}{'!' + conversion if conversion else ''}"
                f"{':' + spec if spec else ''}}} is not a bare name; format numbers with the "
                "Translator before inserting them"
            )
        names.add(name)
    return frozenset(names)


def _flatten(tree: Any, prefix: str, path: Path, out: dict[str, str]) -> None:
    if not isinstance(tree, Mapping):
        raise CatalogueError(f"{path}: {prefix or 'the file'} must be a mapping of keys")
    for segment, value in tree.items():
        if not isinstance(segment, str) or not SEGMENT.fullmatch(segment):
            raise CatalogueError(
                f"{path}: key segment {segment!r} under {prefix or 'the top level'} must match "
                f"{SEGMENT.pattern} (beware YAML reading yes/no/on/off as booleans)"
            )
        key = f"{prefix}.{segment}" if prefix else segment
        if isinstance(value, Mapping):
            _flatten(value, key, path, out)
        elif isinstance(value, str):
            try:
                placeholders(value)
            except ValueError as error:
                raise CatalogueError(f"{path}: key {key!r}: {error}") from None
            out[key] = value
        else:
            raise CatalogueError(
                f"{path}: key {key!r} holds {type(value).__name__} {value!r}; texts must be "
                "quoted strings"
            )


def _check_plurals(messages: Mapping[str, str], language: str, path: Path) -> None:
    """Every plural base has exactly the plural categories the language's rule uses.

    A key ending in ``_<category>`` for one of the language's categories (``_one``, ``_other``
    in English and Swedish) is a plural variant; other keys may end as they like
    (``status.too_few``).
    """
    needed = set(Locale.parse(BABEL_LOCALES[language]).plural_form.tags) | {"other"}
    suffix = re.compile(r"_(" + "|".join(sorted(needed)) + r")$")
    bases: dict[str, set[str]] = {}
    for key in messages:
        found = suffix.search(key)
        if found:
            bases.setdefault(key[: found.start()], set()).add(found.group(1))
    for base, categories in sorted(bases.items()):
        if categories != needed:
            raise CatalogueError(
                f"{path}: plural key {base!r} has variants {sorted(categories)}; "
                f"{language} needs exactly {sorted(needed)} (a key that is not a plural "
                f"variant may not end in {', '.join('_' + c for c in sorted(needed))})"
            )
        if base in messages:
            raise CatalogueError(f"{path}: {base!r} is both a message and a plural key")


def _read_catalogue(path: Path, language: str) -> dict[str, str]:
    try:
        tree = yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)
    except (CatalogueError, yaml.YAMLError) as error:
        raise CatalogueError(f"{path}: {error}") from None
    messages: dict[str, str] = {}
    _flatten(tree or {}, "", path, messages)
    _check_plurals(messages, language, path)
    return messages


@functools.cache
def _cached_catalogue(path: Path, language: str) -> Mapping[str, str]:
    return MappingProxyType(_read_catalogue(path, language))


def load_catalogue(language: str, directory: Path | None = None) -> dict[str, str]:
    """Every key of ``language``'s catalogue with its text (a fresh copy).

    Raises
    ------
    ValueError
        For an unsupported language.
    CatalogueError
        If the file breaks a rule (see the module docstring).
    """
    return dict(_cached_catalogue(catalogue_path(language, directory), language))


def translator(language: str, directory: Path | None = None) -> Translator:
    """The :class:`Translator` for ``language`` (``"en"`` or ``"sv"``).

    ``directory`` overrides the folder holding the catalogues (tests use it).

    Raises
    ------
    ValueError
        If ``language`` is not one of :data:`SUPPORTED_LANGUAGES`; the message lists them.

    Examples
    --------
    >>> translator("sv").t("toc.heading")
    'Innehåll'
    >>> translator("de")
    Traceback (most recent call last):
    ...
    ValueError: unsupported report language 'de'; supported: en, sv
    """
    path = catalogue_path(language, directory)
    return Translator(language, _cached_catalogue(path, language), path)


# ---- the translator ------------------------------------------------------------------------


def _is_missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    try:
        return bool(math.isnan(value))
    except TypeError:
        return False


def _decimal(value: Any) -> decimal.Decimal:
    """``value`` as the Decimal its shortest repr shows (0.545 → Decimal('0.545'))."""
    if isinstance(value, decimal.Decimal):
        number = value
    elif isinstance(value, bool | str | bytes):
        raise TypeError(f"{type(value).__name__} {value!r} is not a number to format")
    else:
        number = decimal.Decimal(repr(float(value)) if not isinstance(value, int) else value)
    if not number.is_finite():
        raise ValueError(f"cannot format the non-finite number {value!r}")
    return number


def _round(value: Any, decimals: int) -> decimal.Decimal:
    """Round half away from zero to ``decimals`` places; a zero result has no sign."""
    if decimals < 0:
        raise ValueError(f"decimals must be 0 or more, not {decimals}")
    quantum = decimal.Decimal(1).scaleb(-decimals)
    rounded = _decimal(value).quantize(quantum, rounding=decimal.ROUND_HALF_UP)
    return abs(rounded) if rounded == 0 else rounded


def _pattern(decimals: int) -> str:
    return "#,##0" + ("." + "0" * decimals if decimals else "")


def _as_date(period: Any) -> dt.date:
    if isinstance(period, pd.Period):
        return period.start_time.date()
    if isinstance(period, dt.datetime):  # pd.Timestamp included
        return period.date()
    if isinstance(period, dt.date):
        return period
    if isinstance(period, str):
        text = period.strip()
        if re.fullmatch(r"\d{4}-\d{2}", text):
            text += "-01"
        return dt.date.fromisoformat(text)
    raise TypeError(f"cannot read a date from {type(period).__name__} {period!r}")


@dataclass(frozen=True)
class Translator:
    r"""Texts and number formats of one report language.

    Create it with :func:`translator`. Every method returns plain text (escaping is the
    template's job). Numeric methods return :meth:`missing` for ``None``/NaN/``pd.NA``.

    Examples
    --------
    >>> en, sv = translator("en"), translator("sv")
    >>> sv.t("status.too_few", minimum=sv.count(10))
    'För få deltagare för att göra en skattning (färre än 10).'
    >>> en.plural("unit.participants", 1), en.plural("unit.participants", 2)
    ('1 participant', '2 participants')
    """

    language: str
    messages: Mapping[str, str] = field(repr=False, compare=False)
    source: Path

    @functools.cached_property
    def locale(self) -> Locale:
        """The Babel locale (``en_GB`` or ``sv_SE``)."""
        return Locale.parse(BABEL_LOCALES[self.language])

    @property
    def keys(self) -> frozenset[str]:
        """Every message key, plural variants (``*_one``, ``*_other``) included."""
        return frozenset(self.messages)

    # ---- texts ---------------------------------------------------------------------------

    def _text(self, key: str) -> str:
        try:
            return self.messages[key]
        except KeyError:
            hint = ""
            if f"{key}_other" in self.messages:
                hint = "; it is a plural key: use plural()"
            elif any(k.startswith(key + ".") for k in self.messages):
                hint = "; it is a group of keys, not a message"
            raise MissingKeyError(
                f"no key {key!r} in the {self.language} catalogue {self.source}{hint}"
            ) from None

    def _fill(self, key: str, text: str, values: Mapping[str, str], optional=()) -> str:
        wanted = placeholders(text)
        missing = sorted(wanted - set(values))
        if missing:
            raise KeyError(f"key {key!r} needs values for {missing}")
        extra = sorted(set(values) - wanted - set(optional))
        if extra:
            raise TypeError(f"key {key!r} has no placeholders {extra}")
        for name, value in values.items():
            if not isinstance(value, str):
                raise TypeError(
                    f"value {name}={value!r} for key {key!r} must be text: format it with "
                    "the Translator (number, count, percent, ...) first"
                )
        return text.format_map({name: values[name] for name in wanted})

    def t(self, key: str, **values: str) -> str:
        """The text of ``key`` with its ``{placeholders}`` filled by ``values`` (strings).

        Raises
        ------
        MissingKeyError
            (a ``KeyError``) if the catalogue has no ``key``: names the key and the file.
        KeyError
            If a placeholder of the text has no value.
        TypeError
            If a value is not a string or names no placeholder of the text.

        Examples
        --------
        >>> translator("en").t("format.interval", low="4", high="12")
        '4 to 12'
        >>> translator("sv").t("format.interval", low="4", high="12")
        '4 till 12'
        """
        return self._fill(key, self._text(key), values)

    def _plural_text(self, key: str, operand: decimal.Decimal | int) -> tuple[str, str]:
        variant = f"{key}_{self.locale.plural_form(operand)}"
        return variant, self._text(variant)

    def plural(self, key: str, n: int, **values: str) -> str:
        """The ``key_one`` or ``key_other`` text chosen for the count ``n``, ``{n}`` filled
        with :meth:`count` (unless given in ``values``).

        Examples
        --------
        >>> sv = translator("sv")
        >>> sv.plural("unit.months", 1), sv.plural("unit.months", 12)
        ('1 månad', '12 månader')
        >>> translator("en").plural("unit.cohorts", 1)
        '1 cohort'
        """
        if isinstance(n, bool) or int(n) != n:
            raise ValueError(f"plural() needs a whole count, not {n!r}")
        n = int(n)
        variant, text = self._plural_text(key, n)
        values = {"n": self.count(n), **values}
        return self._fill(variant, text, values, optional=("n",))

    def pick(self, texts: Mapping[str, str], what: str = "text") -> str:
        """The entry of ``texts`` (language code → text, e.g. a codebook item's ``text``) in
        this language.

        Raises
        ------
        KeyError
            Naming ``what`` and the language, if there is none (no fallback to English).

        Examples
        --------
        >>> translator("sv").pick({"en": "Yes", "sv": "Ja"}, "label of code 1")
        'Ja'
        """
        text = texts.get(self.language)
        if not text:
            raise MissingKeyError(f"{what} has no {self.language} text (has {sorted(texts)})")
        return text

    def join(self, items: Iterable[str]) -> str:
        """A list in running text: ``"a, b and c"`` / ``"a, b och c"``.

        Examples
        --------
        >>> translator("sv").join(["svenska", "engelska", "arabiska"])
        'svenska, engelska och arabiska'
        """
        return format_list(list(items), locale=self.locale)

    # ---- numbers -------------------------------------------------------------------------

    def missing(self) -> str:
        """The symbol for a value that is missing, not computable or not applicable.

        Examples
        --------
        >>> translator("sv").missing()
        '–'
        """
        return self.t("format.missing")

    def suppressed(self) -> str:
        """The marker of every cell withheld by disclosure control (primary or secondary
        alike), e.g. ``ProtectedTable.formatted(tr.count, marker=tr.suppressed())``.

        Examples
        --------
        >>> translator("en").suppressed()
        'x'
        """
        return self.t("format.suppressed")

    def _signed(self, rounded: decimal.Decimal, body: str, signed: bool) -> str:
        if rounded < 0:
            return MINUS + body
        if signed and rounded > 0:
            return "+" + body
        return body

    def number(self, value: Any, decimals: int = 0, *, signed: bool = False) -> str:
        r"""``value`` with ``decimals`` decimals, grouped thousands and, if ``signed``, a "+"
        on positive values (negative ones always carry U+2212; zero never has a sign).

        Examples
        --------
        >>> sv, en = translator("sv"), translator("en")
        >>> sv.number(12345.678, 1), en.number(12345.678, 1)
        ('12\xa0345,7', '12,345.7')
        >>> sv.number(-0.25, 2), en.number(3, signed=True), en.number(-0.004, 2)
        ('−0,25', '+3', '0.00')
        >>> sv.number(float("nan"))
        '–'
        """
        if _is_missing(value):
            return self.missing()
        rounded = _round(value, decimals)
        body = format_decimal(abs(rounded), format=_pattern(decimals), locale=self.locale)
        return self._signed(rounded, body, signed)

    def count(self, n: Any) -> str:
        r"""A whole count with the thousands separator (Swedish: U+00A0, English: comma).

        Examples
        --------
        >>> translator("sv").count(12300), translator("en").count(12300)
        ('12\xa0300', '12,300')
        """
        if _is_missing(n):
            return self.missing()
        if _decimal(n) != int(n):
            raise ValueError(f"a count must be whole, not {n!r}")
        return self.number(int(n))

    def percent(self, share: Any, decimals: int = 0, *, signed: bool = False) -> str:
        r"""A share (0.54) as a percentage: ``"54 %"`` (U+00A0) in Swedish, ``"54%"`` in English.

        Examples
        --------
        >>> translator("sv").percent(0.54), translator("en").percent(0.54)
        ('54\xa0%', '54%')
        >>> translator("sv").percent(0.5432, 1)
        '54,3\xa0%'
        """
        if _is_missing(share):
            return self.missing()
        rounded = _round(_decimal(share) * 100, decimals)
        pattern = self.locale.percent_formats[None].pattern  # "#,##0\xa0%" / "#,##0%"
        if "#,##0" not in pattern:
            raise ValueError(f"unexpected percent pattern {pattern!r} of {self.locale}")
        pattern = pattern.replace("#,##0", _pattern(decimals), 1)
        body = format_percent(abs(rounded) / 100, format=pattern, locale=self.locale)
        return self._signed(rounded, body, signed)

    def percentage_points(
        self, diff: Any, decimals: int = 0, *, short: bool = False, signed: bool = True
    ) -> str:
        r"""A difference of two shares (0.08 = 8 points), signed by default.

        ``short`` gives the table form ("pp" / "p.e.", after a non-breaking space); the long
        form is a plural phrase ("1 percentage point", "1.5 percentage points").

        Examples
        --------
        >>> sv, en = translator("sv"), translator("en")
        >>> sv.percentage_points(0.08), en.percentage_points(-0.012, 1)
        ('+8 procentenheter', '−1.2 percentage points')
        >>> en.percentage_points(0.01), sv.percentage_points(0.08, short=True)
        ('+1 percentage point', '+8\xa0p.e.')
        >>> en.percentage_points(0.08, signed=False)
        '8 percentage points'
        """
        if _is_missing(diff):
            return self.missing()
        rounded = _round(_decimal(diff) * 100, decimals)
        shown = self.number(rounded, decimals, signed=signed)
        if short:
            return self.t("unit.percentage_points_short", n=shown)
        variant, text = self._plural_text("unit.percentage_points", abs(rounded))
        return self._fill(variant, text, {"n": shown})

    def interval(self, low: Any, high: Any, decimals: int = 0, *, signed: bool = False) -> str:
        """``"low to high"`` / ``"low till high"``: numbers are formatted with :meth:`number`
        (``decimals``, ``signed``), strings (already formatted) are used as they are.

        A word rather than a dash, so that negative limits stay readable.

        Examples
        --------
        >>> translator("en").interval(4, 12), translator("sv").interval(-3.5, 12.25, 1)
        ('4 to 12', '−3,5 till 12,3')
        """
        def shown(value: Any) -> str:
            return value if isinstance(value, str) else self.number(value, decimals,
                                                                     signed=signed)

        return self.t("format.interval", low=shown(low), high=shown(high))

    def money(self, amount: Any, currency: str = "SEK", decimals: int = 0, *,
              signed: bool = False) -> str:
        r"""An amount of money: ``"12 300 kr"`` in Swedish, ``"SEK 12,300"`` in English.

        The currency's name comes from the catalogue (``format.currency.<code>``), so an
        unknown currency is a :class:`MissingKeyError`.

        Examples
        --------
        >>> translator("sv").money(12300), translator("en").money(12300)
        ('12\xa0300\xa0kr', 'SEK\xa012,300')
        >>> translator("sv").money(-1234.5, "EUR", signed=True)
        '−1\xa0235\xa0euro'
        """
        if _is_missing(amount):
            return self.missing()
        name = self.t(f"format.currency.{currency.lower()}")
        return self.t("format.money", amount=self.number(amount, decimals, signed=signed),
                      currency=name)

    # ---- dates ---------------------------------------------------------------------------

    def month(self, period: Any) -> str:
        """A calendar month: ``"mars 2024"`` / ``"March 2024"``.

        ``period`` may be a ``pd.Period``, a date, a datetime or an ISO string ``"2024-03"``.

        Examples
        --------
        >>> translator("sv").month("2024-03"), translator("en").month(pd.Period("2024-03", "M"))
        ('mars 2024', 'March 2024')
        """
        if _is_missing(period):
            return self.missing()
        return format_date(_as_date(period), "LLLL y", locale=self.locale)

    def date(self, day: Any) -> str:
        """A day: ``"21 november 2026"`` / ``"21 November 2026"``.

        Examples
        --------
        >>> translator("sv").date(dt.date(2026, 11, 21)), translator("en").date("2026-11-21")
        ('21 november 2026', '21 November 2026')
        """
        if _is_missing(day):
            return self.missing()
        return format_date(_as_date(day), "long", locale=self.locale)


# ---- finding untranslated keys in a page ---------------------------------------------------


@functools.cache
def _namespaces() -> frozenset[str]:
    names: set[str] = set()
    for language in SUPPORTED_LANGUAGES:
        names |= {key.split(".", 1)[0] for key in load_catalogue(language)}
    return frozenset(names)


KEY_SHAPE = re.compile(
    r"(?<![\w./\\-])([a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)+)(?![\w/\\-]|\.[A-Za-z0-9_])"
)
TEXT_ATTRIBUTES = frozenset({"alt", "title", "aria-label", "aria-description", "placeholder"})


class _VisibleText(html.parser.HTMLParser):
    """Text nodes outside <script>/<style>, plus attributes a reader meets (alt, title...)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._hidden += 1
        self.parts += [value for name, value in attrs if name in TEXT_ATTRIBUTES and value]

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self._hidden:
            self._hidden -= 1

    def handle_data(self, data):
        if not self._hidden:
            self.parts.append(data)


def find_catalogue_keys(page: str, *, visible_only: bool = True) -> list[str]:
    """Strings in ``page`` that look like catalogue keys: a catalogue namespace
    (``summary``, ``effects``, ...) followed by dotted lower-case segments.

    A rendered report should contain none: :meth:`Translator.t` raises on a missing key, so a
    key can only appear when code prints one instead of translating it. Dotted file names
    (``effects.parquet``, ``report.html``) are not keys. With ``visible_only`` (default) only
    the text a reader meets is searched (text outside ``<script>``/``<style>``, and ``alt``,
    ``title`` and ``aria-label`` attributes); otherwise the raw string.

    Examples
    --------
    >>> find_catalogue_keys("<p>summary.headline</p><p>see effects.parquet</p>")
    ['summary.headline']
    >>> find_catalogue_keys('<img alt="figure.alt.balance"><script>summary.x</script>')
    ['figure.alt.balance']
    """
    if visible_only:
        parser = _VisibleText()
        parser.feed(page)
        parser.close()
        page = "\n".join(parser.parts)
    namespaces = _namespaces()
    found = set()
    for match in KEY_SHAPE.finditer(page):
        key = match.group(1)
        segments = key.split(".")
        if segments[0] in namespaces and segments[-1] not in FILE_EXTENSIONS:
            found.add(key)
    return sorted(found)
