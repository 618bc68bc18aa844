//! `postbase export` / `postbase import`: the helpers the transfer tests share, and dumps cut,
//! altered or of an older version. An instance moved whole is `transfer_move.rs`.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use sha2::{Digest, Sha256};

use crate::helpers::{backends, spawn_app, Backend};
use crate::test_db::TestDb;

const BIN: &str = env!("CARGO_BIN_EXE_postbase");

pub(crate) async fn run(args: &[&str], stdin: &[u8]) -> Output {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let stdin = stdin.to_vec();
    tokio::task::spawn_blocking(move || {
        let mut child = Command::new(BIN)
            .args(&args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(&stdin).unwrap();
        child.wait_with_output().unwrap()
    })
    .await
    .unwrap()
}

/// The export as text, so that a mismatch shows as lines rather than bytes.
pub(crate) async fn export(url: &str) -> String {
    let out = run(&["export", "--database-url", url], b"").await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("exports are UTF-8")
}

pub(crate) async fn import(url: &str, dump: &str) -> Output {
    run(&["import", "--database-url", url], dump.as_bytes()).await
}

/// The trailer a version 2 dump ending in `body` carries: the count of each kind and the SHA-256
/// of every byte before it.
pub(crate) fn seal(body: &str) -> String {
    let count = |kind: &str| {
        let tag = format!("{{\"kind\":\"{kind}\",");
        body.lines().filter(|l| l.starts_with(&tag)).count()
    };
    let sha: String = Sha256::digest(body.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!(
        "{{\"kind\":\"end\",\"users\":{},\"tokens\":{},\"posts\":{},\"comments\":{},\"likes\":{},\"follows\":{},\"sha256\":\"{sha}\"}}\n",
        count("user"),
        count("token"),
        count("post"),
        count("comment"),
        count("like"),
        count("follow")
    )
}

/// Is the database at `url` as a failed import must leave it: no rows, no ids handed out?
pub(crate) async fn assert_untouched(url: &str) {
    let store = postbase::store::connect(url).await.unwrap();
    assert!(store.is_empty().await.unwrap(), "rows were imported");
    assert_eq!(store.export_ids().await.unwrap(), Default::default());
}

/// Imports `dump` into `url`, expects a refusal that says `expected`, and nothing imported.
pub(crate) async fn assert_refused(url: &str, dump: &str, expected: &str) {
    let out = import(url, dump).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "imported, expected {expected:?}");
    assert!(
        stderr.contains(expected),
        "expected {expected:?} in: {stderr}"
    );
    assert!(stderr.contains("nothing was imported"), "{stderr}");
    assert_untouched(url).await;
}

/// A source instance with a little of everything, exported.
async fn some_instance_exported() -> String {
    let source = spawn_app(Backend::Sqlite).await;
    let alice = source.user("alice").await;
    source.user("bob").await;
    for i in 0..3 {
        source
            .create_post(&alice.token, &format!("post {i}"), "")
            .await;
    }
    export(&source.database_url).await
}

backends!(a_cut_or_altered_dump_is_refused_and_leaves_the_database_empty);
async fn a_cut_or_altered_dump_is_refused_and_leaves_the_database_empty(backend: Backend) {
    let dump = some_instance_exported().await;
    let lines: Vec<&str> = dump.split_inclusive('\n').collect();
    assert_eq!(lines.len(), 1 + 2 + 2 + 3 + 1 + 1, "{dump}");
    let db = TestDb::new(&backend).await;
    let without_trailer = lines[..lines.len() - 1].concat();
    assert_refused(
        &db.url,
        &without_trailer,
        "the dump is incomplete: no trailer",
    )
    .await;
    // `head -n 4`: cut at a line boundary, as by a full disk or a copy interrupted.
    let head = lines[..4].concat();
    assert_refused(&db.url, &head, "no trailer (it ends at line 4)").await;
    // A line gone from the middle, the trailer kept.
    let gap = [&lines[..6], &lines[7..]].concat().concat();
    assert_refused(
        &db.url,
        &gap,
        "line 9: the trailer counts 2 users, 2 tokens, 3 posts",
    )
    .await;
    // The same counts, a row altered.
    let altered = dump.replace("post 1", "post 9");
    assert_refused(&db.url, &altered, "line 10: checksum mismatch").await;
    // Nothing after the trailer.
    assert_refused(
        &db.url,
        &format!("{dump}{}", lines[1]),
        "line 11: nothing may follow",
    )
    .await;
    // A version 1 dump has no trailer to tell, but one without its final ids record is cut.
    let v1 = as_version_1(&dump);
    let v1_cut = v1[..v1[..v1.len() - 1].rfind('\n').unwrap() + 1].to_owned();
    assert_refused(&db.url, &v1_cut, "the dump is incomplete: no ids record").await;
    // The whole dump, after all those refusals, goes in as it is.
    let out = import(&db.url, &dump).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(export(&db.url).await, dump);
}

/// What `dump` looked like as a version 1 export, made before dumps had a trailer.
fn as_version_1(dump: &str) -> String {
    let body = &dump[..dump[..dump.len() - 1].rfind('\n').unwrap() + 1];
    body.replacen("\"version\":5}", "\"version\":1}", 1)
}

backends!(a_version_1_dump_without_a_trailer_still_imports_with_a_warning);
async fn a_version_1_dump_without_a_trailer_still_imports_with_a_warning(backend: Backend) {
    let dump = some_instance_exported().await;
    let v1 = as_version_1(&dump);
    assert!(v1.starts_with("{\"format\":\"postbase-export\",\"version\":1}\n"));
    assert!(!v1.contains("\"kind\":\"end\""));
    let db = TestDb::new(&backend).await;
    let out = import(&db.url, &v1).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains(
            "warning: a version 1 dump has no trailer, so its completeness cannot be verified"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("imported 2 users, 2 tokens, 3 posts"),
        "{stderr}"
    );
    // The same data as the version 3 export it came from, now with its trailer again.
    assert_eq!(export(&db.url).await, dump);
    // A dump with a trailer gives no such warning.
    let again = TestDb::new(&backend).await;
    let out = import(&again.url, &dump).await;
    assert!(out.status.success());
    assert!(!String::from_utf8_lossy(&out.stderr).contains("warning"));
}
