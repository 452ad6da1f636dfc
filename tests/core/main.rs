//! Black-box tests of the core: views, routing, responses, requests, errors, the
//! TestClient, and the server over real sockets.

mod background;
mod connection_slots;
mod error_pages;
mod errors;
mod exhaustion;
mod extract;
mod files;
mod files_wire;
mod fuzz_corpus;
mod hooks;
mod hostile;
mod lifecycle;
mod logging;
mod macro_errors;
mod openapi;
mod redirects;
mod requests;
mod responses;
mod routing;
mod server;
mod sessions;
mod shutdown;
mod slow_bodies;
mod stalled;
mod static_files;
mod streaming;
mod templates;
mod test_client;
mod tls;
mod tls_clients;
mod tower;
mod uploads;
mod views;
mod websocket;
mod websocket_close;
