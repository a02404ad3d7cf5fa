"""Turning the executed report notebook into one self-contained HTML file without code."""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
from nbconvert import HTMLExporter

from pipeline.config import StudyConfig
from pipeline.stage import STATE_FILE, staging_dir

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
    """Render the executed report notebook into the report stage's staging folder.

    The runner then commits ``report.html`` to ``reports/<study>/`` with the stage manifest.
    """
    staging = staging_dir(config, "report")
    state_path = staging / STATE_FILE
    state = json.loads(state_path.read_text())
    html = notebook_to_html(executed, config.title)
    target = staging / "report.html"
    target.write_text(html, encoding="utf-8")
    state["outputs"]["report.html"] = {"bytes": target.stat().st_size}
    state_path.write_text(json.dumps(state, indent=2))
    return target
