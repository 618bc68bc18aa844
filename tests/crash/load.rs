//! The load: concurrent clients signing up, logging in, logging out and writing posts (`posts.rs`)
//! until the server is killed, each recording in the model what it was told.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::http::{send, Outcome};
use crate::model::{Model, PostState, Tally, TokenModel, TokenState, UserModel};

/// Concurrent clients during the load. Each owns the posts it creates, so one post never has two
/// writes in flight at once and its possible states after a kill are at most two.
pub(crate) const CLIENTS: usize = 24;
/// Users signed up (and a token for each client logged in) at the start of each generation.
pub(crate) const SEED_USERS: usize = 6;

pub(crate) struct Load {
    pub http: reqwest::Client,
    pub base: String,
    pub model: Arc<Mutex<Model>>,
    pub stop: Arc<AtomicBool>,
    pub tally: Arc<Mutex<Tally>>,
    /// Non-2xx answers to writes, by status and message.
    pub refusals: Arc<Mutex<BTreeMap<String, u64>>>,
    /// Unique per run, generation and cycle, so that no two requests send the same username or title.
    pub tag: String,
}

pub(crate) fn random_text(rng: &mut StdRng, prefix: &str) -> String {
    // Up to a few KiB, so some rows span pages and a torn write would show.
    let len = rng.gen_range(0..4096);
    let fill: String = (0..len.min(64))
        .map(|_| rng.gen_range(b'a'..=b'z') as char)
        .collect();
    let mut s = prefix.to_owned();
    while s.len() < len {
        s.push_str(&fill);
        s.push(' ');
    }
    s
}

impl Load {
    /// A write answered with something other than 2xx: it did not land. Counted, and its kind kept
    /// for the summary (none are expected: every request the clients send is valid).
    pub(crate) fn refused(&self, status: StatusCode, json: &Value) {
        let mut tally = self.tally.lock().unwrap();
        tally.failed_requests += 1;
        if status.is_server_error() {
            tally.server_errors += 1;
        }
        drop(tally);
        let kind = format!("{status} {}", json["error"].as_str().unwrap_or_default());
        *self.refusals.lock().unwrap().entry(kind).or_default() += 1;
    }

    /// Signs up `username`, recording the result; returns the user when acknowledged.
    pub(crate) async fn sign_up(&self, username: String, rng: &mut StdRng) -> Option<UserModel> {
        let password = format!("pw-{}", rng.gen::<u64>());
        let email = format!("{username}@example.test");
        {
            let mut m = self.model.lock().unwrap();
            m.usernames_sent.insert(username.clone());
            m.ambiguous_signups
                .insert(username.clone(), (password.clone(), email.clone()));
        }
        let body = json!({"username": username, "password": password, "email": email});
        let out = send(
            &self.http,
            &self.base,
            Method::POST,
            "/api/users",
            None,
            Some(&body),
        )
        .await;
        let mut m = self.model.lock().unwrap();
        match out {
            Outcome::Answered(s, json, _) if s == StatusCode::CREATED => {
                m.ambiguous_signups.remove(&username);
                let user = UserModel {
                    id: json["id"].as_i64().expect("a user id"),
                    username,
                    password,
                    email,
                    json,
                };
                m.users.push(user.clone());
                self.tally.lock().unwrap().acked_writes += 1;
                Some(user)
            }
            Outcome::Lost => None,
            Outcome::NotSent => {
                m.ambiguous_signups.remove(&username);
                None
            }
            Outcome::Answered(status, json, _) => {
                m.ambiguous_signups.remove(&username);
                self.refused(status, &json);
                None
            }
        }
    }

    /// Logs `user` in; returns the token when acknowledged. A lost login leaves at most a token
    /// nobody knows, which nothing checks.
    pub(crate) async fn log_in(&self, slot: usize, user: &UserModel) -> Option<String> {
        let body = json!({"username": user.username, "password": user.password});
        match send(
            &self.http,
            &self.base,
            Method::POST,
            "/api/tokens",
            None,
            Some(&body),
        )
        .await
        {
            Outcome::Answered(s, json, _) if s == StatusCode::CREATED => {
                let token = json["token"].as_str().expect("a token").to_owned();
                self.model.lock().unwrap().tokens.insert(
                    token.clone(),
                    TokenModel {
                        user_id: user.id,
                        owner: slot,
                        state: TokenState::Live,
                    },
                );
                self.tally.lock().unwrap().acked_writes += 1;
                Some(token)
            }
            Outcome::Answered(status, json, _) => {
                self.refused(status, &json);
                None
            }
            _ => None,
        }
    }

    /// One client: picks a user, logs in, then writes until the server dies or the load stops.
    pub(crate) async fn client(self: Arc<Self>, slot: usize, seed: u64) {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut seq = 0u64;
        // The seed users come first and stay put, so a slot keeps its user (and so stays the
        // author of the posts it owns) across the cycles of a generation.
        let user = self.model.lock().unwrap().users[slot % SEED_USERS].clone();
        // Reuse a live token of this user from an earlier cycle when there is one.
        let mut token = {
            let m = self.model.lock().unwrap();
            m.tokens
                .iter()
                .find(|(_, t)| t.owner == slot && t.state == TokenState::Live)
                .map(|(k, _)| k.clone())
        };
        while !self.stop.load(Ordering::Relaxed) {
            seq += 1;
            let Some(tok) = token.clone() else {
                match self.log_in(slot, &user).await {
                    Some(t) => token = Some(t),
                    None => return,
                }
                continue;
            };
            let roll = rng.gen_range(0..100);
            let alive = match roll {
                0..=2 => {
                    let name = format!("{}{slot}x{seq}", self.tag);
                    self.sign_up(name, &mut rng).await.is_some()
                }
                3..=5 => match self.log_in(slot, &user).await {
                    Some(t) => {
                        token = Some(t);
                        true
                    }
                    None => false,
                },
                6..=9 => {
                    let alive = self.revoke(&tok).await;
                    token = None;
                    alive
                }
                _ => {
                    let own: Vec<i64> = {
                        let m = self.model.lock().unwrap();
                        m.posts
                            .values()
                            .filter(|p| {
                                p.owner == slot
                                    && p.in_flight.is_none()
                                    && matches!(p.acked, PostState::Present { .. })
                            })
                            .map(|p| p.id)
                            .collect()
                    };
                    if own.is_empty() || roll < 50 {
                        self.create_post(slot, &tok, seq, &mut rng).await
                    } else {
                        let id = own[rng.gen_range(0..own.len())];
                        match roll {
                            50..=74 => self.edit_post(id, &tok, seq, false, &mut rng).await,
                            75..=87 => self.edit_post(id, &tok, seq, true, &mut rng).await,
                            _ => self.delete_post(id, &tok).await,
                        }
                    }
                }
            };
            if !alive {
                return;
            }
        }
    }

    /// Returns false when the server is gone.
    pub(crate) async fn revoke(&self, token: &str) -> bool {
        self.model
            .lock()
            .unwrap()
            .tokens
            .get_mut(token)
            .expect("a known token")
            .state = TokenState::RevokeInFlight;
        let out = send(
            &self.http,
            &self.base,
            Method::DELETE,
            "/api/tokens/current",
            Some(token),
            None,
        )
        .await;
        let mut m = self.model.lock().unwrap();
        let t = m.tokens.get_mut(token).unwrap();
        match out {
            Outcome::Answered(s, ..) if s == StatusCode::NO_CONTENT => {
                t.state = TokenState::Revoked;
                self.tally.lock().unwrap().acked_writes += 1;
                true
            }
            Outcome::Answered(status, json, _) => {
                t.state = TokenState::Live;
                self.refused(status, &json);
                false
            }
            Outcome::NotSent => {
                t.state = TokenState::Live;
                false
            }
            Outcome::Lost => false,
        }
    }

    pub(crate) fn clone_handle(&self) -> Self {
        Self {
            http: self.http.clone(),
            base: self.base.clone(),
            model: self.model.clone(),
            stop: self.stop.clone(),
            tally: self.tally.clone(),
            refusals: self.refusals.clone(),
            tag: self.tag.clone(),
        }
    }
}

pub(crate) async fn seed_users(load: &Load, rng: &mut StdRng) {
    let mut tasks = tokio::task::JoinSet::new();
    let load = Arc::new(load.clone_handle());
    for i in 0..SEED_USERS {
        let load = load.clone();
        let name = format!("{}seed{i}", load.tag);
        let mut rng = StdRng::seed_from_u64(rng.gen());
        tasks.spawn(async move {
            load.sign_up(name, &mut rng)
                .await
                .expect("a seed user signs up");
        });
    }
    while let Some(r) = tasks.join_next().await {
        r.expect("seed task");
    }
    // A token for every client up front, so that the load is writes from its first millisecond
    // rather than a queue of password hashes.
    for slot in 0..CLIENTS {
        let load = load.clone();
        let user = load.model.lock().unwrap().users[slot % SEED_USERS].clone();
        tasks.spawn(async move {
            load.log_in(slot, &user).await.expect("a seed login");
        });
    }
    while let Some(r) = tasks.join_next().await {
        r.expect("seed login task");
    }
}
