//! `#[bocata::view]` rejects mistakes at compile time with a message that says what to
//! do. Each case is a file in `tests/ui` with the expected compiler output beside it.

#[test]
fn view_macro_error_messages() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("ui/*.rs");
}
