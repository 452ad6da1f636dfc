//! A test certificate authority and the certificates it issues, for the HTTPS tests:
//! in-process clients trust it through rustls, outside clients through its PEM file.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use bocata::tls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use bocata::tls::rustls::{self, ClientConfig, RootCertStore};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};

use bocata::Server;
use bocata::tls::Tls;

use crate::{Fixture, Running};

/// A test certificate authority, and the certificates it issues.
pub struct Pki {
    ca: CertifiedIssuer<'static, KeyPair>,
}

impl std::fmt::Debug for Pki {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pki").finish_non_exhaustive()
    }
}

/// A certificate and its key, as PEM and as DER.
#[derive(Debug)]
pub struct Issued {
    /// The certificate, PEM.
    pub cert_pem: String,
    /// Its private key, PEM (PKCS#8).
    pub key_pem: String,
    /// The certificate, DER.
    pub der: CertificateDer<'static>,
    /// Its private key, DER (PKCS#8).
    pub key_der: Vec<u8>,
}

impl Pki {
    /// A new authority, with a key of its own.
    // Each is a new authority, with a new key: a `Default` would hide that.
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        let mut params = CertificateParams::new(Vec::new()).expect("no names");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        // A name of its own: OpenSSL takes a certificate whose issuer is its own
        // subject for a self-signed one, and rcgen gives every certificate the same.
        params
            .distinguished_name
            .push(DnType::CommonName, "bocata test authority");
        let key = KeyPair::generate().expect("a key");
        Self {
            ca: CertifiedIssuer::self_signed(params, key).expect("a CA"),
        }
    }

    /// The authority's certificate, PEM.
    pub fn ca_pem(&self) -> String {
        self.ca.pem()
    }

    /// A certificate for `localhost` and 127.0.0.1.
    pub fn issue(&self) -> Issued {
        self.issue_with(|_| {})
    }

    /// A certificate for `localhost` and 127.0.0.1, its parameters changed by `change`.
    pub fn issue_with(&self, change: impl FnOnce(&mut CertificateParams)) -> Issued {
        let mut params = CertificateParams::new(vec!["localhost".into(), "127.0.0.1".into()])
            .expect("valid names");
        params
            .distinguished_name
            .push(DnType::CommonName, "localhost");
        change(&mut params);
        let key = KeyPair::generate().expect("a key");
        let cert = params.signed_by(&key, &self.ca).expect("signed");
        Issued {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            der: cert.der().clone(),
            key_der: key.serialize_der(),
        }
    }

    /// A rustls client that trusts this authority and offers `alpn`, presenting
    /// `identity` if given.
    pub fn client(&self, alpn: &[&[u8]], identity: Option<&Issued>) -> Arc<ClientConfig> {
        let mut roots = RootCertStore::empty();
        roots.add(self.ca.der().clone()).expect("the CA is a root");
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_root_certificates(roots);
        let mut config = match identity {
            Some(identity) => builder
                .with_client_auth_cert(
                    vec![identity.der.clone()],
                    PrivateKeyDer::try_from(identity.key_der.clone()).expect("a key"),
                )
                .expect("a client identity"),
            None => builder.with_no_client_auth(),
        };
        config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        Arc::new(config)
    }
}

impl Issued {
    /// Writes the certificate and key into `fixture`, as `name.crt` and `name.key`.
    pub fn write(&self, fixture: &Fixture, name: &str) -> (PathBuf, PathBuf) {
        (
            fixture.file(&format!("{name}.crt"), &self.cert_pem),
            fixture.file(&format!("{name}.key"), &self.key_pem),
        )
    }
}

/// Replaces the file at `path` with `contents` at once (written beside it, then renamed).
pub fn replace(path: &Path, contents: &str) {
    let next = path.with_extension("next");
    std::fs::write(&next, contents).expect("write");
    std::fs::rename(&next, path).expect("rename");
}

/// A server serving HTTPS with a certificate for `localhost` and 127.0.0.1 from a new
/// test authority. The certificate, its key and the authority's certificate (`ca.pem`,
/// for outside clients) are files of `fixture`.
#[derive(Debug)]
pub struct Https {
    /// The running server.
    pub server: Running,
    /// The authority, for in-process clients.
    pub pki: Pki,
    /// Where the files are.
    pub fixture: Fixture,
    /// The authority's certificate, PEM.
    pub ca: PathBuf,
}

impl Https {
    /// Starts `server` with TLS from a fixture named `name`.
    pub async fn start(name: &str, server: Server) -> Self {
        let (fixture, pki) = (Fixture::new(name), Pki::new());
        let (cert, key) = pki.issue().write(&fixture, "server");
        let ca = fixture.file("ca.pem", pki.ca_pem());
        let server = Running::start_with(server.tls(Tls::from_pem_files(cert, key))).await;
        Self {
            server,
            pki,
            fixture,
            ca,
        }
    }

    /// The port it serves HTTPS on.
    pub fn port(&self) -> u16 {
        self.server.addr.port()
    }
}
