#!/usr/bin/env python3
"""End-to-end checks of the examples: each is started on a free port and its main pages
are requested; then headless Chromium checks what a person would see: the files page
renders and its video seeks (Range requests reach the server), the streaming page
receives server-sent events, the templates site renders, and a login form posted to the
sessions example round-trips through its session cookie.

Run by .ci/run after the tests (`python3 e2e/run.py`); needs Debian's chromium and the
websocket-client package (.ci/run installs both). Screenshots go to target/e2e/.
Traffic stays on 127.0.0.1, and every process started is stopped at the end."""

import base64
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

import websocket

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHOTS = os.path.join(ROOT, "target", "e2e")
EXAMPLES = {
    "hello": ["/", "/hello/World"],
    "files": ["/", "/static/style.css", "/static/clock.webm", "/reports/latest"],
    "streaming": ["/", "/report.csv?rows=10"],
    "templates": ["/", "/about", "/posts/hello-bocata"],
    "todo": ["/api/todos"],
    "sessions": ["/"],
    "blueprints": ["/", "/api/v1/users/7"],
    "tower-interop": ["/", "/legacy/hello"],
    "chat": ["/"],
}
EXPECTED_STATUS = {"/api/todos": 401}
ANSI = re.compile(r"\x1b\[[0-9;]*m")

results = []


def check(name, ok, detail=""):
    results.append(ok)
    print(f"{'ok  ' if ok else 'FAIL'} {name}{': ' + detail if detail and not ok else ''}", flush=True)


class Example:
    """An example binary running on a free port, its log collected."""

    def __init__(self, name):
        env = dict(os.environ, ADDR="127.0.0.1:0", SECRET_KEY="k" * 64, NO_COLOR="1")
        binary = os.path.join(ROOT, "target", "debug", name)
        self.log_path = tempfile.mktemp(prefix=f"bocata-e2e-{name}-")
        self.log = open(self.log_path, "w+")
        self.process = subprocess.Popen([binary], cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        self.base = None
        deadline = time.time() + 30
        while time.time() < deadline and self.base is None:
            match = re.search(r"listening on (http://[0-9.:]+)", self.text())
            if match:
                self.base = match.group(1)
            else:
                time.sleep(0.05)
        if self.base is None:
            raise RuntimeError(f"{name} did not start: {self.text()}")

    def text(self):
        self.log.flush()
        with open(self.log_path) as log:
            return ANSI.sub("", log.read())

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()
        os.unlink(self.log_path)


def get(url):
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


class Browser:
    """Headless Chromium driven over the DevTools protocol."""

    def __init__(self):
        self.profile = tempfile.mkdtemp(prefix="bocata-e2e-chromium-")
        self.process = subprocess.Popen(
            ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
             "--no-first-run", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", "--autoplay-policy=no-user-gesture-required",
             f"--user-data-dir={self.profile}", "--remote-debugging-port=0",
             "--window-size=1000,800", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port_file = os.path.join(self.profile, "DevToolsActivePort")
        deadline = time.time() + 30
        while not os.path.exists(port_file):
            if time.time() > deadline:
                raise RuntimeError("chromium did not start")
            time.sleep(0.05)
        port = open(port_file).read().split()[0]
        deadline = time.time() + 30
        while True:
            try:
                tabs = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json", timeout=5))
                page = [t for t in tabs if t["type"] == "page"][0]
                break
            except (OSError, IndexError, ValueError):
                if time.time() > deadline:
                    raise
                time.sleep(0.1)
        self.socket = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=30)
        self.ids = 0
        self.call("Page.enable")

    def call(self, method, **params):
        self.ids += 1
        self.socket.send(json.dumps({"id": self.ids, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv())
            if message.get("id") == self.ids:
                return message.get("result", {})

    def open(self, url):
        self.call("Page.navigate", url=url)
        self.wait_for("document.readyState === 'complete'")

    def eval(self, expression):
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        return result.get("result", {}).get("value")

    def wait_for(self, expression, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.eval(expression):
                return True
            time.sleep(0.1)
        return False

    def screenshot(self, name):
        data = self.call("Page.captureScreenshot", format="png")["data"]
        os.makedirs(SHOTS, exist_ok=True)
        with open(os.path.join(SHOTS, f"{name}.png"), "wb") as shot:
            shot.write(base64.b64decode(data))

    def close(self):
        self.process.terminate()
        self.process.wait(timeout=20)
        shutil.rmtree(self.profile, ignore_errors=True)


def main():
    subprocess.run(["cargo", "build", "--quiet"] + [a for name in EXAMPLES for a in ("-p", name)],
                   cwd=ROOT, check=True)
    running = {}
    browser = None
    try:
        for name, paths in EXAMPLES.items():
            running[name] = example = Example(name)
            for path in paths:
                status, _ = get(example.base + path)
                expected = EXPECTED_STATUS.get(path, 200)
                check(f"{name}: GET {path} is {expected}", status == expected, f"got {status}")

        browser = Browser()

        files = running["files"]
        browser.open(files.base + "/")
        check("files: the page renders", browser.eval("document.querySelector('h1').textContent") == "Files and downloads")
        seeked = browser.eval("""new Promise((resolve) => {
            const video = document.getElementById('clock');
            const seek = () => { video.onseeked = () => resolve(video.currentTime); video.currentTime = 25; };
            if (video.readyState >= 1) seek(); else video.onloadedmetadata = seek;
            setTimeout(() => resolve(-1), 20000);
        })""")
        check("files: the video seeks to 25 s", seeked == 25, f"currentTime {seeked}")
        ranges = re.findall(r'path="/static/clock.webm" status=206', files.text())
        check("files: the browser's Range requests got 206", len(ranges) >= 1, files.text()[-2000:])
        browser.screenshot("files")

        streaming = running["streaming"]
        browser.open(streaming.base + "/")
        arrived = browser.wait_for("document.getElementById('events').textContent.split('\\n').length > 3")
        check("streaming: the page receives server-sent events", arrived,
              browser.eval("document.getElementById('events').textContent"))
        browser.screenshot("streaming")

        templates = running["templates"]
        browser.open(templates.base + "/")
        check("templates: the site renders", browser.eval("document.title") == "Home · bocata blog",
              browser.eval("document.title"))
        browser.eval("document.querySelector('.posts a').click()")
        check("templates: a link built by url_for leads to a post",
              browser.wait_for("document.querySelector('article h1') !== null"))
        browser.screenshot("templates")

        sessions = running["sessions"]
        browser.open(sessions.base + "/")
        browser.eval("document.getElementById('name').value = 'Ana'; document.getElementById('login').click()")
        greeted = browser.wait_for("document.getElementById('greeting') !== null")
        check("sessions: the form post logs in", greeted)
        browser.open(sessions.base + "/")
        visits = browser.eval("document.getElementById('visits') && document.getElementById('visits').textContent")
        check("sessions: the session cookie round-trips", visits == "Visit number 2.", f"{visits}")
        browser.screenshot("sessions")
    finally:
        if browser:
            browser.close()
        for example in running.values():
            example.stop()

    passed, failed = results.count(True), results.count(False)
    print(f"e2e: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
