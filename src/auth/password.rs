use std::cell::RefCell;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex, OnceLock};
use std::time::Duration;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{Output, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use thread_priority::{set_current_thread_priority, ThreadPriority};
use tokio::sync::oneshot;

use crate::domain::Password;
use crate::error::ApiError;

type Job = Box<dyn FnOnce() + Send>;

/// Hashes and checks passwords with argon2id at OWASP's parameters (19 MiB, 2 passes, 1 lane).
///
/// Each hash takes tens of milliseconds of one core and 19 MiB, so hashes run on a pool of their
/// own, one thread per core, off the async runtime:
/// - a burst of logins queues here, at most one hash per core at a time;
/// - the threads run at a lower priority (nice about 10), so while requests that need no hash are
///   waiting, the scheduler serves them first, and a login storm does not stretch their latency,
///   yet with nothing else to do the hashes get every core;
/// - each of these threads keeps one 19 MiB working block and reuses it for every hash, so memory
///   stays at one block per core (on the blocking pool, with a fresh block per hash, the
///   allocator kept hundreds of freed blocks: 700 MB under a storm of logins);
/// - the queue is bounded ([`MAX_QUEUED`]): past it a request is answered 503 at once rather than
///   waiting behind work that will take longer than any client waits;
/// - a job whose request has gone (the client closed the connection, the request timed out)
///   before a thread takes it is dropped unrun, so abandoned logins cost nothing.
#[derive(Clone, Debug)]
pub struct PasswordHasher {
    jobs: mpsc::Sender<Job>,
    /// Jobs sent and not yet finished.
    queued: Arc<AtomicUsize>,
    /// A real hash of a random password, checked when the username is unknown so that an unknown
    /// user costs the same time as a wrong password and the two cannot be told apart. Made at
    /// start on the pool (so the very first unknown-user login is not slower than a real one).
    dummy_hash: Arc<OnceLock<String>>,
}

/// Most hashes queued or running at once. At about 45 hashes a second per core, a full queue
/// is a few seconds of work on a small machine: more would only make every login wait longer.
pub(super) const MAX_QUEUED: usize = 256;

const DECOY_PASSWORD: &str = "not a real password, only a timing decoy";

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
        // The decoy is made at start, on a thread of its own whose 19 MiB working memory is
        // returned when it ends: idle memory stays small, and the first unknown-user login costs
        // one hash like any other.
        let dummy_hash = Arc::new(OnceLock::new());
        let decoy = dummy_hash.clone();
        let _ = std::thread::Builder::new()
            .name("argon2-decoy".into())
            .spawn(move || {
                decoy.get_or_init(|| hash_blocking(DECOY_PASSWORD));
            });
        Self {
            jobs,
            queued: Arc::new(AtomicUsize::new(0)),
            dummy_hash,
        }
    }

    /// Runs `f` on the hashing pool, unless the queue is full or the caller stops waiting first.
    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        if self.queued.fetch_add(1, Ordering::AcqRel) >= MAX_QUEUED {
            self.queued.fetch_sub(1, Ordering::AcqRel);
            return Err(ApiError::Overloaded {
                message: "Too many password checks waiting; try again shortly",
                retry_after: Duration::from_secs(1),
            });
        }
        let (tx, rx) = oneshot::channel();
        let queued = self.queued.clone();
        let job: Job = Box::new(move || {
            if !tx.is_closed() {
                let _ = tx.send(f());
            }
            queued.fetch_sub(1, Ordering::AcqRel);
        });
        if self.jobs.send(job).is_err() {
            self.queued.fetch_sub(1, Ordering::AcqRel);
            return Err(ApiError::Internal("the hashing pool has stopped".into()));
        }
        rx.await
            .map_err(|_| ApiError::Internal("the hashing pool dropped a job".into()))
    }

    pub async fn hash(&self, password: &Password) -> Result<String, ApiError> {
        let password = password.expose().to_owned();
        self.run(move || hash_blocking(&password)).await
    }

    /// Checks `password` against `hash`, or against the decoy when there is no user.
    pub async fn verify(&self, password: &str, hash: Option<&str>) -> Result<bool, ApiError> {
        let password = password.to_owned();
        let real = hash.map(str::to_owned);
        let decoy = self.dummy_hash.clone();
        let ok = self
            .run(move || match &real {
                Some(hash) => verify_blocking(&password, hash),
                None => {
                    let decoy = decoy.get_or_init(|| hash_blocking(DECOY_PASSWORD));
                    // The work is the point; black_box keeps the optimiser from skipping it.
                    std::hint::black_box(verify_blocking(&password, decoy));
                    false
                }
            })
            .await?;
        Ok(ok)
    }
}

impl Default for PasswordHasher {
    fn default() -> Self {
        Self::new()
    }
}

thread_local! {
    /// The 19 MiB of working memory argon2 needs, kept by each hashing thread and reused, rather
    /// than allocated and freed per hash (the allocator kept the freed blocks: 235 MB after a
    /// storm of logins on 2 cores, against one block per thread now).
    static MEMORY: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

fn with_memory<T>(params: &Params, f: impl FnOnce(&mut [Block]) -> T) -> T {
    MEMORY.with(|memory| {
        let mut memory = memory.borrow_mut();
        if memory.len() != params.block_count() {
            *memory = vec![Block::default(); params.block_count()];
        }
        f(&mut memory)
    })
}

/// A new PHC string (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`) for `password`.
fn hash_blocking(password: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    let mut salt_bytes = [0u8; 64];
    let salt_bytes = salt
        .as_salt()
        .decode_b64(&mut salt_bytes)
        .expect("a generated salt decodes");
    let argon2 = argon2();
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    with_memory(argon2.params(), |memory| {
        argon2.hash_password_into_with_memory(password.as_bytes(), salt_bytes, &mut out, memory)
    })
    .expect("argon2 hashing with valid parameters cannot fail");
    PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: argon2.params().try_into().expect("valid parameters"),
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out).expect("a 32-byte output")),
    }
    .to_string()
}

/// The most work a stored hash may ask of a login: argon2 memory in KiB (64 MiB), passes, lanes.
///
/// A login runs the hash with the parameters stored in it, so whoever writes a hash into the
/// database chooses what every login for that user costs: `m=524288,t=8` is 512 MiB and several
/// seconds of a core per attempt, and a few such logins exhaust the machine. Hashes made here use
/// 19 MiB, 2 passes, 1 lane; the ceiling admits RFC 9106's second recommendation (64 MiB, 3
/// passes, 4 lanes) and OWASP's, and bounds the worst login to about 17 times our own cost and one
/// 64 MiB block per hashing thread. `postbase import` refuses hashes beyond it.
pub const MAX_STORED_M_KIB: u32 = 64 * 1024;
pub const MAX_STORED_T: u32 = 10;
pub const MAX_STORED_P: u32 = 4;

/// Whether `hash` is an argon2 PHC string that a login can check within the ceiling above; the
/// reason when it is not. Only parameters are read: nothing is hashed.
pub fn check_stored_hash(hash: &str) -> Result<(), String> {
    const SHAPE: &str = "must be an argon2 PHC string ($argon2id$v=19$m=...,t=...,p=...$salt$hash)";
    let parsed = PasswordHash::new(hash).map_err(|_| SHAPE.to_owned())?;
    Algorithm::try_from(parsed.algorithm).map_err(|_| SHAPE.to_owned())?;
    if let Some(version) = parsed.version {
        Version::try_from(version).map_err(|_| format!("unknown argon2 version {version}"))?;
    }
    let params = Params::try_from(&parsed).map_err(|e| format!("argon2 parameters: {e}"))?;
    let (m, t, p) = (params.m_cost(), params.t_cost(), params.p_cost());
    if m > MAX_STORED_M_KIB || t > MAX_STORED_T || p > MAX_STORED_P {
        return Err(format!(
            "argon2 parameters m={m},t={t},p={p} exceed the ceiling \
             m={MAX_STORED_M_KIB},t={MAX_STORED_T},p={MAX_STORED_P} (a login would cost too much)"
        ));
    }
    let (Some(salt), Some(_)) = (parsed.salt, parsed.hash) else {
        return Err(SHAPE.to_owned());
    };
    let mut salt_bytes = [0u8; 64];
    salt.decode_b64(&mut salt_bytes)
        .map_err(|_| "the salt is not valid base64".to_owned())?;
    Ok(())
}

/// Checks `password` against a PHC string, with whatever parameters it was made with.
fn verify_blocking(password: &str, hash: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return false;
    };
    let (Ok(algorithm), Ok(params)) = (
        Algorithm::try_from(parsed.algorithm),
        Params::try_from(&parsed),
    ) else {
        return false;
    };
    let version = parsed
        .version
        .and_then(|v| Version::try_from(v).ok())
        .unwrap_or_default();
    let mut salt_bytes = [0u8; 64];
    let Ok(salt_bytes) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let argon2 = Argon2::new(algorithm, version, params);
    let mut out = vec![0u8; expected.len()];
    let computed = with_memory(argon2.params(), |memory| {
        argon2.hash_password_into_with_memory(password.as_bytes(), salt_bytes, &mut out, memory)
    });
    // `Output` compares in constant time.
    computed.is_ok() && Output::new(&out).is_ok_and(|out| out == expected)
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

    #[test]
    fn hashes_made_by_the_argon2_crate_itself_still_verify() {
        use argon2::PasswordHasher as _;
        let salt = SaltString::generate(&mut OsRng);
        let theirs = argon2()
            .hash_password(b"made elsewhere", &salt)
            .unwrap()
            .to_string();
        assert!(verify_blocking("made elsewhere", &theirs));
        assert!(!verify_blocking("made elsewhere!", &theirs));
        // Other parameters (an imported hash) work too.
        let light = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(8, 1, 1, None).unwrap(),
        )
        .hash_password(b"light", &salt)
        .unwrap()
        .to_string();
        assert!(verify_blocking("light", &light));
        assert!(!verify_blocking("light", "not a phc string"));
    }

    #[test]
    fn stored_hashes_must_be_argon2_within_the_ceiling() {
        assert_eq!(check_stored_hash(&hash_blocking("ours")), Ok(()));
        let salt = SaltString::generate(&mut OsRng);
        let with = |m, t, p| {
            use argon2::PasswordHasher as _;
            Argon2::new(
                Algorithm::Argon2id,
                Version::V0x13,
                Params::new(m, t, p, None).unwrap(),
            )
            .hash_password(b"x", &salt)
            .unwrap()
            .to_string()
        };
        // At the ceiling (hashed for real: 64 MiB once), and one step past it on each axis (only
        // the parameters change: checking must not hash).
        let at_ceiling = with(MAX_STORED_M_KIB, 1, MAX_STORED_P);
        assert_eq!(check_stored_hash(&at_ceiling), Ok(()));
        let light = with(8, 1, 1);
        for (params, beyond) in [
            ("m=65537,t=1,p=1", true),
            ("m=524288,t=8,p=1", true),
            ("m=8,t=11,p=1", true),
            ("m=40,t=1,p=5", true),
            ("m=8,t=10,p=1", false),
        ] {
            let hash = light.replace("m=8,t=1,p=1", params);
            let checked = check_stored_hash(&hash);
            assert_eq!(checked.is_err(), beyond, "{params}: {checked:?}");
            if beyond {
                assert!(checked.unwrap_err().contains("exceed the ceiling"));
            }
        }
        for bad in [
            "",
            "not a phc string",
            "$2b$12$abcdefghijklmnopqrstuu5Jqv0xTgsZbgsb3VLDbGvNkS9eFJ2y", // bcrypt
            "$scrypt$ln=16,r=8,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
            &light.replace("$argon2id$", "$argon3$"),
            &light[..light.rfind('$').unwrap()], // no hash part
        ] {
            assert!(check_stored_hash(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[tokio::test]
    async fn an_unknown_user_never_verifies() {
        let hasher = PasswordHasher::new();
        assert!(!hasher.verify(DECOY_PASSWORD, None).await.unwrap());
    }
}
