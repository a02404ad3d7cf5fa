"""Notebooks: committed without outputs, a tagged parameters cell matching the stage, no logic."""

from __future__ import annotations

import ast
import json

import nbformat
import pytest

from pipeline.config import REPO_ROOT, load_config
from pipeline.runner import STAGES, stage_parameters
from tools import notebook_sources

CONFIG = load_config(REPO_ROOT / "config" / "demo.yml")


@pytest.mark.parametrize("stage", list(STAGES))
def test_notebook_is_clean_and_parameterised(stage):
    path = REPO_ROOT / "notebooks" / STAGES[stage].notebook
    notebook = nbformat.read(path, as_version=4)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code), "outputs committed"
    tagged = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, "exactly one cell tagged 'parameters'"
    names = {node.target.id for node in ast.parse(tagged[0].source).body
             if isinstance(node, ast.AnnAssign)}
    assert names == set(stage_parameters(CONFIG, stage, "config/demo.yml")), (
        "the parameters cell and the study configuration disagree"
    )
    lines = tagged[0].source.splitlines()
    for node in ast.parse(tagged[0].source).body:  # a parameter's first line carries a comment
        first = lines[node.lineno - 1]
        assert "#" in first, f"parameter without a comment: {first}"
    for cell in code:
        tree = ast.parse(cell.source)
        defined = [n for n in ast.walk(tree)
                   if isinstance(n, (ast.FunctionDef, ast.ClassDef, ast.Lambda))]
        assert not defined, "notebooks hold no function or class definitions"


def test_notebooks_match_their_reviewed_source():
    for name, cells in notebook_sources.ALL.items():
        committed = json.loads((REPO_ROOT / "notebooks" / name).read_text())
        sources = ["".join(c["source"]) for c in committed["cells"]]
        assert sources == [c.source for c in cells], (
            f"{name} differs from tools/notebook_sources.py: regenerate or port the change"
        )
