//! Values that have been checked: each newtype can only be built by `parse`, so a handler holding
//! one cannot forget to validate. The error of each parse is the sentence a client sees beside the field.

mod content;
mod profile;
mod search;
mod text;
mod time;

pub use content::{CommentBody, Summary, Tags};
pub use profile::{Bio, ImageUrl};
pub use search::{fold, terms, SearchQuery};
pub use text::{Email, Password, PostBody, PostTitle, Username};
pub use time::Timestamp;
