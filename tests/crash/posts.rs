//! The post writes of the load: create, edit (PUT or PATCH) and delete, each recorded in the model
//! as acknowledged, refused, or in flight when the answer was lost.

use rand::rngs::StdRng;
use rand::Rng;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::http::{send, Outcome};
use crate::load::{random_text, Load};
use crate::model::{Pending, PostModel, PostState};

impl Load {
    pub(crate) async fn create_post(
        &self,
        slot: usize,
        token: &str,
        seq: u64,
        rng: &mut StdRng,
    ) -> bool {
        let title = format!("{}-c{slot}-{seq} created", self.tag);
        let body = random_text(rng, &title);
        {
            let mut m = self.model.lock().unwrap();
            m.titles_sent.insert(title.clone());
            m.bodies_sent.insert(body.clone());
            m.ambiguous_creates
                .insert(title.clone(), (slot, body.clone()));
        }
        let out = send(
            &self.http,
            &self.base,
            Method::POST,
            "/api/posts",
            Some(token),
            Some(&json!({"title": title, "body": body})),
        )
        .await;
        let mut m = self.model.lock().unwrap();
        match out {
            Outcome::Answered(s, json, etag) if s == StatusCode::CREATED => {
                m.ambiguous_creates.remove(&title);
                let id = json["id"].as_i64().expect("a post id");
                m.posts.insert(
                    id,
                    PostModel {
                        id,
                        owner: slot,
                        acked: PostState::Present {
                            json,
                            etag: etag.expect("an ETag"),
                        },
                        in_flight: None,
                    },
                );
                self.tally.lock().unwrap().acked_writes += 1;
                true
            }
            Outcome::Lost => false,
            Outcome::NotSent => {
                m.ambiguous_creates.remove(&title);
                false
            }
            Outcome::Answered(status, json, _) => {
                m.ambiguous_creates.remove(&title);
                self.refused(status, &json);
                false
            }
        }
    }

    pub(crate) async fn edit_post(
        &self,
        id: i64,
        token: &str,
        seq: u64,
        put: bool,
        rng: &mut StdRng,
    ) -> bool {
        let new_title = format!("{}-e{id}-{seq} edited", self.tag);
        let new_body = random_text(rng, &new_title);
        // PUT replaces both; PATCH sends one or both.
        let (title, body) = match (put, rng.gen_range(0..3)) {
            (true, _) | (false, 0) => (Some(new_title), Some(new_body)),
            (false, 1) => (Some(new_title), None),
            _ => (None, Some(new_body)),
        };
        let mut payload = serde_json::Map::new();
        {
            let mut m = self.model.lock().unwrap();
            if let Some(t) = &title {
                m.titles_sent.insert(t.clone());
                payload.insert("title".into(), json!(t));
            }
            if let Some(b) = &body {
                m.bodies_sent.insert(b.clone());
                payload.insert("body".into(), json!(b));
            }
            m.posts.get_mut(&id).unwrap().in_flight = Some(Pending::Edit { title, body });
        }
        let method = if put { Method::PUT } else { Method::PATCH };
        let out = send(
            &self.http,
            &self.base,
            method,
            &format!("/api/posts/{id}"),
            Some(token),
            Some(&Value::Object(payload)),
        )
        .await;
        let mut m = self.model.lock().unwrap();
        let post = m.posts.get_mut(&id).unwrap();
        match out {
            Outcome::Answered(s, json, etag) if s == StatusCode::OK => {
                post.acked = PostState::Present {
                    json,
                    etag: etag.expect("an ETag"),
                };
                post.in_flight = None;
                self.tally.lock().unwrap().acked_writes += 1;
                true
            }
            Outcome::Lost => false,
            Outcome::NotSent => {
                post.in_flight = None;
                false
            }
            Outcome::Answered(status, json, _) => {
                post.in_flight = None;
                self.refused(status, &json);
                false
            }
        }
    }

    pub(crate) async fn delete_post(&self, id: i64, token: &str) -> bool {
        self.model
            .lock()
            .unwrap()
            .posts
            .get_mut(&id)
            .unwrap()
            .in_flight = Some(Pending::Delete);
        let out = send(
            &self.http,
            &self.base,
            Method::DELETE,
            &format!("/api/posts/{id}"),
            Some(token),
            None,
        )
        .await;
        let mut m = self.model.lock().unwrap();
        let post = m.posts.get_mut(&id).unwrap();
        match out {
            Outcome::Answered(s, ..) if s == StatusCode::NO_CONTENT => {
                post.acked = PostState::Deleted;
                post.in_flight = None;
                self.tally.lock().unwrap().acked_writes += 1;
                true
            }
            Outcome::Lost => false,
            Outcome::NotSent => {
                post.in_flight = None;
                false
            }
            Outcome::Answered(status, json, _) => {
                post.in_flight = None;
                self.refused(status, &json);
                false
            }
        }
    }
}
