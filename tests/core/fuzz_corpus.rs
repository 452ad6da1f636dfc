//! Replays the fuzz corpora in `fuzz/corpus/` through the same entry points the fuzz
//! targets use, so an input that once broke a parser keeps being tested by
//! `cargo test`, on stable Rust, without a fuzzer.

use std::path::Path;

fn replay(target: &str, run: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target);
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("a corpus entry").path();
        let input = std::fs::read(&path).expect("a corpus file");
        run(&input);
        count += 1;
    }
    assert!(count > 0, "the {target} corpus is empty");
}

#[test]
fn range() {
    replay("range", bocata::fuzzing::range);
}

#[test]
fn conditional() {
    replay("conditional", bocata::fuzzing::conditional);
}

#[test]
fn content_disposition() {
    replay("content_disposition", bocata::fuzzing::content_disposition);
}

#[test]
fn static_path() {
    replay("static_path", bocata::fuzzing::static_path);
}

#[test]
fn query() {
    replay("query", bocata::fuzzing::query);
}

#[test]
fn cookies() {
    replay("cookies", bocata::fuzzing::cookies);
}

#[test]
fn multipart() {
    replay("multipart", bocata::fuzzing::multipart);
}
