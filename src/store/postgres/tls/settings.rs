//! `sslmode` and `sslrootcert` in a database URL, read the way libpq reads them.
//!
//! tokio-postgres parses the rest of the URL, but it knows only `disable`, `prefer` and `require`
//! and refuses `sslrootcert` as an unknown option; so both are taken out of the query here, and
//! the URL without them is what tokio-postgres sees.

use std::fmt;
use std::path::PathBuf;

use percent_encoding::percent_decode_str;

/// libpq's `sslmode`, less `allow` (plain first, TLS only if the server insists), which no
/// deployment that cares about TLS wants and which tokio-postgres cannot express.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SslMode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl SslMode {
    fn parse(value: &str) -> anyhow::Result<Self> {
        Ok(match value {
            "disable" => Self::Disable,
            "prefer" => Self::Prefer,
            "require" => Self::Require,
            "verify-ca" => Self::VerifyCa,
            "verify-full" => Self::VerifyFull,
            other => anyhow::bail!(
                "sslmode={other} in the database URL is not supported: expected disable, prefer, \
                 require, verify-ca or verify-full"
            ),
        })
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::Disable => "disable",
            Self::Prefer => "prefer",
            Self::Require => "require",
            Self::VerifyCa => "verify-ca",
            Self::VerifyFull => "verify-full",
        }
    }
}

/// Where the trusted root certificates come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RootCerts {
    /// A PEM file of one or more CA certificates (`sslrootcert=PATH`).
    File(PathBuf),
    /// The operating system's trust store (`sslrootcert=system`, as in libpq 16).
    System,
}

/// The TLS part of a database URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TlsSettings {
    pub mode: SslMode,
    /// Whether `sslmode` was written in the URL, or is `prefer` because it was not.
    pub mode_given: bool,
    pub root_certs: Option<RootCerts>,
}

/// How the server's certificate is checked, once mode and roots are put together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verify {
    /// Not at all (disable, or prefer/require without `sslrootcert`): encryption against a
    /// passive eavesdropper only, as libpq does.
    Nothing,
    /// It must chain to one of the roots; any host name.
    Chain(RootCerts),
    /// It must chain to one of the roots and name the host connected to.
    ChainAndName(RootCerts),
}

impl TlsSettings {
    /// Splits `sslmode` and `sslrootcert` out of `url`: the settings, and the URL without them.
    pub(crate) fn split(url: &str) -> anyhow::Result<(Self, String)> {
        let (base, query) = split_query(url);
        let mut mode = None;
        let mut root_certs = None;
        let mut kept = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            match decode(key).as_str() {
                "sslmode" => mode = Some(SslMode::parse(&decode(value))?),
                "sslrootcert" => {
                    root_certs = match decode(value).as_str() {
                        // Empty is libpq's "the default", which here is none.
                        "" => None,
                        "system" => Some(RootCerts::System),
                        path => Some(RootCerts::File(PathBuf::from(path))),
                    }
                }
                _ => kept.push(pair),
            }
        }
        if root_certs == Some(RootCerts::System)
            && !matches!(mode, None | Some(SslMode::VerifyFull))
        {
            // libpq's rule: trusting every public CA is only safe when the host name is checked
            // too, or any certificate a public CA issued to anyone would do.
            anyhow::bail!(
                "sslmode={} may not be used with sslrootcert=system in the database URL (use \
                 verify-full)",
                mode.unwrap_or(SslMode::Prefer).as_str()
            );
        }
        let settings = Self {
            mode: mode.unwrap_or(match root_certs {
                Some(RootCerts::System) => SslMode::VerifyFull,
                _ => SslMode::Prefer,
            }),
            mode_given: mode.is_some(),
            root_certs,
        };
        let rest = if kept.is_empty() {
            base.to_owned()
        } else {
            format!("{base}?{}", kept.join("&"))
        };
        Ok((settings, rest))
    }

    /// What the certificate is checked against. Without `sslrootcert`, verify-ca and verify-full
    /// use the system's trust store; with it, prefer and require verify the chain, as in libpq.
    pub(crate) fn verify(&self) -> Verify {
        let roots = self.root_certs.clone();
        match self.mode {
            SslMode::Disable => Verify::Nothing,
            SslMode::Prefer | SslMode::Require => roots.map_or(Verify::Nothing, Verify::Chain),
            SslMode::VerifyCa => Verify::Chain(roots.unwrap_or(RootCerts::System)),
            SslMode::VerifyFull => Verify::ChainAndName(roots.unwrap_or(RootCerts::System)),
        }
    }

    /// The mode tokio-postgres negotiates with: whether TLS is skipped, tried or insisted on.
    pub(crate) fn negotiation(&self) -> tokio_postgres::config::SslMode {
        use tokio_postgres::config::SslMode as Pg;
        match self.mode {
            SslMode::Disable => Pg::Disable,
            SslMode::Prefer => Pg::Prefer,
            SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => Pg::Require,
        }
    }
}

/// For error messages: what was asked for, so a refusal can be read against it.
impl fmt::Display for TlsSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sslmode={}", self.mode.as_str())?;
        if !self.mode_given {
            f.write_str(" (the default)")?;
        }
        match &self.root_certs {
            Some(RootCerts::File(path)) => write!(f, ", sslrootcert={}", path.display()),
            Some(RootCerts::System) => f.write_str(", sslrootcert=system"),
            None if matches!(self.mode, SslMode::VerifyCa | SslMode::VerifyFull) => {
                f.write_str(", the system's root certificates")
            }
            None => Ok(()),
        }
    }
}

/// `(everything before the query, the query)`. The query starts at the first `?` after the user
/// info, which ends at the first `@`, as tokio-postgres reads it.
fn split_query(url: &str) -> (&str, &str) {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    let after_userinfo = url[after_scheme..]
        .find('@')
        .map_or(after_scheme, |i| after_scheme + i + 1);
    match url[after_userinfo..].find('?') {
        Some(i) => (&url[..after_userinfo + i], &url[after_userinfo + i + 1..]),
        None => (url, ""),
    }
}

/// Percent-decoding only, as tokio-postgres does (`+` stays a `+`, unlike in a form).
fn decode(s: &str) -> String {
    percent_decode_str(s).decode_utf8_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(url: &str) -> (TlsSettings, String) {
        TlsSettings::split(url).unwrap()
    }

    #[test]
    fn without_sslmode_the_default_is_prefer_and_the_url_is_untouched() {
        let url = "postgres://u:p@h:5432/db?application_name=x";
        let (settings, rest) = split(url);
        assert_eq!(settings.mode, SslMode::Prefer);
        assert!(!settings.mode_given);
        assert_eq!(settings.verify(), Verify::Nothing);
        assert_eq!(rest, url);
        assert_eq!(split("postgres://h/db").1, "postgres://h/db");
    }

    #[test]
    fn sslmode_and_sslrootcert_are_taken_out_and_the_rest_kept_in_order() {
        let (settings, rest) = split(
            "postgres://u@h/db?connect_timeout=3&sslmode=verify-full&sslrootcert=%2Fetc%2Fca.pem&options=-c%20x%3D1",
        );
        assert_eq!(settings.mode, SslMode::VerifyFull);
        assert_eq!(
            settings.verify(),
            Verify::ChainAndName(RootCerts::File("/etc/ca.pem".into()))
        );
        assert_eq!(
            rest,
            "postgres://u@h/db?connect_timeout=3&options=-c%20x%3D1"
        );
        assert_eq!(
            split("postgres://h/db?sslmode=disable").1,
            "postgres://h/db"
        );
    }

    #[test]
    fn each_mode_verifies_what_libpq_verifies() {
        let verify = |q: &str| split(&format!("postgres://h/db?{q}")).0.verify();
        let file = || RootCerts::File("ca.pem".into());
        assert_eq!(
            verify("sslmode=disable&sslrootcert=ca.pem"),
            Verify::Nothing
        );
        assert_eq!(verify("sslmode=prefer"), Verify::Nothing);
        assert_eq!(verify("sslmode=require"), Verify::Nothing);
        // A root certificate makes require (and prefer) check the chain, as libpq does.
        assert_eq!(
            verify("sslmode=require&sslrootcert=ca.pem"),
            Verify::Chain(file())
        );
        assert_eq!(
            verify("sslmode=prefer&sslrootcert=ca.pem"),
            Verify::Chain(file())
        );
        assert_eq!(
            verify("sslmode=verify-ca&sslrootcert=ca.pem"),
            Verify::Chain(file())
        );
        assert_eq!(
            verify("sslmode=verify-ca"),
            Verify::Chain(RootCerts::System)
        );
        assert_eq!(
            verify("sslmode=verify-full"),
            Verify::ChainAndName(RootCerts::System)
        );
        assert_eq!(
            verify("sslrootcert=system"),
            Verify::ChainAndName(RootCerts::System)
        );
    }

    #[test]
    fn tokio_postgres_negotiates_tls_for_every_mode_but_disable() {
        use tokio_postgres::config::SslMode as Pg;
        let negotiation = |m: &str| split(&format!("postgres://h?sslmode={m}")).0.negotiation();
        assert_eq!(negotiation("disable"), Pg::Disable);
        assert_eq!(negotiation("prefer"), Pg::Prefer);
        assert_eq!(negotiation("require"), Pg::Require);
        assert_eq!(negotiation("verify-ca"), Pg::Require);
        assert_eq!(negotiation("verify-full"), Pg::Require);
    }

    #[test]
    fn unknown_modes_and_weak_modes_with_system_roots_are_refused() {
        let err = TlsSettings::split("postgres://h/db?sslmode=allow").unwrap_err();
        assert!(err.to_string().contains("sslmode=allow"), "{err}");
        let err =
            TlsSettings::split("postgres://h/db?sslmode=require&sslrootcert=system").unwrap_err();
        assert!(err.to_string().contains("use verify-full"), "{err}");
    }

    #[test]
    fn a_question_mark_in_the_password_does_not_start_the_query() {
        let (settings, rest) = split("postgres://u:a?b@h/db?sslmode=require");
        assert_eq!(settings.mode, SslMode::Require);
        assert_eq!(rest, "postgres://u:a?b@h/db");
    }

    #[test]
    fn the_description_names_mode_and_roots_but_nothing_else_of_the_url() {
        let (settings, _) = split("postgres://u:secret@h/db?sslmode=verify-ca&sslrootcert=/ca.pem");
        assert_eq!(
            settings.to_string(),
            "sslmode=verify-ca, sslrootcert=/ca.pem"
        );
        let (settings, _) = split("postgres://u:secret@h/db");
        assert_eq!(settings.to_string(), "sslmode=prefer (the default)");
    }
}
