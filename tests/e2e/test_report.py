"""The HTML report, opened in a real headless Chromium."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import needs
from tracker.cli import app

runner = CliRunner()
HOSTILE = '<script>window.__pwned = 1</script><img src="https://example.invalid/x.png"><b>bold</b>'
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("CI must test the report in Chromium: apt-get install chromium")
        pytest.skip("no Chromium: apt-get install chromium")
    return path


def cli(*args: str):
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.stderr
    return result


@pytest.fixture
def report(store_url: str, tmp_path: Path) -> Path:
    db = ["--db", store_url, "--views", str(tmp_path / "views.db")]
    cli(*db, "demo")
    cli(*db, "record", "commitment-registered", "--commitment-id", "hostile", "--occurred-on", "2023-05-17",
        "--kind", "memorandum", "--title", HOSTILE, "--not-binding", "--party", "KZ", "--target-on", "2024",
        "--source-title", HOSTILE, "--source-address", "https://example.invalid/report")
    out = tmp_path / "report.html"
    result = cli(*db, "report", "--html", str(out))
    assert result.stderr.startswith(f"wrote {out}")
    return out


def test_the_report_is_one_file_that_fetches_nothing(report):
    html = report.read_text()
    assert "<script" not in html.replace("&lt;script", "")
    assert 'src="http' not in html and "<link" not in html


def test_the_report_in_chromium_shows_the_board_with_no_errors_and_no_requests(report, tmp_path):
    needs("playwright", "test")
    from playwright.sync_api import sync_playwright

    errors, requests = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("request", lambda r: requests.append(r.url))
        page.goto(report.as_uri())
        page.wait_for_load_state("load")

        def cell(commitment: str, field: str) -> str:
            return page.inner_text(f'tr[data-commitment="{commitment}"] [data-field="{field}"]')

        assert cell("xian-2023-visa-exemption", "legal") == "signed"
        assert cell("xian-2023-shymkent-xian-sister-cities", "implementation") == "active"  # a tie is established, then active
        assert cell("xian-2023-export-agreements", "implementation") == "committed"
        assert page.locator("tr[data-commitment]").count() == 11
        assert page.inner_text('tr[data-commitment="hostile"] td a') == HOSTILE
        assert "overdue" in page.get_attribute('tr[data-commitment="hostile"]', "class")
        assert page.evaluate("window.__pwned") is None
        assert page.locator("b:has-text('bold')").count() == 0
        assert page.inner_text("body").count("22 according to") == 1
        assert page.locator("svg circle").count() == 22  # one per commitment event
        page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
        browser.close()
    assert errors == []
    assert requests == [report.as_uri()]


def test_the_report_as_of_a_date_shows_the_board_then(store_url, tmp_path):
    db = ["--db", store_url, "--views", str(tmp_path / "views.db")]
    cli(*db, "demo")
    out = tmp_path / "before.html"
    cli(*db, "report", "--html", str(out), "--as-of", "2023-05-01")
    html = out.read_text()
    assert "as of 2023-05-01" in html and "0 commitments" in html
