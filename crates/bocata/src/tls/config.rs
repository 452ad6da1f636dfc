//! What a server's TLS is made of, and loading it from PEM files.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use rustls::RootCertStore;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ServerConfig, WebPkiClientVerifier};

/// The protocols offered by ALPN, most preferred first.
const ALPN: [&[u8]; 2] = [b"h2", b"http/1.1"];

/// How often certificate files are checked for changes, by default.
const DEFAULT_RELOAD_EVERY: Duration = Duration::from_secs(10);

/// A server's TLS: its certificate and key, and whether it asks clients for theirs.
/// Hand it to [`Server::tls`](crate::Server::tls).
///
/// Built from PEM files, the certificate is reloaded without a restart: on `SIGHUP`
/// (on Unix) and when the files change (checked every ten seconds, see
/// [`reload_every`](Self::reload_every)). New connections get the new certificate,
/// open ones keep the one they began with; a new file that does not load (a
/// certificate without its key, an expired one) is refused with a warning in the log,
/// and the old certificate stays.
///
/// ```no_run
/// use std::time::Duration;
/// use bocata::tls::Tls;
///
/// let tls = Tls::from_pem_files("/etc/bocata/cert.pem", "/etc/bocata/key.pem")
///     .client_ca("/etc/bocata/clients-ca.pem", true)
///     .reload_every(Some(Duration::from_secs(60)));
/// # let _ = tls;
/// ```
#[derive(Clone, Debug)]
pub struct Tls {
    pub(super) source: Source,
    pub(super) reload_every: Option<Duration>,
}

#[derive(Clone, Debug)]
pub(super) enum Source {
    Files(Files),
    Config(Arc<ServerConfig>),
}

/// The PEM files a configuration is loaded from.
#[derive(Clone, Debug)]
pub(super) struct Files {
    cert: PathBuf,
    key: PathBuf,
    client_ca: Option<ClientCa>,
}

#[derive(Clone, Debug)]
struct ClientCa {
    path: PathBuf,
    required: bool,
}

impl Tls {
    /// TLS with the certificate chain in `cert` (the server's certificate first, then
    /// the intermediates) and its private key in `key` (PKCS#8, PKCS#1 or SEC1), both
    /// PEM. They are read when the server starts; one that cannot be read, does not
    /// parse, has expired or does not match its key fails the start with a message
    /// that names the file.
    pub fn from_pem_files(cert: impl Into<PathBuf>, key: impl Into<PathBuf>) -> Self {
        Self {
            source: Source::Files(Files {
                cert: cert.into(),
                key: key.into(),
                client_ca: None,
            }),
            reload_every: Some(DEFAULT_RELOAD_EVERY),
        }
    }

    /// TLS with a rustls configuration of your own (certificate resolvers, session
    /// tickets, another crypto provider). If it offers no ALPN protocols, bocata
    /// offers `h2` and `http/1.1`. It is never reloaded: a
    /// [`ResolvesServerCert`](rustls::server::ResolvesServerCert) of your own can
    /// change certificates as it likes.
    pub fn from_config(config: Arc<ServerConfig>) -> Self {
        let config = if config.alpn_protocols.is_empty() {
            let mut config = Arc::unwrap_or_clone(config);
            config.alpn_protocols = ALPN.iter().map(|p| p.to_vec()).collect();
            Arc::new(config)
        } else {
            config
        };
        Self {
            source: Source::Config(config),
            reload_every: None,
        }
    }

    /// Asks clients for a certificate issued by one of the authorities in `ca` (PEM),
    /// for mutual TLS; if `required`, a client without one cannot connect, otherwise
    /// it connects without. A view reads the client's certificate with
    /// [`Request::tls`](crate::Request::tls). The file is reloaded with the server's
    /// certificate. No effect on [`from_config`](Self::from_config), whose
    /// configuration says for itself.
    #[must_use]
    pub fn client_ca(mut self, ca: impl Into<PathBuf>, required: bool) -> Self {
        if let Source::Files(files) = &mut self.source {
            files.client_ca = Some(ClientCa {
                path: ca.into(),
                required,
            });
        }
        self
    }

    /// How often the files are checked for changes; `None` checks only on `SIGHUP`.
    /// Default: every 10 seconds.
    #[must_use]
    pub fn reload_every(mut self, every: Option<Duration>) -> Self {
        self.reload_every = every.filter(|every| !every.is_zero());
        self
    }

    /// The configuration as it is now: the files read anew, or the one given.
    pub(super) fn load(&self) -> Result<Arc<ServerConfig>, TlsError> {
        match &self.source {
            Source::Files(files) => files.load().map(Arc::new),
            Source::Config(config) => Ok(Arc::clone(config)),
        }
    }
}

impl Files {
    /// The files whose change means a reload.
    pub(super) fn paths(&self) -> impl Iterator<Item = &Path> {
        [
            Some(&self.cert),
            Some(&self.key),
            self.client_ca.as_ref().map(|ca| &ca.path),
        ]
        .into_iter()
        .flatten()
        .map(PathBuf::as_path)
    }

    fn load(&self) -> Result<ServerConfig, TlsError> {
        let chain = certificates(&self.cert)?;
        check_validity(&self.cert, &chain[0], SystemTime::now())?;
        let key = PrivateKeyDer::from_pem_file(&self.key).map_err(|e| TlsError::Pem {
            path: self.key.clone(),
            what: "private key",
            source: e,
        })?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ServerConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()
            .map_err(TlsError::Rustls)?;
        let builder = match &self.client_ca {
            None => builder.with_no_client_auth(),
            Some(ca) => builder.with_client_cert_verifier(ca.verifier(provider)?),
        };
        let mut config =
            builder
                .with_single_cert(chain, key)
                .map_err(|e| TlsError::KeyDoesNotMatch {
                    cert: self.cert.clone(),
                    key: self.key.clone(),
                    source: e,
                })?;
        config.alpn_protocols = ALPN.iter().map(|p| p.to_vec()).collect();
        Ok(config)
    }
}

impl ClientCa {
    fn verifier(
        &self,
        provider: Arc<CryptoProvider>,
    ) -> Result<Arc<dyn rustls::server::danger::ClientCertVerifier>, TlsError> {
        let mut roots = RootCertStore::empty();
        for cert in certificates(&self.path)? {
            roots.add(cert).map_err(|e| TlsError::Invalid {
                path: self.path.clone(),
                reason: e.to_string(),
            })?;
        }
        let builder = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider);
        let builder = if self.required {
            builder
        } else {
            builder.allow_unauthenticated()
        };
        builder.build().map_err(|e| TlsError::Invalid {
            path: self.path.clone(),
            reason: e.to_string(),
        })
    }
}

/// The certificates in the PEM file at `path`, at least one.
fn certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let pem = |e| TlsError::Pem {
        path: path.to_owned(),
        what: "certificate",
        source: e,
    };
    let chain = CertificateDer::pem_file_iter(path)
        .map_err(pem)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(pem)?;
    if chain.is_empty() {
        return Err(pem(rustls::pki_types::pem::Error::NoItemsFound));
    }
    Ok(chain)
}

/// Fails for a certificate that is not valid at `now`: a server that starts with one
/// would have every client refuse it.
fn check_validity(path: &Path, cert: &CertificateDer<'_>, now: SystemTime) -> Result<(), TlsError> {
    let invalid = |reason: String| TlsError::Invalid {
        path: path.to_owned(),
        reason,
    };
    let (_, parsed) = x509_parser::parse_x509_certificate(cert.as_ref())
        .map_err(|e| invalid(format!("the certificate does not parse: {e}")))?;
    let now = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |since| {
            i64::try_from(since.as_secs()).unwrap_or(i64::MAX)
        });
    let validity = parsed.validity();
    let (not_before, not_after) = (
        validity.not_before.timestamp(),
        validity.not_after.timestamp(),
    );
    if now > not_after {
        return Err(invalid(format!(
            "the certificate expired on {}",
            date(not_after)
        )));
    }
    if now < not_before {
        return Err(invalid(format!(
            "the certificate is not valid before {}",
            date(not_before)
        )));
    }
    Ok(())
}

/// `timestamp` (seconds since the Unix epoch) as an HTTP date.
fn date(timestamp: i64) -> String {
    let since = Duration::from_secs(u64::try_from(timestamp).unwrap_or(0));
    httpdate::fmt_http_date(SystemTime::UNIX_EPOCH + since)
}

/// Why TLS could not be set up from its files.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// A file could not be read, or holds no PEM item of the kind needed.
    #[error("cannot read the {what} from {}: {source}", path.display())]
    Pem {
        /// The file.
        path: PathBuf,
        /// What was looked for in it.
        what: &'static str,
        /// Why it could not be had.
        #[source]
        source: rustls::pki_types::pem::Error,
    },
    /// A certificate that parses but cannot be used.
    #[error("the certificate in {} cannot be used: {reason}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The private key is not the certificate's, or is of a kind rustls cannot use.
    #[error("the key in {} does not go with the certificate in {}: {source}", key.display(), cert.display())]
    KeyDoesNotMatch {
        /// The certificate file.
        cert: PathBuf,
        /// The key file.
        key: PathBuf,
        /// What rustls said.
        #[source]
        source: rustls::Error,
    },
    /// rustls refused the configuration.
    #[error("rustls refused the configuration: {0}")]
    Rustls(#[source] rustls::Error),
}
