"""The evaluation report: disclosure control, sections, figures and HTML rendering.

The report layer reads results and manifests; nothing else in the pipeline imports it.
"""
