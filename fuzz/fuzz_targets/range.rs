//! Fuzzes bocata's `range` parser: see `bocata::fuzzing::range`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| bocata::fuzzing::range(data));
