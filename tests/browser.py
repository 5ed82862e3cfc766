"""Headless Debian Chromium driven by playwright (``executable_path``; never a downloaded browser)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium")

needs_chromium = pytest.mark.skipif(
    CHROMIUM is None and not os.environ.get("CI"), reason="Debian's chromium is not installed"
)


@contextmanager
def open_page(path: Path, width: int = 1400, height: int = 1800) -> Iterator[tuple[object, list[str]]]:
    """The page at ``path`` and the list its JavaScript errors (uncaught and console.error) go to."""
    with one_browser(width, height) as visit:
        yield visit(path)


@contextmanager
def one_browser(width: int = 1400, height: int = 1800) -> Iterator[object]:
    """One Chromium for many pages: ``visit(path)`` opens ``path`` in a fresh page and returns
    ``(page, errors)``; launching a browser per page costs about a second each."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM or "chromium", args=["--no-sandbox", "--disable-gpu"])
        opened: list[object] = []

        def visit(path: Path) -> tuple[object, list[str]]:
            for old in opened:
                old.close()
            opened.clear()
            errors: list[str] = []
            page = browser.new_page(viewport={"width": width, "height": height})
            page.on("pageerror", lambda err: errors.append(f"uncaught: {err}"))
            page.on("console", lambda msg: errors.append(f"console: {msg.text}") if msg.type == "error" else None)
            page.on("requestfailed", lambda req: errors.append(f"request failed: {req.url}"))
            page.goto(Path(path).resolve().as_uri())
            page.wait_for_load_state("load")
            opened.append(page)
            return page, errors

        try:
            yield visit
        finally:
            browser.close()
