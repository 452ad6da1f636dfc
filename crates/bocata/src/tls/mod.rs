//! HTTPS with rustls (feature `tls`): certificates from PEM files or a rustls
//! configuration, HTTP/2 and HTTP/1.1 offered by ALPN, certificates reloaded without a
//! restart, client certificates for mutual TLS, and a plain-HTTP listener that
//! redirects to HTTPS.
//!
//! ```no_run
//! use bocata::tls::Tls;
//! use bocata::{App, Server};
//!
//! # async fn demo(app: App) -> std::io::Result<()> {
//! Server::new(app)
//!     .tls(Tls::from_pem_files("cert.pem", "key.pem"))
//!     .run("0.0.0.0:8443")
//!     .await
//! # }
//! ```
//!
//! The handshake is under the server's
//! [`header_read_timeout`](crate::Server::header_read_timeout): a client that opens a
//! connection and never finishes it is closed like one that never sends its head. A
//! failed handshake closes that connection and nothing else.
//!
//! The crypto provider is *ring*: it builds with the C compiler every Rust toolchain
//! on Linux already uses, where aws-lc-rs also needs CMake (and NASM on Windows).

mod acceptor;
mod config;
mod info;
mod redirect;

pub(crate) use self::acceptor::{Acceptor, Handshake};
pub use self::config::{Tls, TlsError};
pub use self::info::TlsInfo;
pub(crate) use self::redirect::redirect_to_https;

/// The rustls that bocata is built with, for a [`ServerConfig`](rustls::ServerConfig)
/// of your own ([`Tls::from_config`]).
pub use rustls;
