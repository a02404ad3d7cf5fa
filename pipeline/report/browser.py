"""A real-browser check of a rendered report: opened from disk in headless Chromium, offline.

The report must work as one self-contained file (e-mailed, opened in a secure environment), so
the check blocks every request that is not the report itself or a ``data:``/``blob:`` URL and
records it, and looks at what a reader would see: console errors, uncaught exceptions, broken
images, alt texts, the heading outline, horizontal overflow on a phone, and printing to PDF.

Playwright drives Debian's ``chromium`` (``apt-get install chromium``; ``.ci/run`` installs it);
Playwright's own browser downloads are not used. Playwright is a development dependency, so it
is imported only when a check runs.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit
from urllib.request import url2pathname

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page, Route, WebSocketRoute

DEBIAN_CHROMIUM = Path("/usr/bin/chromium")
PHONE = (375, 812)
# Without the background-networking flags Chromium's browser process contacts Google hosts
# (accounts, component updates) even when every page request is blocked; the resolver rule
# makes any host name that still slips through unresolvable, so nothing leaves the machine.
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND",
)
LOCAL_SCHEMES = frozenset({"data", "blob", "about"})
PDF_PAGE = re.compile(rb"/Type\s*/Page\b")

# Runs in the page: waits for every image (lazy ones too), then reports what a reader meets.
# Heading texts drop the "¶" of the anchor links nbconvert adds.
_INSPECT = """async () => {
  const images = [...document.images];
  for (const img of images) img.loading = "eager";
  await Promise.all(images.map((img) => img.complete ? null : new Promise((done) => {
    img.addEventListener("load", done);
    img.addEventListener("error", done);
    setTimeout(done, 5000);
  })));
  const describe = (img, i) => {
    const src = img.getAttribute("src") || "";
    return `image ${i + 1} (${src.length > 60 ? src.slice(0, 60) + "..." : src})`;
  };
  const numbered = images.map((img, i) => [img, describe(img, i)]);
  return {
    broken: numbered.filter(([img]) => img.complete && img.naturalWidth === 0).map(([, d]) => d),
    noAlt: numbered.filter(([img]) => !(img.getAttribute("alt") || "").trim()).map(([, d]) => d),
    headings: [...document.querySelectorAll("h1, h2, h3, h4, h5, h6")]
      .map((h) => [Number(h.tagName[1]), h.textContent.replace(/\\s+/g, " ").replace(/¶/g, "")
        .trim().slice(0, 60)]),
    viewportMeta: document.querySelector('meta[name="viewport"]') !== null,
  };
}"""
_WIDTHS = "() => [document.documentElement.scrollWidth, window.innerWidth]"
_SHOWN_IN_PRINT = """() => [...document.querySelectorAll(".no-print")]
  .filter((el) => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== "hidden")
  .map((el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : ""))"""


class ChromiumNotFound(RuntimeError):
    """Debian's Chromium is not installed."""


@dataclass(frozen=True)
class BrowserCheck:
    """What headless Chromium found when it opened a report from disk with the network blocked.

    Attributes
    ----------
    path
        The report that was opened.
    console_errors, console_warnings
        Console messages of type error and warning, with their source location.
    page_errors
        Uncaught exceptions.
    external_requests
        Requests that were blocked: anything but the report itself and ``data:``/``blob:`` URLs
        (web addresses and sibling files alike).
    failed_requests
        Allowed requests that failed anyway, with Chromium's reason.
    broken_images
        ``<img>`` elements that finished loading without an image.
    images_without_alt
        ``<img>`` elements without a non-empty ``alt`` text.
    headings
        ``(level, text)`` of every ``h1``-``h6`` in document order.
    viewport_meta
        Whether the page declares ``<meta name="viewport">`` (phones lay it out at their width).
    phone_widths
        ``(scrollWidth, innerWidth)`` of the page on a 375x812 phone screen.
    pdf_pages
        Pages of the page printed to PDF (print media, A4).
    shown_in_print
        ``.no-print`` elements that are visible in print media.
    screenshot
        The PNG of the first screen, when one was asked for.
    """

    path: Path
    console_errors: tuple[str, ...] = ()
    console_warnings: tuple[str, ...] = ()
    page_errors: tuple[str, ...] = ()
    external_requests: tuple[str, ...] = ()
    failed_requests: tuple[str, ...] = ()
    broken_images: tuple[str, ...] = ()
    images_without_alt: tuple[str, ...] = ()
    headings: tuple[tuple[int, str], ...] = ()
    viewport_meta: bool = True
    phone_widths: tuple[int, int] = (PHONE[0], PHONE[0])
    pdf_pages: int = 1
    shown_in_print: tuple[str, ...] = ()
    screenshot: Path | None = None

    @property
    def overflows_on_phone(self) -> bool:
        """Whether the page scrolls sideways on a phone (more than 1 px wider than the screen)."""
        scroll_width, inner_width = self.phone_widths
        return scroll_width > inner_width + 1

    def heading_problems(self) -> list[str]:
        """Problems of the heading outline: not exactly one ``h1``, or a skipped level."""
        problems = []
        n_h1 = sum(level == 1 for level, _ in self.headings)
        if n_h1 != 1:
            problems.append(f"{n_h1} h1 headings (expected exactly one)")
        previous = 0
        for level, text in self.headings:
            if level > previous + 1:
                after = f"h{previous}" if previous else "the start"
                problems.append(f"heading level skipped: h{level} after {after} ({text!r})")
            previous = level
        return problems

    def problems(self) -> list[str]:
        """Human-readable problems, empty when the report is fine.

        Returns
        -------
        list of str
            One line per problem, grouped by kind.
        """
        problems = [f"console error: {m}" for m in self.console_errors]
        problems += [f"console warning: {m}" for m in self.console_warnings]
        problems += [f"uncaught exception: {m}" for m in self.page_errors]
        problems += [f"external request blocked: {url}" for url in self.external_requests]
        problems += [f"request failed: {r}" for r in self.failed_requests]
        problems += [f"broken image: {d}" for d in self.broken_images]
        problems += [f"image without alt text: {d}" for d in self.images_without_alt]
        problems += self.heading_problems()
        if not self.viewport_meta:
            problems.append('no <meta name="viewport">: phones show the page zoomed out')
        if self.overflows_on_phone:
            width, screen = self.phone_widths
            problems.append(f"horizontal overflow on a phone: the page is {width} px wide, "
                            f"the screen {screen} px")
        if self.pdf_pages < 1:
            problems.append("printing to PDF gives no pages")
        problems += [f"shown in print despite .no-print: {e}" for e in self.shown_in_print]
        return problems


@dataclass
class _Recorder:
    """Blocks and records every request but the report's own; collects console output."""

    report: Path
    console_errors: list[str] = field(default_factory=list)
    console_warnings: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def allows(self, url: str) -> bool:
        parts = urlsplit(url)
        if parts.scheme in LOCAL_SCHEMES:
            return True
        return (parts.scheme == "file" and parts.netloc in ("", "localhost")
                and Path(url2pathname(parts.path)) == self.report)

    def block(self, url: str) -> None:
        if url not in self.blocked:
            self.blocked.append(url)

    def route(self, route: Route) -> None:
        if self.allows(route.request.url):
            route.continue_()
        else:
            self.block(route.request.url)
            route.abort("blockedbyclient")

    def route_web_socket(self, socket: WebSocketRoute) -> None:
        self.block(socket.url)
        socket.close()

    def watch(self, page: Page) -> None:
        """Record the page's console messages, uncaught exceptions and failed requests."""

        def console(message) -> None:
            where = message.location
            text = f"{message.text} ({where['url']}:{where['lineNumber']})"
            if message.type == "error":
                self.console_errors.append(text)
            elif message.type == "warning":
                self.console_warnings.append(text)

        def failed(request) -> None:
            if request.url not in self.blocked:
                self.failed.append(f"{request.url} ({request.failure})")

        page.on("console", console)
        page.on("pageerror", lambda error: self.page_errors.append(error.message))
        page.on("requestfailed", failed)


def find_chromium() -> Path:
    """Debian's Chromium: ``chromium`` on the ``PATH``, else ``/usr/bin/chromium``.

    Raises
    ------
    ChromiumNotFound
        If neither exists.
    """
    found = shutil.which("chromium")
    if found:
        return Path(found)
    if DEBIAN_CHROMIUM.is_file():
        return DEBIAN_CHROMIUM
    raise ChromiumNotFound(
        "Debian's chromium is not installed: `apt-get install chromium` "
        "(.ci/run installs it before the tests)"
    )


@contextmanager
def launch_chromium() -> Iterator[Browser]:
    """Start headless Debian Chromium through Playwright, with a fresh empty profile.

    Yields
    ------
    playwright.sync_api.Browser
        Pass it to :func:`check_offline` to check several reports with one browser.
    """
    from playwright.sync_api import sync_playwright

    executable = find_chromium()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=list(CHROMIUM_ARGS))
        try:
            yield browser
        finally:
            browser.close()


def _open(context: BrowserContext, recorder: _Recorder) -> Page:
    context.route("**/*", recorder.route)
    context.route_web_socket("**/*", recorder.route_web_socket)
    page = context.new_page()
    recorder.watch(page)
    page.goto(recorder.report.as_uri(), wait_until="load")
    return page


def _print_check(page: Page, pdf: Path | None) -> tuple[int, tuple[str, ...]]:
    """Pages of the page printed to PDF, and ``.no-print`` elements visible in print media."""
    page.emulate_media(media="print")
    shown = tuple(page.evaluate(_SHOWN_IN_PRINT))
    document = page.pdf(path=pdf, format="A4", print_background=True)
    return len(PDF_PAGE.findall(document)), shown


def check_offline(
    html_path: str | Path,
    screenshot: str | Path | None = None,
    *,
    viewport: tuple[int, int] = (1280, 800),
    mobile: bool = False,
    browser: Browser | None = None,
    pdf: str | Path | None = None,
) -> BrowserCheck:
    """Open a report from disk in headless Chromium with the network blocked, and inspect it.

    Parameters
    ----------
    html_path
        The report. Only this file and ``data:``/``blob:`` URLs may load; every other request
        (web addresses, sibling files) is blocked and recorded.
    screenshot
        Where to save a PNG of the first screen, if anywhere.
    viewport
        Width and height of the screen, in CSS pixels.
    mobile
        Emulate a phone (meta viewport, touch, device pixel ratio 2) for the screenshot.
    browser
        An already launched browser (see :func:`launch_chromium`); without one, Chromium is
        started and stopped for this check.
    pdf
        Where to save the page printed to PDF, if anywhere.

    Returns
    -------
    BrowserCheck
        The findings; ``problems()`` lists them, empty when the report is fine. Whatever
        ``viewport`` is, the horizontal overflow is measured after resizing to a 375x812 phone
        screen (after the screenshot).

    Raises
    ------
    FileNotFoundError
        If the report does not exist.
    ChromiumNotFound
        If no browser is given and Debian's Chromium is not installed.
    """
    report = Path(html_path).resolve()
    if not report.is_file():
        raise FileNotFoundError(f"no report at {report}")
    if browser is None:
        with launch_chromium() as started:
            return check_offline(report, screenshot, viewport=viewport, mobile=mobile,
                                 browser=started, pdf=pdf)

    recorder = _Recorder(report)
    width, height = viewport
    context = browser.new_context(
        viewport={"width": width, "height": height},
        is_mobile=mobile,
        has_touch=mobile,
        device_scale_factor=2 if mobile else 1,
        offline=True,
        service_workers="block",
    )
    try:
        page = _open(context, recorder)
        found = page.evaluate(_INSPECT)
        if screenshot is not None:
            page.screenshot(path=screenshot)
        # Desktop layout at a phone's width is what a phone shows of a page whose viewport meta
        # says width=device-width (a missing one is reported on its own).
        page.set_viewport_size({"width": PHONE[0], "height": PHONE[1]})
        phone_widths = tuple(page.evaluate(_WIDTHS))
        pdf_pages, shown_in_print = _print_check(page, pdf)
    finally:
        context.close()

    return BrowserCheck(
        path=report,
        console_errors=tuple(recorder.console_errors),
        console_warnings=tuple(recorder.console_warnings),
        page_errors=tuple(recorder.page_errors),
        external_requests=tuple(recorder.blocked),
        failed_requests=tuple(recorder.failed),
        broken_images=tuple(found["broken"]),
        images_without_alt=tuple(found["noAlt"]),
        headings=tuple((level, text) for level, text in found["headings"]),
        viewport_meta=found["viewportMeta"],
        phone_widths=phone_widths,
        pdf_pages=pdf_pages,
        shown_in_print=shown_in_print,
        screenshot=None if screenshot is None else Path(screenshot),
    )
