"""Take screenshots of the running Odoo (``make run``) for the README.

Logs in over JSON-RPC, hands the session cookie to a headless Chromium through the DevTools
protocol, opens each URL and saves a PNG once the web client has finished loading.

    python3 tools/screenshot.py --login admin --password admin \
        /odoo/contacts=docs/img/contacts.png \
        "/odoo/action-sale.action_sale_config_settings|[name=crm_extended_setting_container]=x.png"
    python3 tools/screenshot.py \
        "/odoo/find-caller>~.o_crm_operator_input~0913 246 135>.o_crm_operator_candidate=y.png"

Steps after PATH run in order: ``>selector`` clicks, ``>~selector~text`` types text into an input.

Only talks to the Odoo given by --url (default http://127.0.0.1:8069) on this machine.
"""

import argparse
import base64
import json
import shutil
import subprocess
import tempfile
import time
import urllib.request
from http.cookiejar import CookieJar
from urllib.parse import urlparse

import websocket

CHROMIUM_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--remote-allow-origins=*",
]


def login(url, database, user, password):
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    payload = {
        "jsonrpc": "2.0",
        "params": {"db": database, "login": user, "password": password},
    }
    request = urllib.request.Request(
        f"{url}/web/session/authenticate",
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json"},
    )
    with opener.open(request, timeout=30) as response:
        answer = json.load(response)
    if answer.get("error"):
        raise SystemExit(f"login failed: {answer['error']['data']['message']}")
    return next(cookie.value for cookie in jar if cookie.name == "session_id")


class Browser:
    def __init__(self, width, height, port=9333):
        binary = shutil.which("chromium") or shutil.which("google-chrome")
        if not binary:
            raise SystemExit("Chromium is needed: apt-get install chromium")
        self.profile = tempfile.TemporaryDirectory(ignore_cleanup_errors=True)
        self.process = subprocess.Popen(
            [
                binary,
                *CHROMIUM_FLAGS,
                f"--remote-debugging-port={port}",
                f"--user-data-dir={self.profile.name}",
                f"--window-size={width},{height}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _attempt in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/json", timeout=2) as resp:
                    targets = json.load(resp)
                page = next(t for t in targets if t["type"] == "page")
                break
            except (OSError, StopIteration):
                time.sleep(0.1)
        else:
            raise SystemExit("Chromium did not start")
        self.ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=60)
        self.next_id = 0
        self.call("Emulation.setDeviceMetricsOverride", width=width, height=height,
                  deviceScaleFactor=1, mobile=False)  # fmt: skip

    def call(self, method, **params):
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})

    def evaluate(self, expression):
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result.get("result", {}).get("value")

    def type_text(self, selector, text):
        self.evaluate(f"document.querySelector({json.dumps(selector)}).focus()")
        self.call("Input.insertText", text=text)

    def shoot(self, url, path, settle, scroll_to=None, steps=()):
        self.call("Page.navigate", url=url)
        deadline = time.time() + 60
        # the web client once its action is shown; any other page (the portal) once loaded
        ready = (
            "document.readyState === 'complete' && (!document.querySelector('.o_web_client') "
            "|| !!document.querySelector('.o_action_manager .o_view_controller, "
            ".o_action_manager .o_form_view, .o_action_manager .o_setting_container, "
            ".o_action_manager .o_action')) "
            "&& !document.querySelector('.o_loading_indicator, .o_blockUI')"
        )
        while time.time() < deadline and not self.evaluate(ready):
            time.sleep(0.25)
        for step in steps:
            time.sleep(settle)
            if step.startswith("~"):
                self.type_text(*step[1:].rsplit("~", 1))
            else:
                self.evaluate(f"document.querySelector({json.dumps(step)}).click()")
        if scroll_to:
            self.evaluate(f"document.querySelector({json.dumps(scroll_to)}).scrollIntoView()")
        time.sleep(settle)
        data = self.call("Page.captureScreenshot", format="png")["data"]
        with open(path, "wb") as file:
            file.write(base64.b64decode(data))

    def close(self):
        self.ws.close()
        self.process.terminate()
        self.process.wait(timeout=10)
        self.profile.cleanup()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8069")
    parser.add_argument("--database", default="crm_extended_demo")
    parser.add_argument("--login", default="admin")
    parser.add_argument("--password", default="admin")
    parser.add_argument("--lang", help="switch the user's language first, e.g. vi_VN")
    parser.add_argument("--width", type=int, default=1400)
    parser.add_argument("--height", type=int, default=900)
    parser.add_argument("--settle", type=float, default=1.5, help="seconds after load")
    parser.add_argument(
        "shots",
        nargs="+",
        help="PATH[>CSS selector to click ...][>~CSS selector~text to type ...]"
        "[|CSS selector to scroll to]=FILE.png (PATH relative to --url)",
    )
    args = parser.parse_args()
    if urlparse(args.url).hostname not in ("127.0.0.1", "localhost"):
        raise SystemExit("screenshots are taken of a local Odoo only")

    session = login(args.url, args.database, args.login, args.password)
    browser = Browser(args.width, args.height)
    try:
        host = urlparse(args.url).hostname
        browser.call("Network.enable")
        browser.call("Network.setCookie", name="session_id", value=session, domain=host, path="/")
        for shot in args.shots:
            target, file = shot.rsplit("=", 1)
            target, _sep, scroll_to = target.partition("|")
            path, *steps = target.split(">")
            browser.shoot(f"{args.url}{path}", file, args.settle, scroll_to or None, steps)
            print(file)
    finally:
        browser.close()


if __name__ == "__main__":
    main()
