"""The measuring half of bench/run: see that script for what it does."""

import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

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
if os.environ.get("ONLY"):
    ENDPOINTS = [e for e in ENDPOINTS if e[0] in os.environ["ONLY"].split(",")]
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


def start(name):
    env = dict(os.environ, BENCH_WORKERS="1", BENCH_FILE=payload, BENCH_ADDR="127.0.0.1:0",
               RUST_LOG="off")
    binary = os.path.join(HERE, "target", "release", f"bench-{name}")
    process = subprocess.Popen(["taskset", "-c", "0", binary], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True)
    addr = process.stdout.readline().strip()
    time.sleep(0.2)
    return process, addr


def peak_rss_mib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def wrk(url, method):
    args = ["taskset", "-c", "1", "wrk", "-t1", "-c64", f"-d{SECONDS}s", "--latency", url]
    if method == "POST":
        args[5:5] = ["-s", post]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise RuntimeError(f"{url}: {errors.group(1)} error responses\n{out}")
    return rps, float(p99.group(1)) * scale


# Every server stays up for the whole run (an idle one costs nothing); measurements
# alternate contender by contender within each endpoint and round, so neighbouring
# measurements, which share the machine's mood, are the ones compared.
servers = {c: start(c) for c in CONTENDERS}
results = {(c, e): [] for c in CONTENDERS for e, _, _ in ENDPOINTS}
ratios = {(c, e): [] for c in CONTENDERS for e, _, _ in ENDPOINTS}
try:
    for round_ in range(ROUNDS):
        for name, method, path in ENDPOINTS:
            measured = {}
            for contender in CONTENDERS:
                _, addr = servers[contender]
                measured[contender] = wrk(f"http://{addr}{path}", method)
                results[(contender, name)].append(measured[contender])
            if "hyper" in measured:
                for contender, (rps, _) in measured.items():
                    ratios[(contender, name)].append(rps / measured["hyper"][0])
        print(f"round {round_ + 1}/{ROUNDS} done", file=sys.stderr, flush=True)
    rss = {c: peak_rss_mib(process.pid) for c, (process, _) in servers.items()}
finally:
    for process, _ in servers.values():
        process.terminate()
        process.wait()

print(f"\n{ROUNDS} rounds of {SECONDS} s per endpoint, wrk -t1 -c64, server on one core "
      f"with one worker thread; × hyper is the median of each round's ratio (lowest–highest)\n")
print("| endpoint | contender | requests/s (median) | p99 latency (median) | peak RSS | × hyper |")
print("|---|---|---:|---:|---:|---:|")
for name, _, _ in ENDPOINTS:
    for contender in CONTENDERS:
        runs = results[(contender, name)]
        rps = statistics.median(r for r, _ in runs)
        p99 = statistics.median(p for _, p in runs)
        ratio = ratios[(contender, name)]
        shown = f"{statistics.median(ratio):.2f} ({min(ratio):.2}–{max(ratio):.2})" if ratio else "–"
        print(f"| {name} | {contender} | {rps:,.0f} | {p99:.2f} ms | {rss[contender]:.1f} MiB | "
              f"{shown} |")
