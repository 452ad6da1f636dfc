"""The checking and measuring half of bench/tfb/run: see that script for what it does."""

import glob
import html.parser
import json
import os
import pwd
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from datetime import datetime

# The helpers bench/run shares with this script.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from measure import callgrind_total, cpu_seconds, ratio_cell, wrk_report  # noqa: E402

ROUNDS, SECONDS = int(sys.argv[1]), int(sys.argv[2])
CONTENDERS = ["bocata", "axum", "actix"]
# name, path, HTTP pipelining depth (TFB pipelines plaintext 16 deep, nothing else).
TESTS = [
    ("json", "/json", 1),
    ("db", "/db", 1),
    ("queries", "/queries?queries=20", 1),
    ("fortunes", "/fortunes", 1),
    ("updates", "/updates?queries=20", 1),
    ("plaintext", "/plaintext", 16),
]
if os.environ.get("ONLY"):
    TESTS = [t for t in TESTS if t[0] in os.environ["ONLY"].split(",")]
if os.environ.get("CONTENDERS"):
    CONTENDERS = os.environ["CONTENDERS"].split(",")
HERE = os.path.dirname(os.path.abspath(__file__))
TARGET = os.path.join(HERE, "..", "target", "release")
CONNECTIONS = 64

# The Fortune table's rows, as the TechEmpower database has them.
FORTUNES = [
    (1, "fortune: No such file or directory"),
    (2, "A computer scientist is someone who fixes things that aren't broken."),
    (3, "After enough decimal places, nobody gives a damn."),
    (4, "A bad random number generator: 1, 1, 1, 1, 1, 4.33e+67, 1, 1, 1"),
    (5, "A computer program does what you tell it to do, not what you want it to do."),
    (6, "Emacs is a nice operating system, but I prefer UNIX. — Tom Christaensen"),
    (7, "Any program that runs right is obsolete."),
    (8, "A list is only as strong as its weakest link. — Donald Knuth"),
    (9, "Feature: A bug with seniority."),
    (10, "Computers make very fast, very accurate mistakes."),
    (11, '<script>alert("This should not be displayed in a browser alert box.");</script>'),
    (12, "フレームワークのベンチマーク"),
]
ADDED = (0, "Additional fortune added at request time.")


def sql_text(text):
    return "'" + text.replace("'", "''") + "'"


SCHEMA = """
CREATE TABLE World (
  id integer NOT NULL,
  randomNumber integer NOT NULL DEFAULT 0,
  PRIMARY KEY (id)
);
INSERT INTO World (id, randomNumber)
  SELECT x, least(floor(random() * 10000 + 1), 10000) FROM generate_series(1, 10000) AS x;
CREATE TABLE Fortune (
  id integer NOT NULL,
  message varchar(2048) NOT NULL,
  PRIMARY KEY (id)
);
INSERT INTO Fortune (id, message) VALUES
""" + ",\n".join(f"  ({i}, {sql_text(m)})" for i, m in FORTUNES) + ";\nANALYZE World;\nANALYZE Fortune;\n"


class CheckFailed(Exception):
    pass


def on_signal(signum, _frame):
    raise KeyboardInterrupt(f"signal {signum}")


signal.signal(signal.SIGTERM, on_signal)
signal.signal(signal.SIGHUP, on_signal)

work = tempfile.mkdtemp(prefix="bocata-tfb-")
started = []
cluster = None


# --- the throwaway Postgres cluster -------------------------------------------------

def postgres_bin(tool):
    """A Postgres program: the newest Debian version's, else the one on PATH."""
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{tool}"),
                   key=lambda p: int(p.split("/")[4]) if p.split("/")[4].isdigit() else 0)
    return found[-1] if found else shutil.which(tool)


def as_postgres(args):
    """initdb and pg_ctl refuse to run as root: as root they run as the postgres user."""
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_cluster():
    """A new cluster in the temporary directory, on a free port, with the TFB database.
    Postgres runs on core 1, beside wrk: core 0 is the server's alone."""
    global cluster
    if os.geteuid() == 0:
        postgres = pwd.getpwnam("postgres")
        os.chown(work, postgres.pw_uid, postgres.pw_gid)
    data = os.path.join(work, "data")
    subprocess.run(as_postgres([postgres_bin("initdb"), "-D", data, "-U", "postgres",
                                "--auth=trust", "-E", "UTF8", "--locale=C"]),
                   check=True, capture_output=True)
    port = free_port()
    # As the TechEmpower configuration: commits do not wait for the disk, no WAL for
    # replicas.
    options = (f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={work} "
               "-c synchronous_commit=off -c wal_level=minimal -c max_wal_senders=0 "
               "-c shared_buffers=128MB -c max_connections=200")
    subprocess.run(["taskset", "-c", "1", *as_postgres([postgres_bin("pg_ctl"), "-D", data, "-l",
                    os.path.join(work, "postgres.log"), "-w", "-o", options, "start"])],
                   check=True, capture_output=True)
    cluster = data
    psql(port, "postgres", "postgres", "CREATE ROLE benchmarkdbuser LOGIN")
    psql(port, "postgres", "postgres", "CREATE DATABASE hello_world OWNER benchmarkdbuser")
    psql(port, "hello_world", "benchmarkdbuser", SCHEMA)
    return port


def psql(port, database, user, sql):
    out = subprocess.run([shutil.which("psql") or postgres_bin("psql"), "-X", "-q", "-A", "-t",
                          "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", str(port), "-U", user,
                          "-d", database, "-c", sql],
                         check=True, capture_output=True, text=True)
    return out.stdout


def stop_cluster():
    if cluster:
        subprocess.run(as_postgres([postgres_bin("pg_ctl"), "-D", cluster, "-m", "fast", "-w",
                                    "stop"]), capture_output=True)


# --- the servers ----------------------------------------------------------------------

def start(name, port, wrapper=()):
    env = dict(os.environ, BENCH_WORKERS="1", BENCH_ADDR="127.0.0.1:0", RUST_LOG="off",
               TFB_DATABASE_URL=f"postgres://benchmarkdbuser@127.0.0.1:{port}/hello_world")
    binary = os.path.join(TARGET, f"tfb-{name}")
    log = os.path.join(work, f"{name}.log")
    with open(log, "w") as stderr:
        process = subprocess.Popen(["taskset", "-c", "0", *wrapper, binary], env=env,
                                   stdout=subprocess.PIPE, stderr=stderr, text=True)
    started.append(process)
    addr = process.stdout.readline().strip()
    time.sleep(0.2)
    if not addr or process.poll() is not None:
        with open(log) as stderr:
            raise CheckFailed(f"tfb-{name} did not start: {stderr.read()[-2000:]}")
    return process, addr


# --- the checks -----------------------------------------------------------------------

CONTENT_TYPES = {
    "json": r"^application/json(; ?charset=(UTF|utf)-8)?$",
    "html": r"^text/html; ?charset=(UTF|utf)-8$",
    "plaintext": r"^text/plain(; ?charset=(UTF|utf)-8)?$",
}


def get(url):
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def check_response(url, kind):
    """GETs `url` and checks what every test type requires: 200, Server, a valid Date,
    the test's Content-Type, a size (Content-Length or Transfer-Encoding). The body."""
    status, headers, body = get(url)
    if status != 200:
        raise CheckFailed(f"{url}: status {status}, not 200: {body[:300]!r}")
    for name in ("Server", "Date", "Content-Type"):
        if not headers.get(name):
            raise CheckFailed(f"{url}: no {name} header")
    if not headers.get("Content-Length") and not headers.get("Transfer-Encoding"):
        raise CheckFailed(f"{url}: neither Content-Length nor Transfer-Encoding")
    try:
        datetime.strptime(headers["Date"], "%a, %d %b %Y %H:%M:%S GMT")
    except ValueError:
        raise CheckFailed(f"{url}: Date {headers['Date']!r} is not an HTTP date") from None
    if not re.match(CONTENT_TYPES[kind], headers["Content-Type"]):
        raise CheckFailed(f"{url}: Content-Type {headers['Content-Type']!r} is not {kind}")
    return headers, body


def check_world(url, world):
    if not isinstance(world, dict) or set(world) != {"id", "randomNumber"}:
        raise CheckFailed(f"{url}: {world!r} is not an object of id and randomNumber")
    for key in ("id", "randomNumber"):
        if not isinstance(world[key], int) or not 1 <= world[key] <= 10000:
            raise CheckFailed(f"{url}: {key} {world[key]!r} is not an integer in 1..=10000")


def check_worlds(url, expected):
    _, body = check_response(url, "json")
    worlds = json.loads(body)
    if not isinstance(worlds, list) or len(worlds) != expected:
        got = len(worlds) if isinstance(worlds, list) else type(worlds).__name__
        raise CheckFailed(f"{url}: expected an array of {expected} Worlds, got {got}")
    for world in worlds:
        check_world(url, world)
    return worlds


class Rows(html.parser.HTMLParser):
    """The table's rows, each a list of its cells' text (entities decoded)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.rows, self.cell = [], None

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self.cell = ""

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self.cell is not None:
            self.rows[-1].append(self.cell)
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell += data


def world_table(port):
    out = psql(port, "hello_world", "benchmarkdbuser", "SELECT id, randomNumber FROM World")
    return dict(tuple(map(int, line.split("|"))) for line in out.split())


def check(name, base, port):
    """Checks one contender's answers to every test type against the TFB rules."""
    headers, body = check_response(base + "/json", "json")
    if json.loads(body) != {"message": "Hello, World!"}:
        raise CheckFailed(f"{base}/json: {body!r}")
    first_date = headers["Date"]

    _, body = check_response(base + "/plaintext", "plaintext")
    if body != b"Hello, World!":
        raise CheckFailed(f"{base}/plaintext: {body!r}")

    _, body = check_response(base + "/db", "json")
    check_world(base + "/db", json.loads(body))

    # Missing, not an integer, below 1 and above 500.
    cases = [("", 1), ("?queries=", 1), ("?queries=foo", 1), ("?queries=0", 1),
             ("?queries=-4", 1), ("?queries=2", 2), ("?queries=20", 20), ("?queries=501", 500),
             ("?queries=1000", 500)]
    for path in ("/queries", "/updates"):
        for query, expected in cases:
            check_worlds(base + path + query, expected)

    # Updates are written: every World of the answer has its number in the table (the
    # last one sent, for a World drawn twice), and the table changed.
    before = world_table(port)
    sent = check_worlds(base + "/updates?queries=500", 500)
    after = world_table(port)
    last = {w["id"]: w["randomNumber"] for w in sent}
    wrong = [i for i, n in last.items() if after[i] != n]
    if wrong:
        raise CheckFailed(f"{base}/updates: {len(wrong)} of {len(last)} Worlds not written, "
                          f"e.g. id {wrong[0]}: sent {last[wrong[0]]}, table {after[wrong[0]]}")
    changed = sum(1 for i in last if before[i] != after[i])
    if changed < 0.9 * len(last):
        raise CheckFailed(f"{base}/updates: only {changed} of {len(last)} Worlds changed")

    url = base + "/fortunes"
    _, body = check_response(url, "html")
    page = body.decode("utf-8")
    if not page.lstrip().lower().startswith("<!doctype html>"):
        raise CheckFailed(f"{url}: does not start with <!DOCTYPE html>")
    if "<script>" in page or "&lt;script&gt;" not in page:
        raise CheckFailed(f"{url}: the <script> fortune is not escaped")
    if ADDED[1] not in page:
        raise CheckFailed(f"{url}: the fortune added at request time is missing")
    parser = Rows()
    parser.feed(page)
    expected = [["id", "message"]] + [[str(i), m] for i, m in
                                      sorted(FORTUNES + [ADDED], key=lambda f: f[1])]
    if parser.rows != expected:
        got = "\n".join(" | ".join(row) for row in parser.rows)
        raise CheckFailed(f"{url}: the table is not the fortunes sorted by message:\n{got}")

    # The Date header is the time of the response, not one fixed at start.
    time.sleep(1.1)
    headers, _ = check_response(base + "/json", "json")
    if headers["Date"] == first_date:
        raise CheckFailed(f"{base}/json: Date stayed {first_date!r} over a second")
    print(f"{name}: every test type answers as the rules say", file=sys.stderr, flush=True)


# --- the measurements -----------------------------------------------------------------

pipeline = os.path.join(work, "pipeline.lua")
with open(pipeline, "w") as f:
    # Every send is `depth` requests written at once, as TFB's pipeline.lua does.
    f.write("init = function(args)\n"
            "  local depth = tonumber(args[1]) or 1\n"
            "  local requests = {}\n"
            "  for i = 1, depth do requests[i] = wrk.format() end\n"
            "  batch = table.concat(requests)\n"
            "end\n"
            "request = function() return batch end\n")


def wrk(url, depth, pid, seconds):
    """requests/s, p99 latency in ms, and the server's CPU microseconds per request."""
    args = ["taskset", "-c", "1", "wrk", "-t1", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency",
            "-H", "Connection: keep-alive", url]
    if depth > 1:
        args += ["-s", pipeline, "--", str(depth)]
    cpu_before = cpu_seconds(pid)
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    cpu = cpu_seconds(pid) - cpu_before
    rps, p99, requests, errors = wrk_report(out)
    if errors:
        raise CheckFailed(f"{url}: {errors} error responses under load\n{out}")
    sockets = re.search(r"Socket errors: (.*)", out)
    if sockets:
        print(f"{url}: socket errors: {sockets.group(1)}", file=sys.stderr, flush=True)
    return rps, p99, cpu * 1e6 / max(requests, 1)


def instructions_per_request(name, port, path, depth):
    """Runs the contender under callgrind and counts the instructions it executes (all
    its threads) for requests sent one after the other over one connection (a batch
    of `depth` at a time), after a warm-up that is not counted."""
    out = os.path.join(work, f"callgrind.{name}.%p")
    process, addr = start(name, port, ["valgrind", "--tool=callgrind",
                                       f"--callgrind-out-file={out}"])
    try:
        time.sleep(1)
        one = ["taskset", "-c", "1", "wrk", "-t1", "-c1", f"http://{addr}{path}"]
        if depth > 1:
            one += ["-s", pipeline, "--", str(depth)]
        subprocess.run(one[:5] + ["-d2s"] + one[5:], capture_output=True, check=True)
        subprocess.run(["callgrind_control", "-z", str(process.pid)], capture_output=True,
                       check=True)
        counted = subprocess.run(one[:5] + [f"-d{SECONDS}s"] + one[5:], capture_output=True,
                                 text=True, check=True).stdout
        subprocess.run(["callgrind_control", "-d", str(process.pid)], capture_output=True,
                       check=True)
    finally:
        process.terminate()
        process.wait()
    if "Non-2xx" in counted:
        raise CheckFailed(f"{path}: error responses under callgrind\n{counted}")
    requests = int(re.search(r"(\d+) requests in", counted).group(1))
    return callgrind_total(out, process.pid) / max(requests, 1)


names = [t[0] for t in TESTS]
counts = {}
results = {(c, t): [] for c in CONTENDERS for t in names}
ratios = {(c, t, o): [] for c in CONTENDERS for t in names for o in ("axum", "actix")}
cpu_ratios = {(c, t, o): [] for c in CONTENDERS for t in names for o in ("axum", "actix")}

try:
    port = start_cluster()
    servers = {c: start(c, port) for c in CONTENDERS}
    for contender, (process, addr) in servers.items():
        check(contender, f"http://{addr}", port)
    if os.environ.get("INSTRUCTIONS") == "1":
        for process, _ in servers.values():
            process.terminate()
            process.wait()
        for name, path, depth in TESTS:
            for contender in CONTENDERS:
                counts[(contender, name)] = instructions_per_request(contender, port, path,
                                                                     depth)
            print(f"{name}: instructions counted", file=sys.stderr, flush=True)
    if ROUNDS and not counts:
        # One short pass first, not counted: connections opened, caches warm.
        for name, path, depth in TESTS:
            for contender in CONTENDERS:
                process, addr = servers[contender]
                wrk(f"http://{addr}{path}", depth, process.pid, 1)
    for round_ in range(0 if counts else ROUNDS):
        # Each round starts with the next contender, so that none is always measured
        # first (or last) on a machine whose load drifts.
        order = CONTENDERS[round_ % len(CONTENDERS):] + CONTENDERS[:round_ % len(CONTENDERS)]
        for name, path, depth in TESTS:
            measured = {}
            for contender in order:
                process, addr = servers[contender]
                measured[contender] = wrk(f"http://{addr}{path}", depth, process.pid, SECONDS)
                results[(contender, name)].append(measured[contender])
            for other in ("axum", "actix"):
                if other in measured:
                    other_rps, _, other_cpu = measured[other]
                    for contender, (rps, _, cpu) in measured.items():
                        ratios[(contender, name, other)].append(rps / other_rps)
                        cpu_ratios[(contender, name, other)].append(other_cpu / cpu)
        print(f"round {round_ + 1}/{ROUNDS} done", file=sys.stderr, flush=True)
except CheckFailed as e:
    print(f"\nstopped: {e}", file=sys.stderr)
    sys.exit(1)
except subprocess.CalledProcessError as e:
    print(f"\nstopped: {' '.join(e.cmd)} failed:\n{e.stderr}", file=sys.stderr)
    sys.exit(1)
except KeyboardInterrupt:
    print("\nstopped", file=sys.stderr)
    sys.exit(130)
finally:
    for process in started:
        if process.poll() is None:
            process.terminate()
            process.wait()
    stop_cluster()
    shutil.rmtree(work, ignore_errors=True)


if counts:
    print(f"\nInstructions each server executes per request (callgrind, all threads; one "
          f"keep-alive connection, plaintext pipelined 16 deep, {SECONDS} s counted after a "
          f"2 s warm-up), and the ratio to axum's and to actix-web's.\n")
    print("| test | " + " | ".join(CONTENDERS) + " |")
    print("|---|" + "---:|" * len(CONTENDERS))
    for name in names:
        cells = []
        for c in CONTENDERS:
            cell = f"{counts[(c, name)]:,.0f}"
            if c == "bocata":
                rel = [f"{counts[(c, name)] / counts[(o, name)]:.2f} × {o}"
                       for o in ("axum", "actix") if (o, name) in counts]
                cell += f" ({', '.join(rel)})" if rel else ""
            cells.append(cell)
        print(f"| {name} | " + " | ".join(cells) + " |")

if ROUNDS and not counts:
    runtime = os.environ.get("TFB_RUNTIME", "current-thread")
    print(f"\n{ROUNDS} rounds of {SECONDS} s per test, wrk -t1 -c{CONNECTIONS} (plaintext "
          f"pipelined 16 deep), server on core 0 with one worker (bocata and axum: tokio "
          f"{runtime} runtime), wrk and Postgres on core 1. Ratios are the median of each "
          f"round's ratio (lowest–highest); for CPU, the other's CPU time per request over "
          f"the contender's (above 1: less CPU).\n")
    print("| test | contender | requests/s | × axum | × actix | CPU per request "
          "| × axum (CPU) | × actix (CPU) | p99 latency |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for name in names:
        for contender in CONTENDERS:
            runs = results[(contender, name)]
            rps = statistics.median(r for r, _, _ in runs)
            p99 = statistics.median(p for _, p, _ in runs)
            cpu = statistics.median(c for _, _, c in runs)
            # wrk times a pipelined batch, not its requests: no latency for those rows.
            latency = f"{p99:.2f} ms" if dict((t[0], t[2]) for t in TESTS)[name] == 1 else "–"
            print(f"| {name} | {contender} | {rps:,.0f} "
                  f"| {ratio_cell(ratios[(contender, name, 'axum')])} "
                  f"| {ratio_cell(ratios[(contender, name, 'actix')])} | {cpu:.2f} µs "
                  f"| {ratio_cell(cpu_ratios[(contender, name, 'axum')])} "
                  f"| {ratio_cell(cpu_ratios[(contender, name, 'actix')])} | {latency} |")
