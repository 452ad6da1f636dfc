//! Fuzzes bocata's `multipart` parser: see `bocata::fuzzing::multipart`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| bocata::fuzzing::multipart(data));
