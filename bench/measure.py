"""What bench/run, bench/instructions and bench/tfb/run share: reading a server's CPU
time, wrk's report and callgrind's count, and the ratio cells of their tables."""

import os
import re
import statistics
import time

# A unit of wrk's latency, in milliseconds.
_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def cpu_seconds(pid):
    """The process's user and system CPU time so far, all its threads included."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wrk_report(out):
    """From wrk's report: requests/s, the p99 latency in ms (None without `--latency`),
    the requests made, and how many answers were errors (not 2xx or 3xx)."""
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return (rps, float(p99.group(1)) * _MS[p99.group(2)] if p99 else None, requests,
            int(errors.group(1)) if errors else 0)


def callgrind_total(out, pid):
    """The instructions counted in the dump callgrind wrote for `pid`, by the pattern
    `out` (`%p` for the pid), once the dump is there."""
    dump = out.replace("%p", str(pid)) + ".1"
    for _ in range(50):
        if os.path.exists(dump):
            break
        time.sleep(0.1)
    with open(dump) as f:
        return next(int(line.split()[1]) for line in f
                    if line.startswith(("summary:", "totals:")))


def ratio_cell(values):
    """The median of a contender's ratios, with the lowest and highest in brackets."""
    if not values:
        return "–"
    return f"{statistics.median(values):.2f} ({min(values):.2}–{max(values):.2})"
