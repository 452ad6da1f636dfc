"""The measuring half of bench/run: see that script for what it does."""

import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

from measure import cpu_seconds, ratio_cell, wrk_report

ROUNDS, SECONDS = int(sys.argv[1]), int(sys.argv[2])
CONTENDERS = ["hyper", "bocata", "axum", "actix"]
ENDPOINTS = [
    ("plaintext", "GET", "/plaintext"),
    ("json", "GET", "/json"),
    ("params", "GET", "/params/12345"),
    ("echo", "POST", "/echo"),
    ("file", "GET", "/file"),
    ("stream", "GET", "/stream"),
]
# HTTP/2 with prior knowledge (h2c), driven by h2load: 10 connections, each with 10
# streams in flight. The floor is hyper-util's auto builder (the hyper server with
# `BENCH_AUTO=1`), which is what serving both protocols on one port costs in hyper.
H2_ENDPOINTS = [("h2 plaintext", "/plaintext"), ("h2 json", "/json")]
# Over TLS (rustls with the ring provider for every contender, one self-signed P-256
# certificate): HTTP/1.1 by wrk, which offers no ALPN, and h2 by h2load, which agrees on
# it by ALPN. The floor is hyper with tokio-rustls, serving HTTP/1 directly when ALPN
# says http/1.1 and otherwise with the auto builder (`BENCH_TLS=1`).
TLS_ENDPOINTS = [("tls plaintext", "GET", "/plaintext")]
H2_TLS_ENDPOINTS = [("h2 tls plaintext", "/plaintext")]
if os.environ.get("ONLY"):
    only = os.environ["ONLY"].split(",")
    ENDPOINTS = [e for e in ENDPOINTS if e[0] in only]
    H2_ENDPOINTS = [e for e in H2_ENDPOINTS if e[0] in only]
    TLS_ENDPOINTS = [e for e in TLS_ENDPOINTS if e[0] in only]
    H2_TLS_ENDPOINTS = [e for e in H2_TLS_ENDPOINTS if e[0] in only]
if os.environ.get("CONTENDERS"):
    CONTENDERS = os.environ["CONTENDERS"].split(",")
HERE = os.path.dirname(os.path.abspath(__file__))
work = tempfile.mkdtemp(prefix="bocata-bench-")
payload = os.path.join(work, "file.bin")
with open(payload, "wb") as f:
    f.write(os.urandom(64 * 1024))
body = '{"items":[' + ",".join(f'{{"id":{i},"name":"item {i:04}"}}' for i in range(36)) + "]}"
body = body[:-2] + "x" * (1024 - len(body)) + body[-2:] if len(body) < 1024 else body
post = os.path.join(work, "post.lua")
with open(post, "w") as f:
    f.write('wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
            f"wrk.body = [[{body}]]\n")
cert, key = os.path.join(work, "cert.pem"), os.path.join(work, "key.pem")
if TLS_ENDPOINTS or H2_TLS_ENDPOINTS:
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", key,
                    "-out", cert], check=True, capture_output=True)


started = []


def start(name, auto=False, tls=False):
    env = dict(os.environ, BENCH_WORKERS="1", BENCH_FILE=payload, BENCH_ADDR="127.0.0.1:0",
               RUST_LOG="off", BENCH_AUTO="1" if auto else "0", BENCH_TLS="1" if tls else "0",
               BENCH_CERT=cert, BENCH_KEY=key)
    binary = os.path.join(HERE, "target", "release", f"bench-{name}")
    process = subprocess.Popen(["taskset", "-c", "0", binary], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True)
    started.append(process)
    addr = process.stdout.readline().strip()
    time.sleep(0.2)
    if not addr or process.poll() is not None:
        raise RuntimeError(f"bench-{name} did not start (auto={auto}, tls={tls})")
    return process, addr


def peak_rss_mib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def wrk(url, method, pid):
    """requests/s, p99 latency in ms, and the server's CPU microseconds per request."""
    args = ["taskset", "-c", "1", "wrk", "-t1", "-c64", f"-d{SECONDS}s", "--latency", url]
    if method == "POST":
        args[5:5] = ["-s", post]
    cpu_before = cpu_seconds(pid)
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    cpu = cpu_seconds(pid) - cpu_before
    rps, p99, requests, errors = wrk_report(out)
    if errors:
        raise RuntimeError(f"{url}: {errors} error responses\n{out}")
    return rps, p99, cpu * 1e6 / max(requests, 1)


def h2load(url, pid):
    """requests/s, mean latency in ms, and the server's CPU microseconds per request."""
    args = ["taskset", "-c", "1", "h2load", "-c10", "-m10", "-t1", f"-D{SECONDS}", url]
    cpu_before = cpu_seconds(pid)
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    cpu = cpu_seconds(pid) - cpu_before
    # Over TLS, h2load speaks what ALPN agreed on: make sure that was h2.
    protocol = re.search(r"Application protocol: (\S+)", out)
    if url.startswith("https:") and (not protocol or protocol.group(1) != "h2"):
        raise RuntimeError(f"{url}: ALPN did not agree on h2\n{out}")
    rps = float(re.search(r"finished in [\d.]+\w+, ([\d.]+) req/s", out).group(1))
    done = re.search(r"(\d+) succeeded, (\d+) failed, (\d+) errored", out)
    if int(done.group(2)) or int(done.group(3)):
        raise RuntimeError(f"{url}: failed or errored requests\n{out}")
    mean = re.search(r"time for request:\s+\S+\s+\S+\s+([\d.]+)(us|ms|s)", out)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[mean.group(2)]
    return rps, float(mean.group(1)) * scale, cpu * 1e6 / max(int(done.group(1)), 1)


# Every server stays up for the whole run (an idle one costs nothing); measurements
# alternate contender by contender within each endpoint and round, so neighbouring
# measurements, which share the machine's mood, are the ones compared. Besides
# throughput, the server's CPU time per request is read from /proc: time the
# hypervisor takes from the server's core does not count in it, so it is the steadier
# figure on a shared machine.
names = [e[0] for e in ENDPOINTS + H2_ENDPOINTS + TLS_ENDPOINTS + H2_TLS_ENDPOINTS]
results = {(c, e): [] for c in CONTENDERS for e in names}
ratios = {(c, e): [] for c in CONTENDERS for e in names}
cpu_ratios = {(c, e): [] for c in CONTENDERS for e in names}


def compare(name, measured):
    """Records each contender's ratios to hyper for one endpoint of one round."""
    if "hyper" in measured:
        floor_rps, _, floor_cpu = measured["hyper"]
        for contender, (rps, _, cpu) in measured.items():
            ratios[(contender, name)].append(rps / floor_rps)
            cpu_ratios[(contender, name)].append(floor_cpu / cpu)


try:
    servers = {c: start(c) for c in CONTENDERS} if ENDPOINTS or H2_ENDPOINTS else {}
    # For HTTP/2, hyper and actix-web are started again with h2c on; bocata and axum
    # serve both protocols on one port as they are.
    h2_servers = {c: start(c, auto=True) if c in ("hyper", "actix") else servers[c]
                  for c in CONTENDERS} if H2_ENDPOINTS else {}
    # Each contender once more over TLS, for both TLS rows.
    tls_servers = ({c: start(c, tls=True) for c in CONTENDERS}
                   if TLS_ENDPOINTS or H2_TLS_ENDPOINTS else {})
    # The servers each row is measured on, for the peak RSS column.
    row_servers = {**{e[0]: servers for e in ENDPOINTS},
                   **{e[0]: h2_servers for e in H2_ENDPOINTS},
                   **{e[0]: tls_servers for e in TLS_ENDPOINTS + H2_TLS_ENDPOINTS}}
    for round_ in range(ROUNDS):
        for scheme, endpoints, on in (("http", ENDPOINTS, servers),
                                      ("https", TLS_ENDPOINTS, tls_servers)):
            for name, method, path in endpoints:
                measured = {}
                for contender in CONTENDERS:
                    process, addr = on[contender]
                    measured[contender] = wrk(f"{scheme}://{addr}{path}", method, process.pid)
                    results[(contender, name)].append(measured[contender])
                compare(name, measured)
        for scheme, endpoints, on in (("http", H2_ENDPOINTS, h2_servers),
                                      ("https", H2_TLS_ENDPOINTS, tls_servers)):
            for name, path in endpoints:
                measured = {}
                for contender in CONTENDERS:
                    process, addr = on[contender]
                    measured[contender] = h2load(f"{scheme}://{addr}{path}", process.pid)
                    results[(contender, name)].append(measured[contender])
                compare(name, measured)
        print(f"round {round_ + 1}/{ROUNDS} done", file=sys.stderr, flush=True)
    rss = {(c, name): peak_rss_mib(on[c][0].pid) for name, on in row_servers.items()
           for c in CONTENDERS}
finally:
    for process in started:
        if process.poll() is None:
            process.terminate()
            process.wait()


print(f"\n{ROUNDS} rounds of {SECONDS} s per endpoint, wrk -t1 -c64 (HTTP/1.1) or h2load "
      f"-c10 -m10 (h2c with prior knowledge, or h2 by ALPN for the TLS row), server on one "
      f"core with one worker thread. TLS rows: rustls with ring for every contender. "
      f"Ratios are to hyper, the median of each round's ratio (lowest–highest); for CPU, "
      f"hyper's CPU time per request over the contender's. The latency column is the p99 "
      f"for wrk, the mean for h2load, which reports no percentiles.\n")
print("| endpoint | contender | requests/s | × hyper | CPU per request | × hyper (CPU) "
      "| latency | peak RSS |")
print("|---|---|---:|---:|---:|---:|---:|---:|")
for name in names:
    for contender in CONTENDERS:
        runs = results[(contender, name)]
        rps = statistics.median(r for r, _, _ in runs)
        p99 = statistics.median(p for _, p, _ in runs)
        cpu = statistics.median(c for _, _, c in runs)
        print(f"| {name} | {contender} | {rps:,.0f} | {ratio_cell(ratios[(contender, name)])} "
              f"| {cpu:.2f} µs | {ratio_cell(cpu_ratios[(contender, name)])} | {p99:.2f} ms "
              f"| {rss[(contender, name)]:.1f} MiB |")
