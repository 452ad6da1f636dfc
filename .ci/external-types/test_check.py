#!/usr/bin/env python3
"""The external-types check on a fixture crate whose leaks are known (fixture/).

`leaky` exposes `foreign`'s types in each kind of place a public API has, allows one of
them, and hides one in a private module. The check must report exactly the leaks the
fixture marks, so a tool that stopped finding anything, or a report this script can no
longer read, fails here instead of passing bocata silently.

Run: python3 .ci/external-types/test_check.py (needs the nightly toolchain and
cargo-check-external-types, as .ci/run installs them).
"""

import io
import pathlib
import shutil
import sys
import tempfile
import unittest

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.dont_write_bytecode = True  # no __pycache__ in the repository
import check  # noqa: E402

# Every leak in fixture/leaky/src/lib.rs, as check.py keys it.
EXPECTED = {
    "foreign::Leaked | argument named _value of leaky::argument",
    "foreign::Leaked | return value of leaky::returned",
    "foreign::Known | generic arg of leaky::wrapped",
    "foreign::Capability | trait bound of leaky::bounded",
    "foreign::Leaked | struct field of leaky::Fields::leaked",
    "foreign::Capability | implemented trait of leaky::Local",
    "foreign::Leaked | generic arg of leaky::Local",
    "foreign::Capability | trait bound of leaky::Source::Item",
    "foreign::Leaked | type alias of leaky::Alias",
    "foreign::Leaked | re-export named leaky::Reexported",
}


class FixtureCheck(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.root = pathlib.Path(cls.tmp.name) / "fixture"
        shutil.copytree(HERE / "fixture", cls.root)
        cls.manifest = str(cls.root / "leaky" / "Cargo.toml")

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def known_file(self, lines):
        path = self.root / "known.txt"
        path.write_text("# comment line\n\n" + "".join(f"{line}  # why\n" for line in lines))
        return str(path)

    def run_check(self, known_lines=None):
        out = io.StringIO()
        known = None if known_lines is None else self.known_file(known_lines)
        status = check.check(self.manifest, known, out=out)
        return status, out.getvalue()

    def test_reports_every_leak_and_only_those(self):
        status, output = check.run_tool(self.manifest, io.StringIO())
        self.assertEqual(status, 1, output)
        report = check.parse(output)
        self.assertEqual({v.key() for v in report.violations}, EXPECTED)
        keys = "\n".join(v.key() for v in report.violations)
        self.assertNotIn("foreign::Allowed", keys)
        self.assertNotIn("hidden", keys)
        self.assertEqual(report.unused_allowed, [])

    def test_without_a_known_list_every_leak_fails_with_its_place(self):
        status, output = self.run_check()
        self.assertEqual(status, 1, output)
        self.assertEqual(output.count("external type in the public API:"), len(EXPECTED))
        self.assertIn(
            "external type in the public API: foreign::Leaked\n"
            "    in return value of leaky::returned\n"
            "    at leaky/src/lib.rs:",
            output,
        )
        self.assertIn("10 new violations, 0 known ones tolerated", output)

    def test_known_violations_are_tolerated(self):
        status, output = self.run_check(sorted(EXPECTED))
        self.assertEqual(status, 0, output)
        self.assertIn("0 new violations, 10 known ones tolerated", output)

    def test_a_violation_missing_from_the_known_list_fails(self):
        missing = "foreign::Leaked | struct field of leaky::Fields::leaked"
        status, output = self.run_check(sorted(EXPECTED - {missing}))
        self.assertEqual(status, 1, output)
        self.assertEqual(output.count("external type in the public API:"), 1)
        self.assertIn("in struct field of leaky::Fields::leaked", output)

    def test_a_known_violation_that_no_longer_occurs_fails(self):
        stale = "foreign::Leaked | return value of leaky::gone"
        status, output = self.run_check(sorted(EXPECTED | {stale}))
        self.assertEqual(status, 1, output)
        self.assertIn("known violation no longer occurs; remove it from", output)
        self.assertIn(f"    {stale}\n", output)

    def test_an_allowlist_entry_that_matches_nothing_fails(self):
        cargo_toml = self.root / "leaky" / "Cargo.toml"
        original = cargo_toml.read_text()
        try:
            cargo_toml.write_text(
                original.replace('["foreign::Allowed"]', '["foreign::Allowed", "foreign::Gone"]')
            )
            status, output = self.run_check(sorted(EXPECTED))
        finally:
            cargo_toml.write_text(original)
        self.assertEqual(status, 1, output)
        self.assertIn("allowed external type `foreign::Gone` matches nothing", output)


class Parsing(unittest.TestCase):
    def test_a_report_whose_count_disagrees_is_refused(self):
        output = "error: Unapproved external type `x::Y` referenced in public API\n"
        with self.assertRaises(ValueError):
            check.parse(output)
        with self.assertRaises(ValueError):
            check.parse("1 errors, 0 warnings emitted\n")

    def test_an_empty_report_is_clean(self):
        report = check.parse("Running rustdoc to produce json doc output...\n")
        self.assertEqual(report.violations, {})

    def test_known_lines_ignore_comments_and_spacing(self):
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as file:
            file.write("# header\n  a::B  |  return value of c::d   # until 0.2\n\n")
        try:
            self.assertEqual(check.read_known(file.name), {"a::B | return value of c::d"})
        finally:
            pathlib.Path(file.name).unlink()


if __name__ == "__main__":
    unittest.main(verbosity=2)
