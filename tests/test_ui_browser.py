"""`cap ui` in a real browser: Debian's headless Chromium, driven by Selenium, against a real `cap ui` process
whose model is the loopback OpenAI server with scripted answers (offline, deterministic).

The browser comes from Debian's packages (`make browser` installs `chromium` and `chromium-driver`), never
from a tool that downloads its own build. Without them the test is skipped, unless CAP_REQUIRE_BROWSER=1
(CI sets it) makes that a failure. With CAP_SCREENSHOT_DIR=DIR the page's screenshot is also written there
(`make screenshot` refreshes docs/ui.png for the README).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import ui_answers

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1400,1900",
)
WAIT = 180  # seconds; generous, the machine is shared (nothing here measures speed)


def _need(what: str, ok: bool) -> None:
    if ok:
        return
    if os.environ.get("CAP_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{what} is missing (run `make browser`)")
    pytest.skip(f"{what} is missing (run `make browser`)")


@pytest.fixture
def browser(tmp_path):
    _need("Debian's chromium and chromium-driver", Path(CHROMIUM).exists() and Path(DRIVER).exists())
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        _need("selenium (pip install -e '.[dev]')", False)
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*FLAGS, f"--user-data-dir={tmp_path / 'chromium-profile'}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.set_page_load_timeout(WAIT)
    yield driver
    driver.quit()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def cap_ui(openai_server, tmp_path):
    pytest.importorskip("gradio")
    openai_server.responder = ui_answers.respond
    port = _free_port()
    env = {
        **os.environ,
        "OPENAI_API_KEY": "test-key",
        "CAP_CACHE": str(tmp_path / "cache.sqlite"),
        "GRADIO_ANALYTICS_ENABLED": "False",
        "GRADIO_TEMP_DIR": str(tmp_path / "gradio"),
    }
    argv = [sys.executable, "-m", "cap", "ui", "--task", "stack-blocks", "--seed", "0", "--port", str(port)]
    argv += [
        "--model",
        "m",
        "--base-url",
        openai_server.base_url,
        "--no-cache",
        "--out",
        str(tmp_path / "ui"),
    ]
    log = open(tmp_path / "ui.log", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + WAIT
        while True:
            if proc.poll() is not None:
                pytest.fail(f"cap ui exited with {proc.returncode}:\n{(tmp_path / 'ui.log').read_text()}")
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"cap ui did not answer at {url}:\n{(tmp_path / 'ui.log').read_text()}")
            time.sleep(0.5)
        yield url, openai_server
    finally:
        os.killpg(proc.pid, signal.SIGINT)  # the process group we started: cap ui and its sandbox workers
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


@pytest.mark.slow
def test_a_command_typed_in_the_browser_moves_the_robot(browser, cap_ui, tmp_path):
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    url, server = cap_ui
    browser.get(url)

    def text(selector: str) -> str:
        found = browser.find_elements(By.CSS_SELECTOR, selector)
        return found[0].text if found else ""

    class wait:  # WebDriverWait that says what the page showed when it gives up
        @staticmethod
        def until(condition):
            try:
                return WebDriverWait(browser, WAIT).until(condition)
            except TimeoutException:
                shown = {s: text(s) for s in ("#result", "#code", "#history", "#transcript")}
                pytest.fail(f"the page never got there; it shows {shown}")

    def image_loaded(selector: str) -> bool:
        return bool(
            browser.execute_script(
                "const i = document.querySelector(arguments[0]);"
                "return !!i && i.complete && i.naturalWidth > 200;",
                selector,
            )
        )

    box = wait.until(lambda d: d.find_element(By.CSS_SELECTOR, "#command textarea"))
    assert "stack all the blocks" in (box.get_attribute("placeholder") or "")  # the task's own command
    assert image_loaded("#scene img") or wait.until(lambda d: image_loaded("#scene img"))
    browser.find_element(By.CSS_SELECTOR, "#use-task-command").click()
    wait.until(lambda d: box.get_attribute("value") == "stack all the blocks")
    box.clear()
    box.send_keys(ui_answers.STACK)
    browser.find_element(By.CSS_SELECTOR, "#run").click()

    wait.until(lambda d: "stack_on(" in text("#code") and image_loaded("#animation img"))
    wait.until(lambda d: "success" in text("#result"))
    assert "stack_on('green block', ['red block', 'blue block'])" in text("#code")
    assert "def stack_on(base, names):" in text("#functions")
    assert "robot says: stacking" in text("#result")
    assert "in stack_on(): put_first_on_second(name, base)" in " ".join(text("#executed").split())
    gif = browser.execute_script("return document.querySelector('#animation img').src")
    with urllib.request.urlopen(gif, timeout=30) as response:
        assert response.read(6) == b"GIF89a"  # the animation itself, served to the page

    # the page after the first command (with its motion) is the README's screenshot
    browser.set_window_size(1400, browser.execute_script("return document.body.scrollHeight") + 40)
    shot = tmp_path / "ui.png"
    browser.save_screenshot(str(shot))
    assert shot.stat().st_size > 50_000
    if os.environ.get("CAP_SCREENSHOT_DIR"):
        target = Path(os.environ["CAP_SCREENSHOT_DIR"]) / "ui.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, target)

    # a second command in the same session: the model sees the first in its history
    box = browser.find_element(By.CSS_SELECTOR, "#command textarea")
    box.clear()
    box.send_keys(ui_answers.SAY, Keys.ENTER)
    wait.until(lambda d: "robot says: 3 blocks" in text("#result"))
    wait.until(lambda d: ui_answers.SAY in text("#history") and ui_answers.STACK in text("#history"))
    assert ui_answers.STACK in str(server.requests[-1])
    wait.until(lambda d: "transcript.jsonl" in "".join(text("#transcript").split()))
