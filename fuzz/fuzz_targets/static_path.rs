//! Fuzzes bocata's `static_path` parser: see `bocata::fuzzing::static_path`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| bocata::fuzzing::static_path(data));
