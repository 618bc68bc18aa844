//! Who is calling: password hashing, bearer tokens and the login throttle (the extractors that
//! prove a caller are `http::auth`'s).

mod password;
mod throttle;
mod token;

pub use password::{
    check_stored_hash, PasswordHasher, MAX_STORED_M_KIB, MAX_STORED_P, MAX_STORED_T,
};
pub use throttle::{Admitted, LoginThrottle, ThrottleConfig};
pub use token::{parse_bearer, Token, TokenHash};
