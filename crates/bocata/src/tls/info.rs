//! What a TLS connection agreed on, for the views of its requests.

use rustls::ServerConnection;
use rustls::pki_types::CertificateDer;

/// What the handshake of a request's connection agreed on: read with
/// [`Request::tls`](crate::Request::tls).
///
/// ```
/// use bocata::{Request, Res, Result};
///
/// async fn whoami(req: &Request, res: &mut Res) -> Result {
///     match req.tls().and_then(|tls| tls.client_certificates().first()) {
///         // Parse it with the X.509 crate of your choice.
///         Some(cert) => res.text(format!("a client certificate of {} bytes", cert.len())),
///         None => res.text("no client certificate"),
///     };
///     Ok(())
/// }
/// ```
#[derive(Clone, Debug)]
pub struct TlsInfo {
    alpn: Option<Vec<u8>>,
    server_name: Option<String>,
    client_certificates: Vec<CertificateDer<'static>>,
}

impl TlsInfo {
    pub(super) fn of(connection: &ServerConnection) -> Self {
        Self {
            alpn: connection.alpn_protocol().map(<[u8]>::to_vec),
            server_name: connection.server_name().map(str::to_owned),
            client_certificates: connection
                .peer_certificates()
                .map(|chain| chain.iter().map(|c| c.clone().into_owned()).collect())
                .unwrap_or_default(),
        }
    }

    /// The protocol agreed by ALPN: `h2` or `http/1.1`, or none if the client offered
    /// none.
    pub fn alpn_protocol(&self) -> Option<&[u8]> {
        self.alpn.as_deref()
    }

    /// The host name the client asked for (SNI), if it sent one.
    pub fn server_name(&self) -> Option<&str> {
        self.server_name.as_deref()
    }

    /// The certificate chain the client presented, its own first (DER); empty unless
    /// the server asks for one ([`Tls::client_ca`](super::Tls::client_ca)) and the
    /// client sent one, which the server has then verified.
    pub fn client_certificates(&self) -> &[CertificateDer<'static>] {
        &self.client_certificates
    }
}
