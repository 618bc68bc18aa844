//! The check after the restart: every acknowledged write exactly as acknowledged, every ambiguous
//! one in one of its two states, and nothing that no request could have produced.

use std::collections::{HashMap, HashSet};

use reqwest::StatusCode;
use serde_json::Value;

use crate::http::{answered, get, list_all};
use crate::model::{Model, Pending, PostModel, PostState, Tally, TokenState, UserModel};

/// What `GET` found for a post.
fn found_post(status: StatusCode, json: &Value, etag: Option<&str>) -> Option<(Value, String)> {
    (status == StatusCode::OK).then(|| (json.clone(), etag.unwrap_or_default().to_owned()))
}

/// Whether `found` is a state the post may be in, and which: `Some(true)` the acknowledged one,
/// `Some(false)` the in-flight one, `None` neither.
fn post_matches(post: &PostModel, found: Option<&(Value, String)>) -> Option<bool> {
    let acked_ok = match (&post.acked, found) {
        (PostState::Deleted, None) => true,
        (PostState::Present { json, etag }, Some((fj, fe))) => json == fj && etag == fe,
        _ => false,
    };
    if acked_ok {
        return Some(true);
    }
    let pending_ok = match (&post.in_flight, &post.acked, found) {
        (Some(Pending::Delete), PostState::Present { .. }, None) => true,
        (Some(Pending::Edit { title, body }), PostState::Present { json, .. }, Some((fj, _))) => {
            let want_title = title.as_deref().or(json["title"].as_str());
            let want_body = body.as_deref().or(json["body"].as_str());
            fj["id"] == json["id"]
                && fj["author_id"] == json["author_id"]
                && fj["created_at"] == json["created_at"]
                && fj["title"].as_str() == want_title
                && fj["body"].as_str() == want_body
        }
        _ => false,
    };
    pending_ok.then_some(false)
}

/// Checks the restarted server against the model, resolves each ambiguous write to what was found,
/// and returns the problems (empty: all good).
pub(crate) async fn verify(
    http: &reqwest::Client,
    base: &str,
    model: &mut Model,
    tally: &mut Tally,
) -> Vec<String> {
    let mut problems = Vec::new();

    // Users: every acknowledged sign-up, exactly as acknowledged (but for the post count, which
    // moves with posts and is checked against them below); nobody that was never sent.
    for user in &model.users {
        tally.checked += 1;
        let path = format!("/api/users/{}", user.id);
        let (s, json, _) = answered(get(http, base, &path, None).await, &path);
        if s != StatusCode::OK || without_post_count(&json) != without_post_count(&user.json) {
            problems.push(format!(
                "acknowledged user {} is {s} {json}, was {}",
                user.id, user.json
            ));
        }
    }
    let known: HashSet<i64> = model.users.iter().map(|u| u.id).collect();
    for u in list_all(http, base, "/api/users", "users").await {
        let id = u["id"].as_i64().unwrap();
        if known.contains(&id) {
            continue;
        }
        let name = u["username"].as_str().unwrap_or_default().to_owned();
        match model.ambiguous_signups.remove(&name) {
            // A sign-up whose answer was lost landed: adopt it.
            Some((password, email)) => model.users.push(UserModel {
                id,
                username: name,
                password,
                email,
                json: u,
            }),
            None => problems.push(format!("user {u} was never signed up")),
        }
    }
    tally.ambiguous += model.ambiguous_signups.len() as u64;
    model.ambiguous_signups.clear();

    // Tokens: live ones work and name their user (with the email sent at sign-up); revoked ones
    // get 401; one whose revocation was lost may be either.
    let users_by_id: HashMap<i64, &UserModel> = model.users.iter().map(|u| (u.id, u)).collect();
    for (token, t) in model.tokens.iter_mut() {
        tally.checked += 1;
        let (s, json, _) = answered(
            get(http, base, "/api/profile", Some(token)).await,
            "/api/profile",
        );
        let user = users_by_id[&t.user_id];
        let live = s == StatusCode::OK
            && json["id"] == user.id
            && json["username"] == user.username.as_str()
            && json["email"] == user.email.as_str();
        let ok = match t.state {
            TokenState::Live => live,
            TokenState::Revoked => s == StatusCode::UNAUTHORIZED,
            TokenState::RevokeInFlight => {
                tally.ambiguous += 1;
                live || s == StatusCode::UNAUTHORIZED
            }
        };
        if !ok {
            problems.push(format!(
                "token of user {} ({:?}): profile answered {s} {json}",
                t.user_id, t.state
            ));
        } else if t.state == TokenState::RevokeInFlight {
            t.state = if live {
                TokenState::Live
            } else {
                TokenState::Revoked
            };
        }
    }
    // Revoked tokens need no further checks once seen refused after a restart.
    model.tokens.retain(|_, t| t.state == TokenState::Live);

    // Posts: each one a client knows of, in the acknowledged state or (if a write was lost) the
    // state that write would have made.
    for post in model.posts.values_mut() {
        tally.checked += 1;
        let path = format!("/api/posts/{}", post.id);
        let (s, json, etag) = answered(get(http, base, &path, None).await, &path);
        if s != StatusCode::OK && s != StatusCode::NOT_FOUND {
            problems.push(format!("{path}: {s} {json}"));
            continue;
        }
        let found = found_post(s, &json, etag.as_deref());
        if post.in_flight.is_some() {
            tally.ambiguous += 1;
        }
        match post_matches(post, found.as_ref()) {
            Some(_) => {
                post.acked = match found {
                    Some((json, etag)) => PostState::Present { json, etag },
                    None => PostState::Deleted,
                };
                post.in_flight = None;
            }
            None => problems.push(format!(
                "post {}: found {s} {json}; acknowledged {:?}, in flight {:?}",
                post.id,
                summary(&post.acked),
                post.in_flight
            )),
        }
    }
    model
        .posts
        .retain(|_, p| matches!(p.acked, PostState::Present { .. }));

    // Nothing else: every post listed is known, or a create whose answer was lost, and carries
    // only a title and a body that some request sent.
    for p in list_all(http, base, "/api/posts", "posts").await {
        let id = p["id"].as_i64().unwrap();
        let title = p["title"].as_str().unwrap_or_default().to_owned();
        let body = p["body"].as_str().unwrap_or_default();
        if !model.titles_sent.contains(&title) || !model.bodies_sent.contains(body) {
            problems.push(format!("post {id} has a title or body never sent: {p}"));
            continue;
        }
        if model.posts.contains_key(&id) {
            continue;
        }
        match model.ambiguous_creates.remove(&title) {
            Some((owner, sent_body)) if sent_body == body => {
                // Its create landed although the answer was lost: adopt it.
                let path = format!("/api/posts/{id}");
                let (_, json, etag) = answered(get(http, base, &path, None).await, &path);
                model.posts.insert(
                    id,
                    PostModel {
                        id,
                        owner,
                        acked: PostState::Present {
                            json,
                            etag: etag.unwrap_or_default(),
                        },
                        in_flight: None,
                    },
                );
            }
            _ => problems.push(format!("post {id} was never created by any request: {p}")),
        }
    }
    tally.ambiguous += model.ambiguous_creates.len() as u64;
    model.ambiguous_creates.clear();

    // Each user's post count, kept by the database in the transaction of each post, is the
    // number of their posts that survived: no count was committed without its post, or lost.
    let mut by_author: HashMap<i64, i64> = HashMap::new();
    for post in model.posts.values() {
        if let PostState::Present { json, .. } = &post.acked {
            *by_author
                .entry(json["author_id"].as_i64().unwrap_or(0))
                .or_default() += 1;
        }
    }
    for user in &model.users {
        tally.checked += 1;
        let path = format!("/api/users/{}", user.id);
        let (_, json, _) = answered(get(http, base, &path, None).await, &path);
        let expected = by_author.get(&user.id).copied().unwrap_or(0);
        if json["post_count"] != expected {
            problems.push(format!(
                "user {}: post_count {} but {expected} posts of theirs exist",
                user.id, json["post_count"]
            ));
        }
    }
    problems
}

/// A user's JSON without `post_count`.
fn without_post_count(json: &Value) -> Value {
    let mut json = json.clone();
    if let Some(fields) = json.as_object_mut() {
        fields.remove("post_count");
    }
    json
}

pub(crate) fn summary(state: &PostState) -> String {
    match state {
        PostState::Deleted => "deleted".into(),
        PostState::Present { json, etag } => format!(
            "title {:?}, {} body bytes, etag {etag}",
            json["title"],
            json["body"].as_str().map_or(0, str::len)
        ),
    }
}
