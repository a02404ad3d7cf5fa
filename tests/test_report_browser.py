"""The real-browser check: small hand-written pages opened from disk in headless Chromium.

One Chromium serves the whole module. Without Debian's chromium the tests are skipped, except
under CI (``CI`` set), where ``.ci/run`` installs it and its absence is a failure.
"""

from __future__ import annotations

import os

import pytest

from pipeline.report.browser import (
    BrowserCheck,
    ChromiumNotFound,
    check_offline,
    find_chromium,
    launch_chromium,
)

NO_CHROMIUM = "Debian's chromium is not installed (.ci/run installs it)"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# A 1x1 PNG, embedded as a report embeds its figures.
DOT = (
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAC"
    "hwGA60e6kgAAAABJRU5ErkJggg=="
)


@pytest.fixture(scope="module")
def browser():
    try:
        find_chromium()
    except ChromiumNotFound:
        if os.environ.get("CI"):
            pytest.fail(NO_CHROMIUM)
        pytest.skip(NO_CHROMIUM)
    with launch_chromium() as launched:
        yield launched


def page(body: str, head: str = "") -> str:
    """A complete, otherwise clean HTML page around ``body``."""
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Report</title>
<style>@media print {{ .no-print {{ display: none; }} }}</style>
{head}
</head>
<body>
{body}
</body>
</html>
"""


CLEAN = page(f"""<h1>Mentorship evaluation</h1>
<nav class="no-print"><a href="#effects">Effects</a></nav>
<h2 id="effects">Effects</h2>
<p>Employment rose by 4.1 percentage points.</p>
<img src="{DOT}" alt="Effect on employment by cohort" width="40" height="40">
<h3>By cohort</h3>
<h2>Method</h2>""")


def check(browser, tmp_path, html: str, **options) -> BrowserCheck:
    path = tmp_path / "report.html"
    path.write_text(html, encoding="utf-8")
    return check_offline(path, browser=browser, **options)


def test_clean_page_passes_and_gives_a_screenshot_and_a_pdf(browser, tmp_path):
    screenshot, pdf = tmp_path / "first-screen.png", tmp_path / "report.pdf"

    result = check(browser, tmp_path, CLEAN, screenshot=screenshot, pdf=pdf)

    assert result.problems() == []
    assert result.screenshot == screenshot
    assert screenshot.read_bytes().startswith(PNG_SIGNATURE)
    assert pdf.read_bytes().startswith(b"%PDF") and result.pdf_pages == 1
    assert [level for level, _ in result.headings] == [1, 2, 3, 2]


def test_mobile_screenshot_of_a_clean_page(browser, tmp_path):
    screenshot = tmp_path / "phone.png"

    result = check(browser, tmp_path, CLEAN, screenshot=screenshot, viewport=(375, 812),
                   mobile=True)

    assert result.problems() == []
    assert screenshot.stat().st_size > 0


def test_external_script_is_blocked_and_recorded(browser, tmp_path):
    html = page("<h1>Report</h1>", head='<script src="https://example.org/x.js"></script>')

    result = check(browser, tmp_path, html)

    assert result.external_requests == ("https://example.org/x.js",)
    assert "external request blocked: https://example.org/x.js" in result.problems()


def test_sibling_file_is_blocked_and_its_image_broken(browser, tmp_path):
    (tmp_path / "figure.png").write_bytes(b"")  # exists, but a report must not reference it
    html = page('<h1>Report</h1><img src="missing.png" alt="x"><img src="figure.png" alt="y">')

    result = check(browser, tmp_path, html)

    assert [url.rsplit("/", 1)[-1] for url in result.external_requests] == [
        "missing.png", "figure.png"]
    assert result.broken_images == ("image 1 (missing.png)", "image 2 (figure.png)")
    assert "broken image: image 1 (missing.png)" in result.problems()


def test_console_error_and_uncaught_exception_are_reported(browser, tmp_path):
    html = page('<h1>Report</h1><script>console.error("boom"); undefinedFunction();</script>')

    result = check(browser, tmp_path, html)

    assert [m.split(" (")[0] for m in result.console_errors] == ["boom"]
    assert result.page_errors == ("undefinedFunction is not defined",)
    assert any(p.startswith("console error: boom") for p in result.problems())


def test_image_without_alt_text_is_reported(browser, tmp_path):
    html = page(f'<h1>Report</h1><img src="{DOT}"><img src="{DOT}" alt=" ">')

    result = check(browser, tmp_path, html)

    assert len(result.images_without_alt) == 2
    assert result.broken_images == ()
    assert result.problems()[0].startswith("image without alt text: image 1 (data:image/png")


def test_skipped_heading_level_is_reported(browser, tmp_path):
    result = check(browser, tmp_path, page("<h1>Report</h1><h3>Details</h3>"))

    assert result.problems() == ["heading level skipped: h3 after h1 ('Details')"]


def test_page_needs_exactly_one_h1(browser, tmp_path):
    result = check(browser, tmp_path, page("<h2>Report</h2><p>No title.</p>"))

    assert result.problems() == [
        "0 h1 headings (expected exactly one)",
        "heading level skipped: h2 after the start ('Report')",
    ]


def test_wide_page_overflows_on_a_phone(browser, tmp_path):
    result = check(browser, tmp_path, page('<h1>Report</h1><div style="width: 2000px">x</div>'))

    assert result.overflows_on_phone
    assert result.phone_widths[0] >= 2000
    assert any(p.startswith("horizontal overflow on a phone") for p in result.problems())


def test_element_marked_no_print_must_be_hidden_in_print(browser, tmp_path):
    html = page('<h1>Report</h1><nav id="toc" class="no-print">Contents</nav>').replace(
        "<style>@media print { .no-print { display: none; } }</style>", "")

    result = check(browser, tmp_path, html)

    assert result.problems() == ["shown in print despite .no-print: nav#toc"]


def test_page_without_viewport_meta_is_reported(browser, tmp_path):
    html = page("<h1>Report</h1>").replace(
        '<meta name="viewport" content="width=device-width, initial-scale=1">', "")

    result = check(browser, tmp_path, html)

    assert result.problems() == ['no <meta name="viewport">: phones show the page zoomed out']


def test_missing_report_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="no report"):
        check_offline(tmp_path / "absent.html")
