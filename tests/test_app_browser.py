"""The web app end to end: `imr-rag serve` in a subprocess, driven by a real (Debian) chromium.

The server seeds itself with the synthetic letters on first start. Chromium must be the system
one at /usr/bin/chromium (never `playwright install`); without it the browser test is skipped
locally and fails on CI.
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers import (
    REPO_ROOT, SYNTHETIC_LETTERS, VENV_BIN, background_server, clean_env, flagged_letter_text, free_port, run_cli,
)

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--headless=new", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
]
ARTIFACTS = REPO_ROOT / "test-artifacts"
STARTUP_SECONDS = 180
QUESTION = "Was the request for Lyrica 75mg #60 upheld or overturned?"  # gold: overturned


def require_chromium() -> None:
    if CHROMIUM.exists():
        return
    message = f"chromium not found at {CHROMIUM} (apt-get install chromium; never `playwright install`)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of `imr-rag serve` on a free port, with an empty data folder (so it seeds itself)."""
    require_chromium()
    exe = VENV_BIN / "imr-rag"
    if not exe.exists():
        pytest.skip(f"imr-rag console script not found in {VENV_BIN}")
    work = tmp_path_factory.mktemp("served-app")
    port = free_port()
    log = work / "serve.log"
    url = f"http://127.0.0.1:{port}/"
    command = [str(exe), "serve", "--port", str(port)]
    with background_server(command, ready_url=url, log=log, timeout=STARTUP_SECONDS, name="imr-rag serve",
                           cwd=work, env=clean_env(IMR_DATA_DIR=str(work / "data"))):
        # The URL is printed just after the server starts answering: give it a moment.
        deadline = time.monotonic() + 10
        while url not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert url in log.read_text(), "serve should print the URL it listens on"
        yield url


@pytest.fixture
def page(app_url: str):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(accept_downloads=True, viewport={"width": 1400, "height": 1000})
            page = context.new_page()
            page.set_default_timeout(30_000)
            page.goto(app_url, wait_until="load")  # never networkidle: gradio keeps a connection open
            page.locator("#question textarea").wait_for()
            yield page
        finally:
            browser.close()


def squash(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.slow
@pytest.mark.browser
def test_ask_read_the_cited_passage_and_download_the_table(page, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(exist_ok=True)
    try:
        # Chat: the answer states the determination and cites [1].
        page.locator("#question textarea").fill(QUESTION)
        page.locator("#ask").click()
        answer = page.locator("#answer")
        expect(answer).to_contain_text("[1]")
        shown = answer.inner_text().lower()
        assert "read as:" in shown  # the reading line first, then the answer
        said = shown.partition("read as:")[2].partition("\n")[2]
        assert "overturned" in said and "upheld" not in said

        # Sources: clicking [1] shows its letter with the passage highlighted and scrolled to.
        first = page.locator("#sources label").filter(has_text=re.compile(r"^\s*\[1\]"))
        label = first.inner_text()
        first.click()
        anchor = page.locator("#letter-view mark.passage#anchor")
        expect(anchor).to_be_visible()
        expect(anchor).to_be_in_viewport()
        passage = squash("".join(page.locator("#letter-view mark.passage").all_text_contents()))
        quoted = squash(label.split("“", 1)[1].rsplit("”", 1)[0])  # the quote as the source label shows it
        assert passage.startswith(quoted.rstrip("…"))
        assert "Lyrica 75mg #60" in passage
        expect(page.locator("#letter-view")).to_contain_text("CM99-0000001")
        page.screenshot(path=str(ARTIFACTS / "app.png"))

        # Decisions: the item table, and the CSV download.
        page.get_by_role("tab", name="Decisions").click()
        expect(page.locator("#decisions-table")).to_contain_text("Lyrica 75mg #60")
        expect(page.locator("#outcome-counts")).to_contain_text("overturned")
        with page.expect_download() as info:
            page.locator("#download-csv").click()
        download = info.value
        assert download.suggested_filename.endswith(".csv")
        saved = tmp_path / download.suggested_filename
        download.save_as(saved)
        with saved.open(encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        assert rows, "the CSV should have rows under its header"
        assert {"case_number", "service", "determination"} <= set(rows[0])
        lyrica = [r for r in rows if r["service"] == "Lyrica 75mg #60"]
        assert [r["determination"] for r in lyrica] == ["overturned"]
        page.screenshot(path=str(ARTIFACTS / "app-decisions.png"), full_page=True)
    except Exception:
        page.screenshot(path=str(ARTIFACTS / "app-failure.png"), full_page=True)
        raise


@pytest.mark.slow
@pytest.mark.browser
def test_library_upload_reports_each_failure_with_its_reason(page, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    not_a_pdf = tmp_path / "scanned.pdf"
    not_a_pdf.write_bytes(b"plain bytes, no PDF header")
    letter = Path(shutil.copy(SYNTHETIC_LETTERS / "tx_iro_upheld.txt", tmp_path / "tx_copy.txt"))
    # A CSV is taken by the upload widget; one of another layout than DMHC's is refused with its reason.
    other_csv = tmp_path / "claims.csv"
    other_csv.write_text("case,outcome,date\nCM16-1,Upheld,2016-01-01\n", encoding="utf-8")
    page.get_by_role("tab", name="Library").click()
    expect(page.locator("#library-stats")).to_contain_text("letters")
    page.locator("#upload-files input[type=file]").set_input_files([str(not_a_pdf), str(letter), str(other_csv)])
    expect(page.locator("#upload-files")).to_contain_text("tx_copy")  # name and extension render apart
    page.locator("#upload-run").click()
    expect(page.locator("#upload-summary")).to_contain_text("failed 1", timeout=60_000)
    expect(page.locator("#upload-summary")).to_contain_text("claims.csv: not read, see Failures")
    failures = page.locator("#upload-failures")
    expect(failures).to_contain_text("scanned.pdf")
    expect(failures).to_contain_text("not a PDF")
    expect(failures).to_contain_text("not the DMHC IMR layout")


@pytest.mark.slow
@pytest.mark.browser
def test_decisions_filter_shows_the_items_that_need_review(page, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    odd = tmp_path / "odd_letter.txt"
    odd.write_text(flagged_letter_text("CM99-0000888"), encoding="utf-8")
    page.get_by_role("tab", name="Library").click()
    page.locator("#upload-files input[type=file]").set_input_files([str(odd)])
    expect(page.locator("#upload-files")).to_contain_text("odd_letter")
    page.locator("#upload-run").click()
    expect(page.locator("#upload-summary")).to_contain_text("extracted 1", timeout=60_000)
    page.get_by_role("tab", name="Decisions").click()
    page.locator("#refresh-decisions").click()
    table = page.locator("#decisions-table")
    # The table renders only the rows in view: the letters sorted first are there, the new one is not.
    expect(table).to_contain_text("Lyrica 75mg #60")
    expect(page.locator("#outcome-counts")).to_contain_text(re.compile(r"\b[1-9]\d* need review"))
    page.locator("#filter-needs-review input[type=checkbox]").check()
    expect(page.locator("#outcome-counts")).to_contain_text("that need review")
    expect(table).not_to_contain_text("Lyrica 75mg #60")
    expect(table).to_contain_text("CM99-0000888")
    expect(table).to_contain_text("date_order")
    page.screenshot(path=str(ARTIFACTS / "app-needs-review.png"), full_page=True)
    page.locator("#filter-needs-review input[type=checkbox]").uncheck()
    expect(table).to_contain_text("Lyrica 75mg #60")


DOCS_SCREENSHOT = REPO_ROOT / "docs" / "app.png"
"""Written by the screens test when IMR_DOCS_SCREENSHOT=1: the README's picture of the app."""


def horizontal_overflow(page) -> int:
    """How many pixels the page scrolls sideways (0 when it fits the viewport)."""
    return page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")


def walk_every_screen(page, shots: str) -> None:
    """Chat (ask, open a source), Decisions (open a case's letter from the table), Library, Filters;
    at each screen the page must not scroll sideways."""
    from playwright.sync_api import expect

    assert horizontal_overflow(page) <= 0, "the start page scrolls sideways"
    page.locator("#question textarea").fill(QUESTION)
    page.locator("#ask").click()
    expect(page.locator("#answer")).to_contain_text("offline answer")
    # The answer itself is test_ask_read_the_cited_passage_and_download_the_table's business: this
    # walk only needs the screens (a source opened when the answer cites one).
    if page.locator("#sources label").count():
        page.locator("#sources label").first.click()
        expect(page.locator("#letter-view mark.passage#anchor")).to_be_visible()
        page.wait_for_timeout(400)  # the scroll to the passage
        if os.environ.get("IMR_DOCS_SCREENSHOT") == "1" and page.viewport_size["width"] >= 1200:
            page.screenshot(path=str(DOCS_SCREENSHOT))  # the README's picture: an answer and its source
    page.screenshot(path=f"{shots}-chat.png")
    assert horizontal_overflow(page) <= 0, "the chat scrolls sideways"

    page.get_by_role("tab", name="Decisions").click()
    table = page.locator("#decisions-table")
    expect(table).to_contain_text("Service in dispute")  # headers a person reads, not field names
    expect(table).not_to_contain_text("case_number")
    expect(page.locator("#overview")).to_contain_text("By reviewer specialty")
    table.locator(".virtual-row .body-cell").filter(has_text="CM99-0000001").first.click()
    letter = page.locator("#table-letter")
    expect(letter).to_contain_text("CM99-0000001")
    expect(letter.locator("mark.service").first).to_be_visible()
    marked = squash(" ".join(letter.locator("mark.service").all_text_contents()))
    assert "Lyrica 75mg #60" in marked
    page.screenshot(path=f"{shots}-decisions.png", full_page=True)
    assert horizontal_overflow(page) <= 0, "the decisions tab scrolls sideways"

    page.get_by_role("tab", name="Library").click()
    expect(page.locator("#library-stats")).to_contain_text("letters")
    page.locator("#filters").get_by_text("Filters").first.click()
    expect(page.locator("#filter-case")).to_be_visible()
    page.screenshot(path=f"{shots}-library.png", full_page=True)
    assert horizontal_overflow(page) <= 0, "the library tab scrolls sideways"


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.parametrize("viewport", [(1440, 900), (390, 844)], ids=["desktop", "phone"])
def test_every_screen_logs_nothing_to_the_console_and_fits_the_width(app_url: str, viewport) -> None:
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    width, height = viewport
    messages: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            page.set_default_timeout(30_000)
            # every console message, of every type, unfiltered; and uncaught page errors
            page.on("console", lambda m: messages.append(f"{m.type}: {m.text}"))
            page.on("pageerror", lambda e: messages.append(f"pageerror: {e}"))
            page.goto(app_url, wait_until="load")
            page.locator("#question textarea").wait_for()
            try:
                walk_every_screen(page, str(ARTIFACTS / f"screens-{width}"))
            except Exception:
                page.screenshot(path=str(ARTIFACTS / f"screens-{width}-failure.png"), full_page=True)
                raise
            page.wait_for_timeout(500)  # late messages (a chart that renders after the data)
        finally:
            browser.close()
    assert messages == []


def test_serve_beyond_loopback_without_a_login_is_refused(tmp_path: Path) -> None:
    result = run_cli(["serve", "--host", "0.0.0.0"], data_dir=tmp_path / "data", cwd=tmp_path, timeout=120)
    assert result.returncode == 2
    assert "non-loopback" in result.stderr and "--auth" in result.stderr and "IMR_AUTH" in result.stderr
    assert not (tmp_path / "data").exists(), "nothing should start (or seed) before the check"


def test_serve_rejects_a_malformed_login(tmp_path: Path) -> None:
    result = run_cli(["serve", "--host", "0.0.0.0", "--auth", "nopassword"], data_dir=tmp_path / "d", cwd=tmp_path)
    assert result.returncode == 2
    assert "user:pass" in result.stderr


# -- a hostile letter: markup in its text must reach the reader as text ------------------------
class Beacon:
    """An HTTP server on 127.0.0.1 that records every request (what a tracking pixel would see)."""

    def __init__(self) -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        hits = self.hits = []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                hits.append(self.path)
                self.send_response(200)
                self.send_header("Content-Type", "image/gif")
                self.end_headers()
                self.wfile.write(b"GIF89a\x01\x00\x01\x00\x00\x00\x00;")

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def hostile_letter(folder: Path, beacon: str) -> Path:
    """A synthetic letter saved as HTML whose determination line carries an image tag (as an
    entity, so it survives tag stripping and is literal text of the letter), a markdown image, a
    markdown link and a bare URL, all pointing at the beacon."""
    import html

    text = (SYNTHETIC_LETTERS / "dwc_cm99_0000001.txt").read_text(encoding="utf-8").replace("CM99-0000001", "CM99-0000666")
    payload = (f'Lyrica 75mg #60: Overturned <img src="{beacon}/img.gif"> ![seal]({beacon}/md.gif) '
               f"[re-authenticate]({beacon}/login) {beacon}/bare")
    text = text.replace("Lyrica 75mg #60: Overturned", payload, 1)
    path = folder / "hostile.html"
    path.write_text("<html><body>\n" + html.escape(text, quote=False) + "\n</body></html>", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def hostile_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Beacon]]:
    """`imr-rag serve` over a library holding only the hostile letter, and the beacon it points at."""
    require_chromium()
    from helpers import make_settings

    from imr_rag.faces.app_service import AppService

    exe = VENV_BIN / "imr-rag"
    if not exe.exists():
        pytest.skip(f"imr-rag console script not found in {VENV_BIN}")
    beacon = Beacon()
    work = tmp_path_factory.mktemp("hostile-app")
    letter = hostile_letter(work, beacon.url)
    with AppService(make_settings(work / "data"), seed=False) as svc:
        added = svc.add_paths([letter], backend="rules")
        assert added.extracted == ["hostile.html"], added.failures
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    try:
        with background_server([str(exe), "serve", "--port", str(port)], ready_url=url, log=work / "serve.log",
                               timeout=STARTUP_SECONDS, name="imr-rag serve", cwd=work,
                               env=clean_env(IMR_DATA_DIR=str(work / "data"), PYTHONPATH=str(REPO_ROOT))):
            yield url, beacon
    finally:
        beacon.close()


@pytest.mark.slow
@pytest.mark.browser
def test_letter_markup_in_an_answer_is_shown_as_text_and_never_fetched(hostile_app) -> None:
    from playwright.sync_api import expect, sync_playwright

    url, beacon = hostile_app
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(30_000)
            page.goto(url, wait_until="load")
            page.locator("#question textarea").fill(QUESTION)
            page.locator("#ask").click()
            answer = page.locator("#answer")
            expect(answer).to_contain_text("[2]")
            page.wait_for_timeout(1500)  # time for any image request to go out
            assert beacon.hits == [], f"rendering the answer fetched {beacon.hits}"
            # the answer quotes the hostile line, character for character
            expect(answer).to_contain_text(f'<img src="{beacon.url}/img.gif">')
            expect(answer).to_contain_text(f"[re-authenticate]({beacon.url}/login)")
            assert answer.locator("img").count() == 0
            assert answer.locator(f'a[href^="{beacon.url}"]').count() == 0
            # the cited letter, opened from the sources, is escaped too
            page.locator("#sources label").first.click()
            expect(page.locator("#letter-view mark.passage#anchor")).to_be_visible()
            expect(page.locator("#letter-view")).to_contain_text(f'<img src="{beacon.url}/img.gif">')
            page.wait_for_timeout(1500)  # time for any image request to go out
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "app-hostile-letter.png"))
        finally:
            browser.close()
    assert beacon.hits == [], f"the browser fetched {beacon.hits}"
