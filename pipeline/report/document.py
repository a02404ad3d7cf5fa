"""The report as data: sections of escaped HTML blocks, before any template is applied.

Chapters (:mod:`pipeline.report.chapters`) build :class:`Section` objects from the evidence;
:mod:`pipeline.report.render` turns a :class:`Report` into one HTML file. Every piece of text
passes through :mod:`markupsafe` escaping here, so a cohort or municipality name can never
inject markup.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import pandas as pd
from markupsafe import Markup, escape


@dataclass(frozen=True)
class Section:
    """A numbered part of the report: heading, blocks of HTML and subsections."""

    id: str
    heading: str
    blocks: tuple[Markup, ...] = ()
    subsections: tuple[Section, ...] = ()


@dataclass(frozen=True)
class Report:
    """Everything a rendered report holds.

    Attributes
    ----------
    language : str
        ``"en"`` or ``"sv"`` (the page's ``lang``).
    title, subtitle : str
        Plain text.
    meta : tuple of str
        Lines under the title (study, date, data vintage …), plain text.
    sections : tuple of Section
        In reading order; the first is the summary.
    toc_heading : str
        Heading of the table of contents.
    facts : dict
        Machine-readable facts for the index page and tests (study, date, vintage, headline).
    """

    language: str
    title: str
    subtitle: str
    meta: tuple[str, ...]
    sections: tuple[Section, ...]
    toc_heading: str
    back_to_toc: str
    facts: dict = field(default_factory=dict)


class Legend(str):
    """A footnote explaining a symbol; :func:`table` shows it only if a cell holds the symbol."""

    symbol: str

    def __new__(cls, text: str, symbol: str) -> Legend:
        legend = super().__new__(cls, text)
        legend.symbol = symbol
        return legend


def paragraph(text: str, css_class: str | None = None) -> Markup:
    """``<p>`` with escaped text."""
    attribute = Markup(' class="{}"').format(css_class) if css_class else Markup("")
    return Markup("<p{}>{}</p>").format(attribute, text)


def note(text: str) -> Markup:
    """A small-print note."""
    return paragraph(text, "note")


def bullet_list(items: Iterable[str]) -> Markup:
    """``<ul>`` of escaped items."""
    return Markup("<ul>{}</ul>").format(
        Markup("").join(Markup("<li>{}</li>").format(item) for item in items)
    )


def definition_list(pairs: Iterable[tuple[str, str]]) -> Markup:
    """``<dl>`` of (term, text) pairs."""
    return Markup("<dl>{}</dl>").format(Markup("").join(
        Markup("<dt>{}</dt><dd>{}</dd>").format(term, text) for term, text in pairs
    ))


def table(
    frame: pd.DataFrame,
    caption: str,
    *,
    numeric: Sequence[str] = (),
    row_header: bool = True,
    footnotes: Sequence[str] = (),
) -> Markup:
    """An accessible table of already formatted text.

    Parameters
    ----------
    frame : DataFrame
        Cells as text (formatted in the report's language); the column labels are the
        header.
    caption : str
        The table's caption (read out by screen readers).
    numeric : sequence of str
        Columns aligned right.
    row_header : bool
        The first column holds row headers (``<th scope="row">``).
    footnotes : sequence of str
        Lines under the table (legends of the symbols used).
    """
    columns = list(frame.columns)
    align = [Markup(' class="num"') if c in numeric else Markup("") for c in columns]
    head = Markup("").join(
        Markup('<th scope="col"{}>{}</th>').format(a, c) for a, c in zip(align, columns,
                                                                          strict=True)
    )
    rows = []
    for values in frame.itertuples(index=False):
        cells = []
        for i, (value, a) in enumerate(zip(values, align, strict=True)):
            tag = "th" if row_header and i == 0 else "td"
            scope = Markup(' scope="row"') if tag == "th" else Markup("")
            cells.append(Markup("<{0}{1}{2}>{3}</{0}>").format(Markup(tag), scope, a, value))
        rows.append(Markup("<tr>{}</tr>").format(Markup("").join(cells)))
    cells = {str(v) for v in frame.to_numpy().ravel()}
    shown = [n for n in footnotes if not isinstance(n, Legend) or n.symbol in cells]
    notes = Markup("").join(Markup('<p class="note">{}</p>').format(n) for n in shown)
    # a wide table scrolls inside its wrapper; keyboard users reach it (tabindex) and screen
    # readers hear which table it is
    # notes stay outside the scrolling wrapper, so they wrap to the page width on a phone
    return Markup(
        '<div class="table-block"><div class="table-wrap" tabindex="0" role="region" '
        'aria-label="{}"><table><caption>{}</caption><thead><tr>{}</tr></thead>'
        "<tbody>{}</tbody></table></div>{}</div>"
    ).format(caption, caption, head, Markup("").join(rows), notes)


def raw(html: str) -> Markup:
    """Trusted HTML made by this package (a figure's ``to_html``)."""
    return Markup(html)


def escaped(text: str) -> Markup:
    """Text as escaped HTML."""
    return escape(text)
