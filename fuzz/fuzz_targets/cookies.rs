//! Fuzzes bocata's `cookies` parser: see `bocata::fuzzing::cookies`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| bocata::fuzzing::cookies(data));
