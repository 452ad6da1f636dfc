//! The book's inline Rust. A chapter keeps a short example in its own text, so that
//! the page reads on a code host that does not run mdBook's `{{#include}}`; such a
//! block must be a copy of compiled code, line for line, so that it cannot rot either.

use std::path::{Path, PathBuf};

/// The workspace's root.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ is in the workspace")
        .to_path_buf()
}

/// Every file under `dir` whose name ends with `extension`, `target/` left out.
fn files(dir: &Path, extension: &str, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() && entry.file_name() != "target" {
            files(&path, extension, found);
        } else if path.extension().is_some_and(|e| e == extension) {
            found.push(path);
        }
    }
}

/// The ```rust blocks of `markdown` that are not `{{#include}}`s, with the line each
/// one starts on.
fn inline_rust(markdown: &str) -> Vec<(usize, Vec<&str>)> {
    let mut blocks = Vec::new();
    let mut open: Option<(usize, Vec<&str>)> = None;
    for (number, line) in markdown.lines().enumerate() {
        let fence = line.trim_start().starts_with("```");
        match &mut open {
            Some((start, block)) if fence => {
                if !block.iter().any(|l| l.contains("{{#include")) {
                    blocks.push((*start, std::mem::take(block)));
                }
                open = None;
            }
            Some((_, block)) => block.push(line),
            None if fence && line.trim_start()[3..].starts_with("rust") => {
                open = Some((number + 1, Vec::new()));
            }
            None => {}
        }
    }
    blocks
}

/// Whether `block` is in `source` line for line, each line with the same indentation
/// added (blank lines match blank lines).
fn contains(source: &[&str], block: &[&str]) -> bool {
    let Some(first) = block.first() else {
        return true;
    };
    source.windows(block.len()).any(|window| {
        let Some(indent) = window[0].strip_suffix(first) else {
            return false;
        };
        indent.trim().is_empty()
            && window.iter().zip(block).all(|(have, want)| {
                if want.trim().is_empty() {
                    have.trim().is_empty()
                } else {
                    have.strip_prefix(indent) == Some(want)
                }
            })
    })
}

#[test]
fn the_inline_rust_of_every_chapter_is_a_copy_of_compiled_code() {
    let root = root();
    let mut sources = Vec::new();
    for dir in ["crates", "examples", "tests"] {
        files(&root.join(dir), "rs", &mut sources);
    }
    let sources: Vec<String> = sources
        .iter()
        .map(|path| std::fs::read_to_string(path).expect("a readable source file"))
        .collect();
    let sources: Vec<Vec<&str>> = sources.iter().map(|s| s.lines().collect()).collect();

    let mut chapters = Vec::new();
    files(&root.join("book/src"), "md", &mut chapters);
    let mut checked = 0;
    let mut stray = Vec::new();
    for chapter in chapters {
        let markdown = std::fs::read_to_string(&chapter).expect("a readable chapter");
        for (line, block) in inline_rust(&markdown) {
            checked += 1;
            if !sources.iter().any(|source| contains(source, &block)) {
                let name = chapter.strip_prefix(&root).unwrap_or(&chapter);
                stray.push(format!("{}:{line}", name.display()));
            }
        }
    }
    assert!(checked > 0, "the book has inline Rust to check");
    assert!(
        stray.is_empty(),
        "these ```rust blocks are not copies of compiled code; copy them from a test or \
         an example, or {{{{#include}}}} them: {stray:#?}"
    );
}

#[test]
fn a_block_matches_at_any_indentation_and_only_line_for_line() {
    let source = ["fn f() {", "    let a = 1;", "", "    let b = 2;", "}"];
    let cases: [(&[&str], bool); 6] = [
        (&["let a = 1;", "", "let b = 2;"], true),
        (&["fn f() {", "    let a = 1;"], true),
        (&["let a = 1;", "let b = 2;"], false),
        (&["let a = 1;", "", "    let b = 2;"], false),
        (&["let a = 2;"], false),
        (&["a = 1;"], false),
    ];
    for (block, expected) in cases {
        assert_eq!(contains(&source, block), expected, "{block:?}");
    }
}

#[test]
fn include_blocks_and_other_languages_are_not_inline_rust() {
    let markdown = "text\n```rust\n{{#include a.rs:x}}\n```\n```toml\na = 1\n```\n\
                    ```rust\nlet x = 1;\n```\n```rust,ignore\nlet y;\n```\n";
    assert_eq!(
        inline_rust(markdown),
        [(8, vec!["let x = 1;"]), (11, vec!["let y;"])]
    );
}
