#!/usr/bin/env python3
"""End-to-end checks of the examples: each is started on a free port and its main pages
are requested; then headless Chromium checks what a person would see: the files page
renders and its video seeks (Range requests reach the server), the streaming page
receives server-sent events, the templates site renders, a login form posted to the
sessions example round-trips through its session cookie, and the tls example's page
arrives over HTTPS with HTTP/2 and HSTS, its certificate issued by a test authority
this script makes with the openssl command.

Run by .ci/run after the tests (`python3 e2e/run.py`); needs Debian's chromium, openssl
and the websocket-client package (.ci/run installs them). Screenshots go to target/e2e/.
Traffic stays on 127.0.0.1, and every process started is stopped at the end."""

import base64
import json
import os
import re
import shutil
import ssl
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
    "openapi": ["/docs", "/openapi.json"],
}
EXPECTED_STATUS = {"/api/todos": 401}
# What an example needs in its environment here: the todo example's SQLite database in
# a folder of this run, not in the repository.
DATA = tempfile.mkdtemp(prefix="bocata-e2e-data-")
EXAMPLE_ENV = {"todo": {"DATABASE_URL": f"sqlite://{DATA}/todo.db"}}
ANSI = re.compile(r"\x1b\[[0-9;]*m")

results = []


def check(name, ok, detail=""):
    results.append(ok)
    print(f"{'ok  ' if ok else 'FAIL'} {name}{': ' + detail if detail and not ok else ''}", flush=True)


class Example:
    """An example binary running on a free port, its log collected; `env` adds to its
    environment."""

    def __init__(self, name, env=None):
        env = dict(os.environ, ADDR="127.0.0.1:0", SECRET_KEY="k" * 64, NO_COLOR="1", **(env or {}))
        binary = os.path.join(ROOT, "target", "debug", name)
        self.log_path = tempfile.mktemp(prefix=f"bocata-e2e-{name}-")
        self.log = open(self.log_path, "w+")
        self.process = subprocess.Popen([binary], cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        self.base = None
        deadline = time.time() + 30
        while time.time() < deadline and self.base is None:
            match = re.search(r"listening on (https?://[0-9.:]+)", self.text())
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


def get(url, context=None):
    try:
        with urllib.request.urlopen(url, timeout=30, context=context) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


class NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args):
        return None


def get_unredirected(url):
    """The status and headers of `url`'s answer, a redirect not followed."""
    try:
        with urllib.request.build_opener(NoRedirects).open(url, timeout=30) as response:
            return response.status, response.headers
    except urllib.error.HTTPError as error:
        return error.code, error.headers


def openssl(*args, stdin=None):
    return subprocess.run(["openssl", *args], input=stdin, capture_output=True, check=True).stdout


class TestAuthority:
    """A certificate authority made for this run, and a certificate it issued for
    localhost and 127.0.0.1, in a temporary folder."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="bocata-e2e-pki-")
        self.ca = os.path.join(self.dir, "ca.pem")
        self.cert = os.path.join(self.dir, "server.pem")
        self.key = os.path.join(self.dir, "server.key")
        ca_key, csr = os.path.join(self.dir, "ca.key"), os.path.join(self.dir, "server.csr")
        ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        openssl("req", "-x509", *ec, "-keyout", ca_key, "-out", self.ca, "-days", "2",
                "-subj", "/CN=bocata e2e test authority",
                "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign")
        openssl("req", *ec, "-keyout", self.key, "-out", csr, "-subj", "/CN=localhost")
        extensions = os.path.join(self.dir, "server.ext")
        with open(extensions, "w") as file:
            file.write("subjectAltName=DNS:localhost,IP:127.0.0.1\n"
                       "basicConstraints=critical,CA:FALSE\n"
                       "keyUsage=critical,digitalSignature\n"
                       "extendedKeyUsage=serverAuth\n")
        openssl("x509", "-req", "-in", csr, "-CA", self.ca, "-CAkey", ca_key, "-CAcreateserial",
                "-days", "2", "-extfile", extensions, "-out", self.cert)

    def spki_sha256(self):
        """The base64 SHA-256 of the server certificate's public key, as Chromium's
        --ignore-certificate-errors-spki-list takes it."""
        public = openssl("x509", "-in", self.cert, "-pubkey", "-noout")
        der = openssl("pkey", "-pubin", "-outform", "der", stdin=public)
        return base64.b64encode(openssl("dgst", "-sha256", "-binary", stdin=der)).decode()

    def remove(self):
        shutil.rmtree(self.dir, ignore_errors=True)


class Browser:
    """Headless Chromium driven over the DevTools protocol."""

    def __init__(self, extra_args=()):
        self.profile = tempfile.mkdtemp(prefix="bocata-e2e-chromium-")
        self.process = subprocess.Popen(
            ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
             "--no-first-run", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", "--autoplay-policy=no-user-gesture-required",
             f"--user-data-dir={self.profile}", "--remote-debugging-port=0",
             "--window-size=1000,800", *extra_args, "about:blank"],
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
        self.events = []
        self.call("Page.enable")
        self.call("Network.enable")

    def call(self, method, **params):
        self.ids += 1
        self.socket.send(json.dumps({"id": self.ids, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv())
            if message.get("id") == self.ids:
                return message.get("result", {})
            if message.get("method") == "Network.responseReceived":
                self.events.append(message["params"])

    def response(self, url):
        """What the browser last received for `url` (protocol, headers, TLS details)."""
        for event in reversed(self.events):
            if event["response"]["url"] == url:
                return event["response"]
        return None

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


def check_docs_page(browser, base, operation, params, expect_status, expect_in_body):
    """Opens base + "/docs" in `browser`, waits for it to be ready, checks that it lists
    `operation` (e.g. "GET /api/todos/{id}"), fills `params` (dict name -> value) into that
    operation's inputs, sends it with the page's Send button, and checks the status and
    that `expect_in_body` is in the shown body. Reports through check(...) like the rest of
    the file, and returns the list of operations the page shows."""
    # The page before is marked, so that a wait cannot end on it while the new one loads.
    browser.eval("document.documentElement.dataset.left = 'true'")
    browser.open(base + "/docs")
    browser.wait_for("!document.documentElement.dataset.left && document.body"
                     " && ['true', 'error'].includes(document.body.dataset.ready)")
    ready = browser.eval("document.body.dataset.ready")
    check("docs: the page loads the OpenAPI document", ready == "true",
          f"ready={ready}: {browser.eval('document.body.innerText.slice(0, 500)')}")
    operations = browser.eval("[...document.querySelectorAll('[data-operation]')].map(e => e.dataset.operation)") or []
    check(f"docs: the page lists {operation}", operation in operations, f"{operations}")
    if operation not in operations:
        return operations
    # The operation is found by its hook and expanded as a click would; each parameter
    # is typed into its input; Send is pressed.
    find = f"[...document.querySelectorAll('[data-operation]')].find(e => e.dataset.operation === {json.dumps(operation)})"
    typed = json.dumps({name: value if isinstance(value, str) else json.dumps(value) for name, value in params.items()})
    missing = browser.eval(f"""(() => {{
        const op = {find};
        const send = op.querySelector('[data-action="send"]');
        if (!send.checkVisibility()) op.querySelector('summary, [data-action="toggle"]').click();
        const missing = [];
        for (const [name, value] of Object.entries({typed})) {{
            const input = [...op.querySelectorAll('[data-param]')].find(e => e.dataset.param === name);
            if (!input) {{ missing.push(name); continue; }}
            input.value = value;
            input.dispatchEvent(new Event('input', {{bubbles: true}}));
        }}
        if (send.checkVisibility()) send.click();
        return missing;
    }})()""")
    check(f"docs: {operation} has inputs for {sorted(params)}", missing == [], f"missing {missing}")
    answered = browser.wait_for(f"(() => {{ const r = {find}.querySelector('[data-response]');"
                                " return r.dataset.status !== undefined || r.dataset.state === 'error'; })()")
    shown = browser.eval(f"""(() => {{ const r = {find}.querySelector('[data-response]');
        return {{status: r.dataset.status, text: r.textContent}}; }})()""") or {}
    check(f"docs: sending {operation} from the page shows {expect_status}",
          answered and shown.get("status") == str(expect_status), f"{shown}")
    check(f"docs: the page shows the body of {operation}'s answer",
          expect_in_body in shown.get("text", ""), f"{shown}")
    foreign = browser.eval("performance.getEntriesByType('resource').map(e => e.name)"
                           ".filter(url => new URL(url).origin !== location.origin)")
    check("docs: the page loads nothing from another origin", foreign == [], f"{foreign}")
    return operations


def main():
    subprocess.run(["cargo", "build", "--quiet"] + [a for name in [*EXAMPLES, "tls"] for a in ("-p", name)],
                   cwd=ROOT, check=True)
    running = {}
    browser = None
    authority = TestAuthority()
    try:
        for name, paths in EXAMPLES.items():
            running[name] = example = Example(name, env=EXAMPLE_ENV.get(name))
            for path in paths:
                status, _ = get(example.base + path)
                expected = EXPECTED_STATUS.get(path, 200)
                check(f"{name}: GET {path} is {expected}", status == expected, f"got {status}")

        running["tls"] = tls = Example("tls", env={
            "TLS_CERT": authority.cert, "TLS_KEY": authority.key, "HTTP_ADDR": "127.0.0.1:0"})
        deadline = time.time() + 30
        while (redirecting := re.search(r"redirecting http://127\.0\.0\.1:(\d+) to HTTPS", tls.text())) is None \
                and time.time() < deadline:
            time.sleep(0.05)
        check("tls: the plain-HTTP listener says where it is", redirecting is not None, tls.text()[-2000:])
        http_port = int(redirecting.group(1)) if redirecting else 0
        check("tls: serves HTTPS", tls.base.startswith("https://127.0.0.1:"), tls.base)
        tls_port = int(tls.base.rsplit(":", 1)[1])
        trusting = ssl.create_default_context(cafile=authority.ca)
        trusting.set_alpn_protocols(["http/1.1"])
        status, body = get(f"https://localhost:{tls_port}/about", trusting)
        about = json.loads(body) if status == 200 else None
        check("tls: GET /about over HTTPS, trusting the test authority, is 200",
              about == {"scheme": "https", "alpn": "http/1.1", "server_name": "localhost"}, f"{status} {body!r}")
        try:
            get(f"https://localhost:{tls_port}/about", ssl.create_default_context())
            refused = False
        except urllib.error.URLError as error:
            refused = isinstance(error.reason, ssl.SSLCertVerificationError)
        check("tls: a client not trusting the test authority refuses the certificate", refused)
        status, headers = get_unredirected(f"http://127.0.0.1:{http_port}/about?x=1")
        location = f"https://127.0.0.1:{tls_port}/about?x=1"
        check("tls: plain HTTP is redirected with 308 to HTTPS",
              (status, headers.get("location")) == (308, location), f"{status} {headers.get('location')}")
        status, body = get(f"http://127.0.0.1:{http_port}/about?x=1", trusting)
        check("tls: following the redirect lands on the page over HTTPS",
              status == 200 and json.loads(body)["scheme"] == "https", f"{status} {body!r}")

        browser = Browser([f"--ignore-certificate-errors-spki-list={authority.spki_sha256()}"])

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

        catalogue = running["openapi"]
        book = json.dumps({"title": "Dune", "author": "Frank Herbert", "year": 1965}).encode()
        request = urllib.request.Request(catalogue.base + "/books", data=book,
                                         headers={"content-type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            check("openapi: a book is added", response.status == 201, f"{response.status}")
        operations = check_docs_page(browser, catalogue.base, "GET /books/{id}", {"id": "1"}, 200, "Frank Herbert")
        check("openapi: the docs page lists every operation",
              {"GET /books", "POST /books", "PUT /books/{id}", "DELETE /books/{id}",
               "POST /books/{id}/reviews", "GET /export.csv", "GET /health"} <= set(operations or []),
              f"{operations}")
        check_docs_page(browser, catalogue.base, "GET /books", {"q": "dune"}, 200, "Dune")
        browser.screenshot("openapi")

        page = f"https://localhost:{tls_port}/"
        browser.open(page)
        alpn = browser.eval("document.getElementById('alpn') && document.getElementById('alpn').textContent")
        check("tls: the page says it came over ALPN h2", alpn == "h2", f"{alpn}")
        response = browser.response(page) or {}
        headers = {k.lower(): v for k, v in response.get("headers", {}).items()}
        check("tls: the browser got it over HTTP/2", response.get("protocol") == "h2", f"{response.get('protocol')}")
        check("tls: with an HSTS header", headers.get("strict-transport-security") == "max-age=31536000",
              f"{headers}")
        details = response.get("securityDetails", {})
        check("tls: its certificate is the test authority's, for localhost",
              (details.get("issuer"), details.get("subjectName")) == ("bocata e2e test authority", "localhost"),
              f"{details}")
        browser.screenshot("tls")
    finally:
        if browser:
            browser.close()
        for example in running.values():
            example.stop()
        authority.remove()
        shutil.rmtree(DATA, ignore_errors=True)

    passed, failed = results.count(True), results.count(False)
    print(f"e2e: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
