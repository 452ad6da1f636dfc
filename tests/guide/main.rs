//! The code of the book, compiled and run: each module is one chapter's examples.
//!
//! The book includes the code between `// ANCHOR: name` and `// ANCHOR_END: name`
//! markers; the tests beside it check that what the chapter says is true.

mod blueprints;
mod config;
mod error_pages;
mod errors;
mod hooks;
mod migration;
mod redirects;
mod requests;
mod responses;
mod server;
mod state;
mod streaming;
mod templates;
mod testing;
mod tower;
mod uploads;
mod views;
mod websockets;
