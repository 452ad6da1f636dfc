//! Fuzzes bocata's `query` parser: see `bocata::fuzzing::query`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| bocata::fuzzing::query(data));
