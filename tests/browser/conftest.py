"""Headless Chromium (Debian's package, never a downloaded build) driving the real app.

Where /usr/bin/chromium is missing these tests skip with the reason, and fail under CI.
"""

from __future__ import annotations

import os
import re
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.conftest import skip_or_fail
from tests.harness import PASSWORD, Api, Person

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
LAPTOP = {"width": 1366, "height": 820}
# A busy CI machine is slow, not broken: give live updates time before calling them missing.
expect.set_options(timeout=10_000)
PHONE = {"width": 390, "height": 780}


@pytest.fixture(scope="package")
def browser() -> Iterator[object]:
    # Package scope: Playwright's sync API keeps an event loop running in this thread, which
    # must be gone before other packages' tests run their own loops.
    if not CHROMIUM.exists():
        skip_or_fail(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def log_in(browser: object, api: Api) -> Iterator[Callable[..., object]]:
    """Opens a fresh browser context (its own cookies and storage) and logs a person in."""
    contexts: list[object] = []

    def log_in_as(person: Person, *, viewport: dict[str, int] | None = None) -> object:
        context = browser.new_context(viewport=viewport or LAPTOP)  # type: ignore[attr-defined]
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.goto(f"{api.server.base_url}/login")
        page.get_by_label("Email").fill(person.email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(re.compile(r".*/$"))
        # Live from here on: the event stream is open before the story makes anything happen.
        expect(page.locator("body")).to_have_attribute("data-live", "connected")
        return page

    yield log_in_as
    for context in contexts:
        context.close()  # type: ignore[attr-defined]
    _wait_for_requests_to_finish(api)


def _wait_for_requests_to_finish(api: Api, timeout: float = 10.0) -> None:
    """A closed browser leaves the requests it had in flight (a live refresh, say) running on
    the server; emptying the tables under them would deadlock on PostgreSQL."""
    state = api.server._server.server_state  # uvicorn's own count of running requests
    deadline = time.monotonic() + timeout
    while state.tasks and time.monotonic() < deadline:
        time.sleep(0.05)


def run_worker_off_thread(api: Api) -> None:
    """The worker runs its own event loop; Playwright's sync API holds the main thread's."""
    failure: list[BaseException] = []

    def work() -> None:
        try:
            api.run_worker()
        except BaseException as exc:  # pragma: no cover - reported below
            failure.append(exc)

    thread = threading.Thread(target=work)
    thread.start()
    thread.join(30)
    if failure:
        raise failure[0]


def screenshot(page: object, name: str, *, publish: bool = False) -> None:
    """Into test-artifacts/ (gitignored). With PUBLISH_SCREENSHOTS=1, `publish` also refreshes
    docs/screenshots/ for the README; a plain test run leaves the work tree untouched."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path))  # type: ignore[attr-defined]
    if publish and os.environ.get("PUBLISH_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, SCREENSHOTS / f"{name}.png")


def open_row(page: object, row_text: str) -> None:
    """Click a row in the list and wait until the conversation is wired up (htmx processes
    swapped-in content a moment after it appears; a robot is faster than that, a person not)."""
    page.locator(".conversation-row", has_text=row_text).click()  # type: ignore[attr-defined]
    expect(page.locator(".conversation[data-ready]")).to_have_count(1)  # type: ignore[attr-defined]


def assert_fits_width(page: object) -> None:
    """Nothing on the page lays out wider than the window (a phone user would have to scroll
    sideways to find a timestamp or a button)."""
    widths = page.evaluate(  # type: ignore[attr-defined]
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert widths[0] <= widths[1], f"the page is {widths[0]} px wide in a {widths[1]} px window"
