//! Mistakes a newcomer makes with views, handlers, hooks and `abort` are compile errors
//! (or, for a bare `abort(…);`, a warning) whose message says what to write. Each case
//! is a file in `tests/ui` with the expected compiler output beside it, pinned to the
//! toolchain of the workspace's `rust-version`.

#[test]
fn compile_errors_say_what_to_write() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("ui/*.rs");
}
