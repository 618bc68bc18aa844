//! PostgreSQL's errors as `StoreError`s: by SQLSTATE and constraint name, with PostgreSQL's own
//! message and code kept in the detail (tokio-postgres's own `Display` says only "db error").

use tokio_postgres::error::SqlState;

use crate::store::StoreError;

impl From<tokio_postgres::Error> for StoreError {
    fn from(e: tokio_postgres::Error) -> Self {
        let Some(db) = e.as_db_error() else {
            // No server error: the connection failed or closed, or a row did not decode.
            if e.is_closed()
                || std::error::Error::source(&e).is_some_and(|s| s.is::<std::io::Error>())
            {
                return StoreError::Unavailable(with_causes(&e));
            }
            return StoreError::Other(with_causes(&e));
        };
        let code = db.code();
        // PostgreSQL's own words and SQLSTATE, not tokio-postgres's bare "db error".
        let detail = format!(
            "{}: {} (SQLSTATE {})",
            db.severity(),
            db.message(),
            code.code()
        );
        if *code == SqlState::UNIQUE_VIOLATION || *code == SqlState::FOREIGN_KEY_VIOLATION {
            StoreError::violated(db.constraint().unwrap_or(""), detail)
        } else if code.code().starts_with("08") // connection exception
            || code.code().starts_with("57") // operator intervention: shutdown, statement timeout
            || code.code().starts_with("53") // insufficient resources: too many connections
            || *code == SqlState::T_R_SERIALIZATION_FAILURE
            || *code == SqlState::T_R_DEADLOCK_DETECTED
        {
            StoreError::Unavailable(detail)
        } else if *code == SqlState::INVALID_CATALOG_NAME || *code == SqlState::UNDEFINED_TABLE {
            // The database or its tables were dropped under us: unusable, not a bug.
            StoreError::SchemaGone(detail)
        } else {
            StoreError::Other(detail)
        }
    }
}

/// The error and each of its causes, `: `-joined. tokio-postgres's `Display` is only its kind
/// ("error performing TLS handshake"); the reason (an unknown issuer, a refused connection) is in
/// the causes.
pub(super) fn with_causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

impl From<deadpool_postgres::PoolError> for StoreError {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        match e {
            deadpool_postgres::PoolError::Backend(e) => e.into(),
            other => StoreError::Unavailable(other.to_string()),
        }
    }
}
