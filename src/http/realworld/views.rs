//! The RealWorld API's JSON: its envelopes (`{"user": …}`, `{"article": …}`, …) around views of
//! postbase's own users, posts and comments. Where the models differ: `description` is a post's
//! `summary`, `favorited`/`favoritesCount` its likes, `tagList` its tags (sorted, as that API
//! sorts them), `bio`/`image` the profile (null when empty), and the slug is made from the title
//! and the post's id (see [`slug`]).

use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::Timestamp;
use crate::store::{Comment, Post, User};

/// An account as its owner sees it, with the token of the request.
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct UserView {
    email: String,
    token: String,
    username: String,
    bio: Option<String>,
    image: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub(super) struct UserEnvelope {
    user: UserView,
}

pub(super) fn user(u: &User, token: &str) -> UserEnvelope {
    UserEnvelope {
        user: UserView {
            email: u.email.clone().unwrap_or_default(),
            token: token.to_owned(),
            username: u.username.clone(),
            bio: Some(u.bio.clone()).filter(|b| !b.is_empty()),
            image: u.image.clone(),
        },
    }
}

/// Someone as others see them; `following` is the caller's (false without a token).
#[derive(Debug, Serialize, ToSchema)]
pub(super) struct Profile {
    username: String,
    bio: Option<String>,
    image: Option<String>,
    following: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub(super) struct ProfileEnvelope {
    profile: Profile,
}

pub(super) fn profile(u: &User) -> Profile {
    Profile {
        username: u.username.clone(),
        bio: Some(u.bio.clone()).filter(|b| !b.is_empty()),
        image: u.image.clone(),
        following: u.following.unwrap_or(false),
    }
}

pub(super) fn profile_envelope(u: &User) -> ProfileEnvelope {
    ProfileEnvelope {
        profile: profile(u),
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(super) struct Article {
    slug: String,
    title: String,
    description: String,
    /// Left out of lists, as the specification has it.
    #[serde(skip_serializing_if = "Option::is_none")]
    body: Option<String>,
    tag_list: Vec<String>,
    #[schema(value_type = String, format = DateTime)]
    created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    updated_at: Timestamp,
    favorited: bool,
    favorites_count: i64,
    author: Profile,
}

#[derive(Debug, Serialize, ToSchema)]
pub(super) struct ArticleEnvelope {
    article: Article,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(super) struct MultipleArticles {
    pub(super) articles: Vec<Article>,
    pub(super) articles_count: i64,
}

/// A post as an article by `author` (read for the same viewer as the post).
pub(super) fn article(p: &Post, author: &User, with_body: bool) -> Article {
    let mut tags = p.tags.clone();
    tags.sort();
    Article {
        slug: slug(&p.title, p.id),
        title: p.title.clone(),
        description: p.summary.clone(),
        body: with_body.then(|| p.body.clone()),
        tag_list: tags,
        created_at: p.created_at,
        updated_at: p.updated_at,
        favorited: p.liked.unwrap_or(false),
        favorites_count: p.like_count,
        author: profile(author),
    }
}

pub(super) fn article_envelope(p: &Post, author: &User) -> ArticleEnvelope {
    ArticleEnvelope {
        article: article(p, author, true),
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(super) struct CommentView {
    id: i64,
    #[schema(value_type = String, format = DateTime)]
    created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    updated_at: Timestamp,
    body: String,
    author: Profile,
}

#[derive(Debug, Serialize, ToSchema)]
pub(super) struct CommentEnvelope {
    comment: CommentView,
}

#[derive(Debug, Serialize, ToSchema)]
pub(super) struct MultipleComments {
    pub(super) comments: Vec<CommentView>,
}

pub(super) fn comment(c: &Comment, author: &User) -> CommentView {
    CommentView {
        id: c.id,
        created_at: c.created_at,
        updated_at: c.updated_at,
        body: c.body.clone(),
        author: profile(author),
    }
}

pub(super) fn comment_envelope(c: &Comment, author: &User) -> CommentEnvelope {
    CommentEnvelope {
        comment: comment(c, author),
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub(super) struct TagList {
    pub(super) tags: Vec<String>,
}

/// An article's slug: the title's letters and digits in lower case, words joined by `-`, at
/// most 60 characters of them, then `-` and the post's id. The id makes it unique and is what
/// finds the post, so a slug keeps working after the title (and with it the slug) changes.
pub(super) fn slug(title: &str, id: i64) -> String {
    let mut words = String::new();
    for word in title
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        if words.len() + word.len() + 1 > 60 {
            break;
        }
        if !words.is_empty() {
            words.push('-');
        }
        words.push_str(&word.to_ascii_lowercase());
    }
    if words.is_empty() {
        format!("post-{id}")
    } else {
        format!("{words}-{id}")
    }
}

/// The post id a slug ends with, if it ends with one.
pub(super) fn slug_id(slug: &str) -> Option<i64> {
    let digits = slug.rsplit('-').next()?;
    if digits.is_empty() || digits.len() > 18 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok().filter(|id| *id > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slug_is_the_titles_words_and_the_id_and_finds_the_id_back() {
        assert_eq!(
            slug("How to train your dragon", 7),
            "how-to-train-your-dragon-7"
        );
        assert_eq!(
            slug("  Crème brûlée!! 2 ways ", 12),
            "cr-me-br-l-e-2-ways-12"
        );
        assert_eq!(slug("¿?", 3), "post-3");
        assert!(slug(&"word ".repeat(40), 5).len() <= 62);
        assert_eq!(slug_id("how-to-train-your-dragon-7"), Some(7));
        assert_eq!(slug_id("post-3"), Some(3));
        for bad in [
            "",
            "dragon",
            "dragon-",
            "dragon-0",
            "dragon-x1",
            "-99999999999999999999",
        ] {
            assert_eq!(slug_id(bad), None, "{bad:?}");
        }
    }
}
