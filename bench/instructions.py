"""The measuring half of bench/instructions: see that script for what it does."""

import os
import re
import subprocess
import sys
import tempfile

from measure import callgrind_total

SECONDS = int(sys.argv[1])
CONTENDERS = ["hyper", "bocata", "axum", "actix"]
ENDPOINTS = [("plaintext", "/plaintext"), ("json", "/json"), ("params", "/params/12345")]
HERE = os.path.dirname(os.path.abspath(__file__))
work = tempfile.mkdtemp(prefix="bocata-instructions-")


def wrk(addr, path, seconds):
    """The number of requests one connection made, one after the other, in `seconds`."""
    out = subprocess.run(["wrk", "-t1", "-c1", f"-d{seconds}s", f"http://{addr}{path}"],
                         capture_output=True, text=True, check=True).stdout
    if "Non-2xx" in out:
        raise RuntimeError(f"{path}: error responses\n{out}")
    return int(re.search(r"(\d+) requests in", out).group(1))


def instructions_per_request(contender, path):
    """Runs the contender under callgrind; counts only the measured requests."""
    env = dict(os.environ, BENCH_WORKERS="1", BENCH_ADDR="127.0.0.1:0", RUST_LOG="off")
    out = os.path.join(work, f"{contender}.%p")
    binary = os.path.join(HERE, "target", "release", f"bench-{contender}")
    process = subprocess.Popen(
        ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", binary],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        addr = process.stdout.readline().strip()
        wrk(addr, path, 2)  # warm up: connection set up, buffers grown
        control = ["callgrind_control", str(process.pid)]
        subprocess.run(control[:1] + ["-z"] + control[1:], capture_output=True, check=True)
        requests = wrk(addr, path, SECONDS)
        subprocess.run(control[:1] + ["-d"] + control[1:], capture_output=True, check=True)
    finally:
        process.terminate()
        process.wait()
    return callgrind_total(out, process.pid) / requests


counts = {}
for name, path in ENDPOINTS:
    for contender in CONTENDERS:
        counts[(contender, name)] = instructions_per_request(contender, path)
        print(f"{name} {contender} done", file=sys.stderr, flush=True)

print(f"\nInstructions the server executes per request (callgrind, one keep-alive "
      f"connection, requests one after the other for {SECONDS} s), and the ratio to "
      f"hyper's.\n")
print("| endpoint | " + " | ".join(CONTENDERS) + " |")
print("|---|" + "---:|" * len(CONTENDERS))
for name, _ in ENDPOINTS:
    floor = counts[("hyper", name)]
    cells = [f"{counts[(c, name)]:,.0f} ({counts[(c, name)] / floor:.2f})" for c in CONTENDERS]
    print(f"| {name} | " + " | ".join(cells) + " |")
