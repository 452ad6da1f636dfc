//! Fuzzes bocata's `content_disposition` parser: see `bocata::fuzzing::content_disposition`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| bocata::fuzzing::content_disposition(data));
