"""The review page in a real headless Chromium (Debian's chromium and chromium-driver, installed by .ci/run)."""

from __future__ import annotations

import csv
import io
import shutil
import time
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select

from augment.dataset.review import main
from augment.dataset.review_view import ReviewOptions, review_page
from test_review import HOSTILE, hostile_samples

NOTE = 'sai giá vé, "250k" không có trong ngữ cảnh'


def _executable(name: str) -> str:
    path = shutil.which(name) or f"/usr/bin/{name}"
    assert Path(path).is_file(), f"{name} not found: apt-get install chromium chromium-driver (as .ci/run does)"
    return path


@pytest.fixture(scope="module")
def downloads(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("downloads")


@pytest.fixture(scope="module")
def browser(downloads):
    """Return a headless Chromium driven through the system chromedriver (no driver download)."""
    options = webdriver.ChromeOptions()
    options.binary_location = _executable("chromium")
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,900", "--disable-gpu"):
        options.add_argument(argument)
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads), "download.prompt_for_download": False})
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(_executable("chromedriver")), options=options)
    driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    yield driver
    driver.quit()


def _problems(driver) -> list[dict]:
    """Return the browser log's warnings and errors since the last call (the log empties when read)."""
    return [entry for entry in driver.get_log("browser") if entry["level"] in ("SEVERE", "WARNING")]


def _visible(driver) -> list:
    return [card for card in driver.find_elements(By.CSS_SELECTOR, "article") if card.is_displayed()]


def _csv_rows(text: str) -> dict[str, dict]:
    return {row["line"]: row for row in csv.DictReader(io.StringIO(text.lstrip("\ufeff")))}


def test_page_opens_offline_keeps_a_verdict_and_exports_it(browser, downloads, default_output, tmp_path, capsys):
    page = default_output.with_name("fine_tune.review.html")
    browser.get(page.as_uri())
    browser.execute_script("window.localStorage.clear()")
    browser.refresh()
    assert _problems(browser) == []
    cards = _visible(browser)
    assert len(cards) == 50
    assert "0 / 50" in browser.find_element(By.ID, "count").text

    second = cards[1]
    line = second.find_element(By.CSS_SELECTOR, ".head .chip").text.split()[-1]  # "line 123"
    second.find_element(By.CSS_SELECTOR, "button.fail").click()
    note = second.find_element(By.CSS_SELECTOR, "textarea")
    note.click()  # a click in a line makes it the current one
    note.send_keys(NOTE + "1j")  # typed in the note, the shortcut keys are text
    note.send_keys(Keys.BACKSPACE, Keys.BACKSPACE, Keys.ESCAPE)  # Escape leaves the note field
    assert browser.execute_script("return document.activeElement === document.body")
    ActionChains(browser).send_keys("k1").perform()  # to the first line, pass it; the page moves on to the second
    cards = _visible(browser)
    assert "current" in cards[1].get_attribute("class") and "current" not in cards[0].get_attribute("class")

    browser.refresh()
    cards = _visible(browser)
    assert "on" in cards[1].find_element(By.CSS_SELECTOR, "button.fail").get_attribute("class")
    assert cards[1].find_element(By.CSS_SELECTOR, "textarea").get_attribute("value") == NOTE
    assert "on" in cards[0].find_element(By.CSS_SELECTOR, "button.pass").get_attribute("class")
    assert "2 / 50" in browser.find_element(By.ID, "count").text
    assert "current" in cards[1].get_attribute("class")  # where the reviewer left off
    ActionChains(browser).send_keys("j").perform()
    assert "current" in cards[2].get_attribute("class") and "current" not in cards[1].get_attribute("class")

    rows = _csv_rows(browser.execute_script("return window.augmentReview.csv()"))
    assert len(rows) == 50 and (rows[line]["verdict"], rows[line]["note"]) == ("fail", NOTE)
    browser.find_element(By.ID, "export").click()
    exported = downloads / "fine_tune.verdicts.csv"
    deadline = time.monotonic() + 10
    while not exported.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _csv_rows(exported.read_text("utf-8")) == rows
    assert _problems(browser) == []

    assert main(["--summary", str(exported)]) == 0
    summary = capsys.readouterr().out
    assert "50 lines, 2 judged, 48 not judged yet" in summary and summary.splitlines()[2].split()[1:] == ["2", "50.0%", "1", "0", "1"]
    assert main(["--summary", str(exported), str(default_output)]) == 0
    assert capsys.readouterr().out == summary


def test_filters_show_only_grounded_one_register_one_seed(browser, default_output):
    browser.get(default_output.with_name("fine_tune.review.html").as_uri())
    browser.execute_script("window.localStorage.clear()")
    browser.refresh()
    browser.find_element(By.ID, "f-grounded").click()
    grounded = _visible(browser)
    assert 0 < len(grounded) < 50 and all(card.find_elements(By.CSS_SELECTOR, ".context") for card in grounded)
    browser.find_element(By.ID, "f-grounded").click()
    Select(browser.find_element(By.ID, "f-register")).select_by_value("teencode")
    assert _visible(browser) and all("register teencode" in card.find_element(By.CSS_SELECTOR, ".head").text for card in _visible(browser))
    Select(browser.find_element(By.ID, "f-register")).select_by_value("")
    seed = Select(browser.find_element(By.ID, "f-seed"))
    seed.select_by_index(1)
    chosen = seed.first_selected_option.get_attribute("value")
    assert _visible(browser) and all(f"seed {chosen}" in card.find_element(By.CSS_SELECTOR, ".head").text for card in _visible(browser))
    browser.refresh()  # the filters are kept too
    assert all(f"seed {chosen}" in card.find_element(By.CSS_SELECTOR, ".head").text for card in _visible(browser))
    assert _problems(browser) == []


def test_hostile_text_shows_as_text_and_runs_nothing(browser, tmp_path):
    page = tmp_path / "hostile.review.html"
    page.write_text(review_page(hostile_samples(), {}, ReviewOptions(title="hostile.jsonl")), "utf-8")
    browser.get(page.as_uri())
    assert browser.execute_script("return window.pwned === undefined && document.querySelectorAll('img').length === 0")
    cards = _visible(browser)
    assert len(cards) == 2
    assert HOSTILE.replace("\u2028", "").strip() in cards[0].find_element(By.CSS_SELECTOR, ".variant .q").text.replace("\u2028", "")
    assert _problems(browser) == []


def test_a_note_a_spreadsheet_would_run_is_exported_as_text(browser, default_output):
    browser.get(default_output.with_name("fine_tune.review.html").as_uri())
    browser.execute_script("localStorage.clear()")
    browser.refresh()
    first = _visible(browser)[0]
    line = first.find_element(By.CSS_SELECTOR, ".head .chip").text.split()[-1]  # "line 123"
    note = first.find_element(By.CSS_SELECTOR, "textarea")
    note.send_keys('=HYPERLINK("x")')
    note.send_keys(Keys.ESCAPE)
    rows = _csv_rows(browser.execute_script("return window.augmentReview.csv()"))
    assert rows[line]["note"] == "'=HYPERLINK(\"x\")"
