use std::sync::{mpsc, Arc, Mutex};

use argon2::{Algorithm, Argon2, Params, PasswordHash, PasswordVerifier, Version};
use thread_priority::{set_current_thread_priority, ThreadPriority};
use tokio::sync::oneshot;

use crate::domain::Password;

type Job = Box<dyn FnOnce() + Send>;

/// Hashes and checks passwords with argon2id at OWASP's parameters (19 MiB, 2 passes, 1 lane).
///
/// Each hash takes tens of milliseconds of one core and 19 MiB, so hashes run on a pool of their
/// own, one thread per core, off the async runtime:
/// - a burst of logins queues here, at most one hash per core at a time;
/// - the threads run at a lower priority (nice about 10), so while requests that need no hash are
///   waiting, the scheduler serves them first, and a login storm does not stretch their latency,
///   yet with nothing else to do the hashes get every core;
/// - the same few threads do every hash, so the allocator keeps at most one 19 MiB block per
///   core (on the blocking pool each of hundreds of threads kept its own: 700 MB under a storm).
#[derive(Clone)]
pub struct PasswordHasher {
    jobs: mpsc::Sender<Job>,
    /// A real hash of a random password, checked when the username is unknown so that an unknown
    /// user costs the same time as a wrong password and the two cannot be told apart.
    dummy_hash: Arc<str>,
}

fn argon2() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

impl PasswordHasher {
    pub fn new() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for i in 0..cores {
            let queue = queue.clone();
            std::thread::Builder::new()
                .name(format!("argon2-{i}"))
                .spawn(move || {
                    // Best effort: without the right to lower its priority the pool still works.
                    if let Ok(priority) = 23u8.try_into() {
                        let _ =
                            set_current_thread_priority(ThreadPriority::Crossplatform(priority));
                    }
                    loop {
                        let job = match queue.lock() {
                            Ok(queue) => queue.recv(),
                            Err(_) => return,
                        };
                        match job {
                            Ok(job) => job(),
                            Err(_) => return,
                        }
                    }
                })
                .expect("spawning a hashing thread");
        }
        let dummy = hash_blocking("not a real password, only a timing decoy");
        Self {
            jobs,
            dummy_hash: dummy.into(),
        }
    }

    /// Runs `f` on the hashing pool.
    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> anyhow::Result<T> {
        let (tx, rx) = oneshot::channel();
        self.jobs
            .send(Box::new(move || {
                let _ = tx.send(f());
            }))
            .map_err(|_| anyhow::anyhow!("the hashing pool has stopped"))?;
        Ok(rx.await?)
    }

    pub async fn hash(&self, password: &Password) -> anyhow::Result<String> {
        let password = password.expose().to_owned();
        self.run(move || hash_blocking(&password)).await
    }

    /// Checks `password` against `hash`, or against the decoy when there is no user.
    pub async fn verify(&self, password: &str, hash: Option<&str>) -> anyhow::Result<bool> {
        let password = password.to_owned();
        let real = hash.is_some();
        let hash = hash.unwrap_or(&self.dummy_hash).to_owned();
        let ok = self
            .run(move || {
                PasswordHash::new(&hash)
                    .map(|parsed| {
                        argon2()
                            .verify_password(password.as_bytes(), &parsed)
                            .is_ok()
                    })
                    .unwrap_or(false)
            })
            .await?;
        Ok(ok && real)
    }
}

impl Default for PasswordHasher {
    fn default() -> Self {
        Self::new()
    }
}

fn hash_blocking(password: &str) -> String {
    use argon2::password_hash::{rand_core::OsRng, PasswordHasher as _, SaltString};
    let salt = SaltString::generate(&mut OsRng);
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 hashing with valid parameters cannot fail")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hashed_password_verifies_and_another_does_not() {
        let hasher = PasswordHasher::new();
        let pw = Password::parse("correct horse").unwrap();
        let hash = hasher.hash(&pw).await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(hasher.verify("correct horse", Some(&hash)).await.unwrap());
        assert!(!hasher.verify("wrong horse", Some(&hash)).await.unwrap());
    }

    #[tokio::test]
    async fn an_unknown_user_never_verifies() {
        let hasher = PasswordHasher::new();
        assert!(!hasher
            .verify("not a real password, only a timing decoy", None)
            .await
            .unwrap());
    }
}
