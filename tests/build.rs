//! Gathers the book's inline Rust examples (the code blocks that are not an
//! `{{#include}}` of a compiled file) as the docs of one item per chapter, which
//! `src/lib.rs` includes under `cfg(doctest)`: every example on a page of the book is
//! compiled and run as a doctest named for its chapter (`hooks_md`).

use std::fmt::Write as _;
use std::path::Path;
use std::{env, fs};

fn main() {
    // Read when the script runs, not when it is compiled: a script built in another
    // checkout of the repository must still read this one's book.
    let manifest_dir = env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR");
    let book = Path::new(&manifest_dir).join("../book/src");
    println!("cargo::rerun-if-changed={}", book.display());
    let mut chapters: Vec<_> = fs::read_dir(&book)
        .expect("the book's sources")
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "md"))
        .collect();
    chapters.sort();

    let mut out = String::new();
    for chapter in chapters {
        let text = fs::read_to_string(&chapter).expect("a readable chapter");
        let blocks = inline_rust_blocks(&text);
        if blocks.is_empty() {
            continue;
        }
        let name = chapter.file_name().expect("a file name").to_string_lossy();
        let mut docs = String::new();
        for (line, block) in blocks {
            writeln!(docs, "`{name}`, line {line}:\n\n{block}\n").expect("writing to a String");
        }
        let item = name.replace(['.', '-'], "_");
        writeln!(
            out,
            "#[doc = {docs:?}]\n#[allow(non_camel_case_types)]\npub struct {item};\n"
        )
        .expect("writing to a String");
    }
    let dest = Path::new(&env::var("OUT_DIR").expect("OUT_DIR")).join("book_examples.rs");
    fs::write(dest, out).expect("writing the book's examples");
}

/// The fenced blocks tagged `rust` (with any rustdoc attributes) that include no file,
/// fences and all, with the line each starts on.
fn inline_rust_blocks(text: &str) -> Vec<(usize, String)> {
    let mut blocks = Vec::new();
    let mut open: Option<(usize, String)> = None;
    for (index, line) in text.lines().enumerate() {
        let fence = line.trim_start().starts_with("```");
        match &mut open {
            None if fence && line.trim_start()[3..].starts_with("rust") => {
                open = Some((index + 1, format!("{}\n", line.trim_start())));
            }
            Some((_, block)) if fence => {
                block.push_str("```");
                let (start, block) = open.take().expect("an open block");
                if !block.contains("{{#") {
                    blocks.push((start, block));
                }
            }
            Some((_, block)) => {
                block.push_str(line);
                block.push('\n');
            }
            None => {}
        }
    }
    blocks
}
