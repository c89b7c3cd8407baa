"""Take docs/review.png: the review page of the default offline run, a few lines judged, in headless Chromium.

Run: python docs/review_screenshot.py (needs Debian's chromium and chromium-driver, and selenium from the test extra)
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    """Build the default run's page, judge the lines before a grounded one, show that one current, save the screenshot."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "fine_tune.jsonl"
        subprocess.run([sys.executable, "-m", "augment.run", "--offline", "--quiet", "--out", str(out)], cwd=ROOT, check=True)
        options = webdriver.ChromeOptions()
        options.binary_location = "/usr/bin/chromium"
        for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1400", "--hide-scrollbars"):
            options.add_argument(argument)
        driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
        try:
            driver.get(out.with_name("fine_tune.review.html").as_uri())
            cards = driver.find_elements(By.CSS_SELECTOR, "article")
            heads = [card.find_element(By.CSS_SELECTOR, ".head").text for card in cards]
            grounded = next(i for i, head in enumerate(heads) if i > 3 and "context grounded" in head)
            verdicts = ["pass"] * (grounded - 2) + ["minor", "fail"]
            for card, verdict in zip(cards, verdicts):
                card.find_element(By.CSS_SELECTOR, f"button.{verdict}").click()
            cards[grounded - 1].find_element(By.CSS_SELECTOR, "textarea").send_keys("giọng hơi cứng, khách kiểu này sẽ không hỏi như vậy")
            cards[grounded].click()
            driver.execute_script("arguments[0].scrollIntoView({block: 'start'})", cards[grounded - 1])
            driver.save_screenshot(str(ROOT / "docs" / "review.png"))
        finally:
            driver.quit()


if __name__ == "__main__":
    main()
