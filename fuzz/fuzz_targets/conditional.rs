//! Fuzzes bocata's `conditional` parser: see `bocata::fuzzing::conditional`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| bocata::fuzzing::conditional(data));
