#!/usr/bin/env python3
"""Fails when a type from a crate outside the allowlist appears in bocata's public API.

The walk over the public API is `cargo check-external-types` (run on the nightly
toolchain: it reads rustdoc's JSON). The allowlist is the crate's
`[package.metadata.cargo_check_external_types]` in its Cargo.toml. This script runs the
tool, reads its report and compares it with a list of known violations (`--allow-known`)
that are tolerated until they are fixed:

- a violation that is not in the known list fails, printed with the foreign type, where
  in the signature it appears, the public item and the source line;
- a known violation that no longer occurs fails too, so the list only ever shrinks;
- an allowlist entry that matches nothing, or a type matched by two entries, fails.

Usage: check.py [--manifest-path crates/bocata/Cargo.toml] [--allow-known FILE]
Exit status: 0 clean, 1 violations, 2 the tool itself failed.
"""

import argparse
import os
import re
import subprocess
import sys
from dataclasses import dataclass

HEADLINE = re.compile(r"^(error|warning): (.*)$")
UNAPPROVED = re.compile(r"^Unapproved external type `(.+)` referenced in public API$")
UNUSED = re.compile(r"^Approved external type `(.+)` wasn't referenced in public API$")
DUPLICATE = re.compile(r"^External type `(.+)` is allowed multiple times:")
WHERE = re.compile(r"^\s*= in (.+)$")
AT = re.compile(r"^\s*--> (\S+)$")
SUMMARY = re.compile(r"^(\d+) errors, (\d+) warnings emitted$")


@dataclass(frozen=True)
class Violation:
    """One foreign type in one place of the public API."""

    foreign_type: str
    # Where in the signature, and of which public item: "return value of bocata::f".
    where: str

    def key(self):
        """The violation's line in a known-violations file."""
        return f"{self.foreign_type} | {self.where}"


@dataclass
class Report:
    """What the tool found, read from its output."""

    violations: dict  # Violation -> source location ("file:line:col")
    unused_allowed: list
    duplicate_allowed: list
    other_warnings: list


def parse(output):
    """Reads the tool's human-readable report into a Report.

    Each finding starts with an `error:` or `warning:` line; the lines after it until the
    next finding hold the source location (`--> file:line:col`) and the place in the
    signature (`= in <what> of <item>`). The closing count line is checked against what
    was read, so a change in the tool's wording cannot make findings disappear.
    """
    report = Report({}, [], [], [])
    findings = []  # [level, headline, location, where]
    counted = None
    for line in output.splitlines():
        if m := HEADLINE.match(line):
            findings.append([m.group(1), m.group(2), None, None])
        elif m := SUMMARY.match(line.strip()):
            counted = (int(m.group(1)), int(m.group(2)))
        elif findings and (m := AT.match(line)) and findings[-1][2] is None:
            findings[-1][2] = m.group(1)
        elif findings and (m := WHERE.match(line)) and findings[-1][3] is None:
            findings[-1][3] = m.group(1).replace("`", "")
    read = (
        sum(1 for f in findings if f[0] == "error"),
        sum(1 for f in findings if f[0] == "warning"),
    )
    if read != (counted or (0, 0)):
        raise ValueError(
            f"read {read[0]} errors and {read[1]} warnings, but the tool counted "
            f"{counted or 'none'}: its output format has changed"
        )
    for level, headline, location, where in findings:
        if m := UNAPPROVED.match(headline):
            violation = Violation(m.group(1), where or "(no location given)")
            report.violations.setdefault(violation, location or "?")
        elif m := UNUSED.match(headline):
            report.unused_allowed.append(m.group(1))
        elif m := DUPLICATE.match(headline):
            report.duplicate_allowed.append(f"{m.group(1)} ({where})")
        elif level == "error":
            raise ValueError(f"an error this script does not know: {headline}")
        else:
            report.other_warnings.append(f"{headline} ({where or location or '-'})")
    return report


def read_known(path):
    """The known violations in `path`: one `type | where` a line, `#` comments."""
    if path is None:
        return set()
    with open(path, encoding="utf-8") as file:
        lines = (line.split("#", 1)[0].strip() for line in file)
        return {" | ".join(p.strip() for p in line.split("|", 1)) for line in lines if line}


def compare(report, known):
    """Returns (new, stale): violations not in `known`, and `known` lines not found."""
    found = {v.key(): v for v in report.violations}
    new = sorted((v for k, v in found.items() if k not in known), key=Violation.key)
    stale = sorted(known - found.keys())
    return new, stale


def run_tool(manifest_path, out):
    """Runs cargo-check-external-types on the nightly toolchain; returns (status, report)."""
    command = [
        "cargo", "+nightly", "check-external-types",
        "--manifest-path", manifest_path,
    ]
    env = dict(os.environ, NO_COLOR="1", CARGO_TERM_COLOR="never")
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    # The report is on stdout; stderr has progress lines and, on failure, the cause.
    out.write(result.stderr)
    return result.returncode, result.stdout


def check(manifest_path, known_path, out=sys.stdout):
    """The whole check; returns the exit status."""
    status, output = run_tool(manifest_path, out)
    if status not in (0, 1):
        out.write(output)
        out.write(
            "\ncargo-check-external-types failed (above). If it names a rustdoc JSON "
            "format version, the installed nightly and the tool's release disagree: "
            "install the release that reads the nightly's format (see .ci/run).\n"
        )
        return 2
    try:
        report = parse(output)
    except ValueError as err:
        out.write(output)
        out.write(f"\ncould not read cargo-check-external-types' report: {err}\n")
        return 2
    if status == 1 and not report.violations and not report.duplicate_allowed:
        out.write(output)
        out.write("\nthe tool failed but no finding could be read from its report\n")
        return 2

    known = read_known(known_path)
    new, stale = compare(report, known)
    failed = False
    for violation in new:
        failed = True
        out.write(
            f"external type in the public API: {violation.foreign_type}\n"
            f"    in {violation.where}\n"
            f"    at {report.violations[violation]}\n"
        )
    for line in stale:
        failed = True
        out.write(f"known violation no longer occurs; remove it from {known_path}:\n    {line}\n")
    for pattern in report.unused_allowed:
        failed = True
        out.write(f"allowed external type `{pattern}` matches nothing; remove it from {manifest_path}\n")
    for duplicate in report.duplicate_allowed:
        failed = True
        out.write(f"external type allowed by two entries of {manifest_path}: {duplicate}\n")
    for warning in report.other_warnings:
        out.write(f"note: {warning}\n")

    tolerated = len(report.violations) - len(new)
    out.write(
        f"external types: {len(new)} new violations, {tolerated} known ones tolerated"
        f"{f' (listed in {known_path})' if known_path else ''}, {len(stale)} stale entries\n"
    )
    if new:
        out.write(
            f"Either use a bocata type, or, for a deliberate public dependency, add the "
            f"type to allowed_external_types in {manifest_path} with a comment saying why.\n"
        )
    return 1 if failed else 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--manifest-path", default="crates/bocata/Cargo.toml")
    parser.add_argument(
        "--allow-known",
        metavar="FILE",
        help="violations tolerated for now, one `type | where` a line",
    )
    args = parser.parse_args(argv)
    return check(args.manifest_path, args.allow_known)


if __name__ == "__main__":
    sys.exit(main())
