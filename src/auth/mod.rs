//! Who is calling: password hashing, bearer tokens, and the extractors handlers use.

mod extract;
mod password;
mod throttle;
mod token;

pub use extract::{AuthUser, MaybeAuthUser};
pub use password::{
    check_stored_hash, PasswordHasher, MAX_STORED_M_KIB, MAX_STORED_P, MAX_STORED_T,
};
pub use throttle::{LoginThrottle, ThrottleConfig};
pub use token::{parse_bearer, Token, TokenHash};
