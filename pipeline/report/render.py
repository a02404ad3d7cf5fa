"""Rendering a built :class:`~pipeline.report.document.Report` to one self-contained HTML file,
and the index page that lists every rendered report.

The page carries its styles inline and its figures as ``data:`` URIs, so it opens offline,
in a secure environment or as an e-mail attachment; :func:`render_html` refuses a page that
would load anything from elsewhere.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from importlib import resources
from pathlib import Path

from jinja2 import DictLoader, Environment, StrictUndefined, select_autoescape
from markupsafe import Markup

from pipeline.report.document import Report
from pipeline.report.i18n import translator

EXTERNAL_RESOURCE = re.compile(
    r"""<(script|link|img|iframe|source|video|audio)\b[^>]*\b(src|href)\s*=\s*["']"""
    r"""(?!data:|#)""", re.I)
METADATA_FILE = "report.json"


def _environment() -> Environment:
    templates = resources.files("pipeline.report") / "templates"
    loader_source = {name: (templates / name).read_text(encoding="utf-8")
                     for name in ("report.html.j2", "index.html.j2")}
    return Environment(loader=DictLoader(loader_source), undefined=StrictUndefined,
                       autoescape=select_autoescape(default=True, default_for_string=True))


def _css() -> Markup:
    """The stylesheet, trusted (autoescaping would turn its quotes into entities)."""
    return Markup((resources.files("pipeline.report") / "templates" / "report.css").read_text(
        encoding="utf-8"))


def render_html(report: Report) -> str:
    """The report as one HTML document (styles inline, figures embedded).

    Raises
    ------
    ValueError
        If the page would load a script, style, image or frame from anywhere but itself.
    """
    tr = translator(report.language)
    page = _environment().get_template("report.html.j2").render(
        report=report, css=_css(), kind=tr.t("report.kind"),
        footer=[tr.t("report.study", study=report.facts.get("study", "")),
                *report.meta[1:2]],
    )
    found = EXTERNAL_RESOURCE.search(page)
    if found:
        raise ValueError(f"report would load an external resource: {found.group(0)[:80]}")
    return page


def report_metadata(report: Report) -> str:
    """``report.json``: what the index page lists about a report."""
    return json.dumps(report.facts, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def write_index(reports_root: Path, language: str = "en") -> Path:
    """Write ``index.html`` in ``reports_root`` listing every ``*/report.json`` found there.

    Parameters
    ----------
    reports_root : Path
        The folder holding one subfolder per study (``reports/``).
    language : str
        Language of the index page itself.

    Returns
    -------
    Path
        The index page.
    """
    tr = translator(language)
    rows = []
    for path in sorted(Path(reports_root).glob(f"*/{METADATA_FILE}")):
        facts = json.loads(path.read_text(encoding="utf-8"))
        rows.append({
            "href": f"{path.parent.name}/{facts.get('file', 'report.html')}",
            "title": facts.get("title", path.parent.name),
            "study": facts.get("study", path.parent.name),
            "language": tr.t(f"language.{facts['language']}") if facts.get("language")
            in ("sv", "en", "da", "fi", "ar") else facts.get("language", ""),
            "date": facts.get("date", ""),
            "vintage": facts.get("data_vintage", "") or tr.missing(),
        })
    rows.sort(key=lambda row: row["date"], reverse=True)
    page = _environment().get_template("index.html.j2").render(
        language=language, css=_css(), title=tr.t("index.heading"), intro=tr.t("index.intro"),
        caption=tr.t("index.heading"), reports=rows, empty=tr.t("index.empty"),
        columns=[tr.t("index.title"), tr.t("index.study"), tr.t("index.language"),
                 tr.t("index.date"), tr.t("index.data_vintage")],
    )
    target = Path(reports_root) / "index.html"
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".html.tmp")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(target)
    return target


def today() -> str:
    """The report date (UTC), ISO format."""
    return dt.datetime.now(dt.UTC).date().isoformat()
