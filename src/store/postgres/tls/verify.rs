//! The server-certificate check behind each `sslmode`, as one rustls verifier.
//!
//! rustls's own verifier always checks the host name, which is verify-full; verify-ca (the chain,
//! any name) and require (nothing, as libpq) need a verifier of their own. All three still check
//! the handshake signatures, so the server must hold the key of the certificate it shows: without
//! verification that protects against a passive eavesdropper only, which is what libpq promises.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{verify_server_cert_signed_by_trust_anchor, verify_server_name};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::ParsedCertificate;
use rustls::{DigitallySignedStruct, Error, RootCertStore, SignatureScheme};

/// What of the server's certificate is checked.
#[derive(Debug)]
pub(super) enum Check {
    /// Nothing (sslmode=prefer or require without a root certificate).
    Nothing,
    /// That it chains to one of the roots and is in its validity period (verify-ca).
    Chain(RootCertStore),
    /// That, and that it names the host connected to (verify-full).
    ChainAndName(RootCertStore),
}

#[derive(Debug)]
pub(super) struct ServerCertificate {
    check: Check,
    provider: Arc<CryptoProvider>,
}

impl ServerCertificate {
    pub(super) fn new(check: Check, provider: Arc<CryptoProvider>) -> Self {
        Self { check, provider }
    }
}

impl ServerCertVerifier for ServerCertificate {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        let roots = match &self.check {
            Check::Nothing => return Ok(ServerCertVerified::assertion()),
            Check::Chain(roots) | Check::ChainAndName(roots) => roots,
        };
        let cert = ParsedCertificate::try_from(end_entity)?;
        let algorithms = self.provider.signature_verification_algorithms.all;
        verify_server_cert_signed_by_trust_anchor(&cert, roots, intermediates, now, algorithms)?;
        if let Check::ChainAndName(_) = self.check {
            verify_server_name(&cert, server_name)?;
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        let algorithms = &self.provider.signature_verification_algorithms;
        verify_tls12_signature(message, cert, dss, algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        let algorithms = &self.provider.signature_verification_algorithms;
        verify_tls13_signature(message, cert, dss, algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}
