//! TLS to PostgreSQL with libpq's `sslmode` and `sslrootcert`, over rustls (with ring).
//!
//! `sslmode=disable` keeps tokio-postgres's `NoTls`, so the plain path costs what it always did.
//! Every other mode goes through rustls; what it checks of the server's certificate is decided in
//! [`TlsSettings::verify`] and done in [`verify`]. Managed PostgreSQL services require TLS, and
//! libpq's default (`prefer`) is the default here too.

mod settings;
mod verify;

use std::error::Error as _;
use std::sync::Arc;

use anyhow::Context as _;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use rustls::{ClientConfig, RootCertStore};
use tokio_postgres_rustls::MakeRustlsConnect;

pub(super) use settings::TlsSettings;
use settings::{RootCerts, SslMode, Verify};
use verify::{Check, ServerCertificate};

/// The rustls connector the settings call for, or `None` for `sslmode=disable` (plain TCP).
pub(super) fn connector(settings: &TlsSettings) -> anyhow::Result<Option<MakeRustlsConnect>> {
    let check = match settings.verify() {
        Verify::Nothing if settings.mode == SslMode::Disable => return Ok(None),
        Verify::Nothing => Check::Nothing,
        Verify::Chain(roots) => Check::Chain(load(&roots)?),
        Verify::ChainAndName(roots) => Check::ChainAndName(load(&roots)?),
    };
    // The provider is named rather than taken from the process default, which would panic
    // should another crate ever enable a second one.
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .context("rustls has no TLS version in common with ring")?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(ServerCertificate::new(check, provider)))
        .with_no_client_auth();
    Ok(Some(MakeRustlsConnect::new(config)))
}

/// The trusted roots, read once at start: a file that is missing, unreadable or holds no
/// certificate stops the start with its path, rather than failing every connection later.
fn load(roots: &RootCerts) -> anyhow::Result<RootCertStore> {
    let mut store = RootCertStore::empty();
    match roots {
        RootCerts::File(path) => {
            let what = || format!("sslrootcert={}", path.display());
            for cert in CertificateDer::pem_file_iter(path).with_context(what)? {
                let cert = cert.with_context(what)?;
                store
                    .add(cert)
                    .with_context(|| format!("{}: not a usable CA certificate", what()))?;
            }
            anyhow::ensure!(
                !store.is_empty(),
                "{}: no PEM certificate (-----BEGIN CERTIFICATE-----) in the file",
                what()
            );
        }
        RootCerts::System => {
            let found = rustls_native_certs::load_native_certs();
            store.add_parsable_certificates(found.certs);
            anyhow::ensure!(
                !store.is_empty(),
                "no root certificates in the system's trust store to verify PostgreSQL's \
                 certificate against ({:?}): name the CA with sslrootcert=PATH in the database URL",
                found.errors
            );
        }
    }
    Ok(store)
}

/// Whether connecting failed in the TLS layer for a reason that trying again will not fix: the
/// certificate was refused, the handshake failed, or the server does not offer TLS where it is
/// required. A connection that broke during the handshake (an I/O error that is not rustls's)
/// is an outage, not this.
pub(super) fn refused(e: &tokio_postgres::Error) -> bool {
    // tokio-postgres has no accessor for its error kinds; this is its text for `Kind::Tls`.
    if !e.to_string().starts_with("error performing TLS handshake") {
        return false;
    }
    match e.source().and_then(|s| s.downcast_ref::<std::io::Error>()) {
        Some(io) => io
            .get_ref()
            .is_some_and(|inner| inner.is::<rustls::Error>()),
        None => true,
    }
}
