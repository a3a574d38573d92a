"""WebKit for the browser tests (issue 20): Debian's WebKitWebDriver drives WebKitGTK's
MiniBrowser on an Xvfb display the tests start themselves.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess

import pytest

WEBDRIVER = shutil.which("WebKitWebDriver") or "/usr/bin/WebKitWebDriver"
MINIBROWSER = next(iter(glob.glob("/usr/lib/*/webkit2gtk-4.1/MiniBrowser")), "")


def webkit_missing() -> str:
    """Say what is missing to drive WebKit ("" when nothing is)."""
    for path, package in ((WEBDRIVER, "webkit2gtk-driver"), (MINIBROWSER, "libwebkit2gtk-4.1-0"),
                          (shutil.which("Xvfb") or "", "xvfb")):
        if not path or not os.access(path, os.X_OK):
            return f"{package} is not installed (./scripts/setup --test installs it)"
    return ""


@pytest.fixture(scope="session")
def x_display():
    """Start Xvfb on a free display; give its name (":N")."""
    missing = webkit_missing()
    if missing:
        pytest.skip(missing)
    read, write = os.pipe()
    # -displayfd: Xvfb picks a free display and writes its number when ready.
    process = subprocess.Popen(["Xvfb", "-displayfd", str(write), "-screen", "0", "1280x1024x24",
                                "-nolisten", "tcp"], pass_fds=(write,),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write)
    with os.fdopen(read) as pipe:
        number = pipe.readline().strip()
    assert number, "Xvfb did not start"
    yield f":{number}"
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def webkit(x_display):
    """A fresh MiniBrowser driven by WebKitWebDriver on the Xvfb display."""
    missing = webkit_missing()
    if missing:
        pytest.skip(missing)
    from selenium import webdriver
    from selenium.webdriver.webkitgtk.service import Service

    options = webdriver.WebKitGTKOptions()
    options.binary_location = MINIBROWSER
    options.add_argument("--automation")
    service = Service(executable_path=WEBDRIVER, env={**os.environ, "DISPLAY": x_display})
    driver = webdriver.WebKitGTK(options=options, service=service)
    driver.set_script_timeout(30)
    yield driver
    driver.quit()
