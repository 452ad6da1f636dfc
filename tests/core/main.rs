//! Black-box tests of the core: views, routing, responses, requests, errors, the
//! TestClient, and the server over real sockets.

mod errors;
mod logging;
mod macro_errors;
mod requests;
mod responses;
mod routing;
mod server;
mod test_client;
mod views;
