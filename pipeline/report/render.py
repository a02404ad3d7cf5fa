"""Turning the executed report notebook into one self-contained HTML file without code."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
from nbconvert import HTMLExporter

from pipeline.config import StudyConfig
from pipeline.stage import add_to_stage, staging_dir

EXTERNAL_RESOURCE = re.compile(r"""<(script|link|img)[^>]+(src|href)=["']https?://""", re.I)


def notebook_to_html(executed: Path, title: str) -> str:
    """HTML of an executed notebook: outputs only (no code, no prompts), figures embedded.

    Raises
    ------
    ValueError
        If the page would load anything from the network.
    """
    notebook = nbformat.read(executed, as_version=4)
    notebook.metadata["title"] = title
    exporter = HTMLExporter(
        template_name="lab",
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )
    exporter.mathjax_url = ""
    exporter.require_js_url = ""
    body, _ = exporter.from_notebook_node(notebook)
    body = re.sub(r"<script[^>]*src=[\"']\s*[\"'][^>]*>\s*</script>", "", body)
    found = EXTERNAL_RESOURCE.search(body)
    if found:
        raise ValueError(f"report would load an external resource: {found.group(0)[:80]}")
    return body


def render_report(config: StudyConfig, executed: Path) -> Path:
    """Render the executed report notebook and add ``report.html`` to the report stage.

    The runner then commits it to ``reports/<study>/`` with the stage manifest.
    """
    scratch = staging_dir(config, "report").with_name("report-html")
    scratch.mkdir(parents=True, exist_ok=True)
    source = scratch / "report.html"
    source.write_text(notebook_to_html(executed, config.title), encoding="utf-8")
    target = add_to_stage(config, "report", source, "report.html")
    scratch.rmdir()
    return target
