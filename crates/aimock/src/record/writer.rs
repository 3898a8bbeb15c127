//! Recordings on disk: where a recording goes, and writing it so that no crash, concurrent
//! writer or unreadable old file ever loses one (aimock #155, #161, §6.2).
//!
//! **Where.** With a test id (`X-Test-Id`, not `__default__`) every recording of the test goes
//! into one file per provider, `<base>/<slug(test id)>/<provider>.json`, appended to what an
//! earlier run left there. Otherwise each recording gets its own file,
//! `<base>/<provider>-<ISO time, ':' and '.' as '-'>-<8 hex>.json`, inside
//! `<base>/<slug(context)>/` when an `X-AIMock-Context` is given. A test id whose slug is empty
//! falls back to the second form. Slugs are ASCII `[a-z0-9_-]`, at most [`MAX_SLUG`] long, so a
//! header can never name a path outside `<base>` (no `/`, `\`, `.` survives).
//!
//! **How.** Every file is written whole to a uniquely named temporary file in the same
//! directory, flushed to disk (`fsync`) and renamed over the target, so a reader sees the old file
//! or the new one, never half of one. Read-merge-write of a per-test file is serialised within
//! the process by a per-path async lock, and across processes by an advisory lock
//! (`File::lock`) on a hidden sidecar file `.<provider>.json.lock` next to it, which is left in
//! place. Temporary files (`.<name>.tmp-...`), sidecars and set-aside files do not end in
//! `.json`, so the fixture loader never reads them.
//!
//! **Unreadable files.** An existing per-test file that is not a fixture file (bad JSON,
//! `fixtures` not a list) is renamed to `<name>.corrupt-<time>-<8 hex>` and the new file says so in
//! its `_warnings`; it is never overwritten.
//!
//! File content: `{"fixtures": [...], "_warnings": [...]}` (`_warnings` only when there are some;
//! the loader ignores `_` fields), pretty-printed.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock};
use std::time::{SystemTime, UNIX_EPOCH};

use parking_lot::Mutex;
use regex::Regex;
use serde_json::{Map, Value};

use crate::fixture::DEFAULT_TEST_ID;

/// The longest slug; longer ones are cut and end in 8 hex characters of their hash, so two long
/// test ids sharing a prefix still get different directories.
pub(crate) const MAX_SLUG: usize = 100;

/// Writes recordings under a base directory.
#[derive(Debug)]
pub(crate) struct FixtureWriter {
    base: PathBuf,
    /// One lock per per-test file being written; an entry is dropped when no writer holds it.
    locks: Mutex<HashMap<PathBuf, Arc<tokio::sync::Mutex<()>>>>,
}

impl FixtureWriter {
    /// A writer for `base` (created on the first write).
    pub(crate) fn new(base: impl Into<PathBuf>) -> FixtureWriter {
        FixtureWriter {
            base: base.into(),
            locks: Mutex::new(HashMap::new()),
        }
    }

    /// Save one fixture (`{match, response, recordedTimings?, metadata?}`) and return the file it
    /// went into. `warnings` are added to the file's `_warnings`. The write finishes even when
    /// the returned future is dropped half-way.
    pub(crate) async fn write(
        &self,
        provider: &str,
        test_id: Option<&str>,
        context: Option<&str>,
        entry: Value,
        warnings: &[String],
    ) -> io::Result<PathBuf> {
        let provider = match slug_context(provider) {
            p if p.is_empty() => "recording".to_owned(),
            p => p,
        };
        let warnings = warnings.to_vec();
        let test_slug = test_id
            .filter(|t| *t != DEFAULT_TEST_ID)
            .map(slug_test_id)
            .filter(|s| !s.is_empty());
        let Some(slug) = test_slug else {
            let mut dir = self.base.clone();
            if let Some(c) = context.map(slug_context).filter(|c| !c.is_empty()) {
                dir.push(c);
            }
            return blocking(move || write_new(&dir, &provider, entry, warnings)).await;
        };
        let target = self.base.join(slug).join(format!("{provider}.json"));
        let lock = Arc::clone(self.locks.lock().entry(target.clone()).or_default());
        let guard = Arc::clone(&lock).lock_owned().await;
        drop(lock);
        let path = target.clone();
        let result = blocking(move || {
            // The guard lives as long as the blocking work, even if this future is dropped.
            let _guard = guard;
            merge_write(&path, entry, warnings)
        })
        .await;
        let mut locks = self.locks.lock();
        if locks
            .get(&target)
            .is_some_and(|l| Arc::strong_count(l) == 1)
        {
            locks.remove(&target);
        }
        result
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> io::Result<T> + Send + 'static,
) -> io::Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .unwrap_or_else(|e| Err(io::Error::other(format!("recording writer failed: {e}"))))
}

/// A new timestamped file in `dir`.
fn write_new(
    dir: &Path,
    provider: &str,
    entry: Value,
    warnings: Vec<String>,
) -> io::Result<PathBuf> {
    fs::create_dir_all(dir)?;
    let body = file_body(vec![entry], dedup(warnings))?;
    let stamp = file_stamp(SystemTime::now());
    loop {
        let target = dir.join(format!("{provider}-{stamp}-{}.json", hex8()));
        if target.exists() {
            continue;
        }
        atomic_write(&target, &body)?;
        return Ok(target);
    }
}

/// Append to the per-test file at `target`, under the cross-process lock.
fn merge_write(target: &Path, entry: Value, warnings: Vec<String>) -> io::Result<PathBuf> {
    let dir = target.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir)?;
    let name = file_name(target);
    let lock_file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join(format!(".{name}.lock")))?;
    lock_file.lock()?;
    let mut fixtures = Vec::new();
    let mut all_warnings = Vec::new();
    match fs::read(target) {
        Ok(bytes) => match parse_existing(&bytes) {
            Ok((old, old_warnings)) => {
                fixtures = old;
                all_warnings = old_warnings;
            }
            Err(why) => {
                let aside = dir.join(format!(
                    "{name}.corrupt-{}-{}",
                    file_stamp(SystemTime::now()),
                    hex8()
                ));
                fs::rename(target, &aside)?;
                let aside_name = file_name(&aside);
                tracing::warn!(
                    "recording file {} was not a fixture file ({why}); kept it as {aside_name} and started a new one",
                    target.display()
                );
                all_warnings.push(format!(
                    "the previous {name} could not be read ({why}); it was kept as {aside_name}"
                ));
            }
        },
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    fixtures.push(entry);
    all_warnings.extend(warnings);
    let body = file_body(fixtures, dedup(all_warnings))?;
    atomic_write(target, &body)?;
    // Unlocked when `lock_file` is closed; explicit for clarity.
    lock_file.unlock()?;
    Ok(target.to_path_buf())
}

/// The fixtures and warnings of an existing recording file, or why it is not one.
fn parse_existing(bytes: &[u8]) -> Result<(Vec<Value>, Vec<String>), String> {
    let v: Value = serde_json::from_slice(bytes).map_err(|e| format!("invalid JSON: {e}"))?;
    let Value::Object(mut o) = v else {
        return Err("the top level is not an object".into());
    };
    let fixtures = match o.remove("fixtures") {
        None => Vec::new(),
        Some(Value::Array(a)) => a,
        Some(_) => return Err("`fixtures` is not a list".into()),
    };
    let mut warnings = Vec::new();
    match o.remove("_warnings") {
        Some(Value::Array(ws)) => {
            warnings.extend(ws.into_iter().filter_map(|w| w.as_str().map(str::to_owned)))
        }
        _ => {
            if let Some(Value::String(w)) = o.remove("_warning") {
                warnings.extend(w.split("; ").filter(|s| !s.is_empty()).map(str::to_owned));
            }
        }
    }
    Ok((fixtures, warnings))
}

fn dedup(warnings: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(warnings.len());
    for w in warnings {
        if !out.contains(&w) {
            out.push(w);
        }
    }
    out
}

fn file_body(fixtures: Vec<Value>, warnings: Vec<String>) -> io::Result<Vec<u8>> {
    let mut o = Map::new();
    o.insert("fixtures".into(), Value::Array(fixtures));
    if !warnings.is_empty() {
        o.insert(
            "_warnings".into(),
            Value::Array(warnings.into_iter().map(Value::String).collect()),
        );
    }
    let mut body = serde_json::to_vec_pretty(&Value::Object(o)).map_err(io::Error::other)?;
    body.push(b'\n');
    Ok(body)
}

/// Write `body` to a temporary file next to `target`, fsync it, rename it over `target`, and
/// fsync the directory (on Unix) so the rename itself survives a crash.
fn atomic_write(target: &Path, body: &[u8]) -> io::Result<()> {
    let dir = target.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.tmp-{}-{}",
        file_name(target),
        std::process::id(),
        hex8()
    ));
    let written = (|| {
        let mut f = OpenOptions::new().write(true).create_new(true).open(&tmp)?;
        f.write_all(body)?;
        f.sync_all()?;
        drop(f);
        fs::rename(&tmp, target)
    })();
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    #[cfg(unix)]
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn hex8() -> String {
    format!("{:08x}", rand::random::<u32>())
}

static TEST_FILE_PREFIX: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"(?i)^.*?\.(?:spec|test|e2e)\.(?:tsx|ts|jsx|js|mjs|cjs)(?:\s|›|$)").ok()
});
static NESTING: LazyLock<Option<Regex>> = LazyLock::new(|| Regex::new(r"\s*[›>]\s*").ok());

/// The directory name for a test id, as aimock makes it: a leading `<file>.spec.ts ›` (also
/// `test`/`e2e`, `ts`/`tsx`/`js`/`jsx`/`mjs`/`cjs`) is dropped, Playwright's ` › ` and `>` become
/// `--`, every other character outside `[A-Za-z0-9_-]` becomes `-`, runs of three or more dashes
/// become `--`, dashes are trimmed from both ends and the result is lowercased. Beyond aimock:
/// capped at [`MAX_SLUG`] characters. Empty means "no usable name".
pub(crate) fn slug_test_id(test_id: &str) -> String {
    let mut s: &str = test_id;
    if let Some(m) = TEST_FILE_PREFIX.as_ref().and_then(|re| re.find(s)) {
        s = s[m.end()..].trim_start();
        s = s.strip_prefix('›').unwrap_or(s).trim_start();
    }
    let nested = match NESTING.as_ref() {
        Some(re) => re.replace_all(s, "--"),
        None => s.into(),
    };
    finish_slug(&nested, test_id)
}

/// The directory name for an `X-AIMock-Context` value (and the safe form of a provider name):
/// characters outside `[A-Za-z0-9_-]` become `-`, runs of three or more dashes become `--`,
/// dashes are trimmed, lowercased, capped at [`MAX_SLUG`]. Empty means "no usable name".
pub(crate) fn slug_context(context: &str) -> String {
    finish_slug(context, context)
}

fn finish_slug(s: &str, original: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut dashes = 0usize;
    for c in s.chars() {
        if c == '-' || !(c.is_ascii_alphanumeric() || c == '_') {
            dashes += 1;
        } else {
            // A run of dashes (and replaced characters) is kept as is up to two, as `--` beyond.
            out.push_str(&"--"[..dashes.min(2)]);
            dashes = 0;
            out.push(c.to_ascii_lowercase());
        }
    }
    // Trailing dashes are trimmed, so they are never flushed; leading ones are trimmed below.
    let trimmed = out.trim_start_matches('-');
    if trimmed.len() <= MAX_SLUG {
        return trimmed.to_owned();
    }
    let hash = {
        use sha2::{Digest, Sha256};
        let d = Sha256::digest(original.as_bytes());
        format!("{:02x}{:02x}{:02x}{:02x}", d[0], d[1], d[2], d[3])
    };
    let mut cut = trimmed[..MAX_SLUG - 9].trim_end_matches('-').to_owned();
    cut.push('-');
    cut.push_str(&hash);
    cut
}

/// `2026-05-18T10:30:00.000Z`.
pub(crate) fn iso_now(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    crate::http::time::rfc3339(d.as_secs() as i64, d.subsec_nanos(), 3)
}

/// `2026-05-18T10-30-00-000Z`: the ISO time with `:` and `.` as `-`, for file names.
fn file_stamp(t: SystemTime) -> String {
    iso_now(t).replace([':', '.'], "-")
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use proptest::prelude::*;
    use serde_json::json;

    use super::*;
    use crate::fixture::load_paths;

    fn entry(text: &str) -> Value {
        json!({
            "match": {"userMessage": {"equals": text}, "model": "gpt-4o", "turnIndex": 0, "hasToolResult": false},
            "response": {"content": format!("answer to {text}")},
            "recordedTimings": {"ttftMs": 12.5, "interChunkDelaysMs": [1.0, 2.0], "totalDurationMs": 20.0},
            "metadata": {"recordedAt": "2026-01-01T00:00:00.000Z"}
        })
    }

    /// Every `.json` file under `dir`, recursively.
    fn json_files(dir: &Path) -> Vec<PathBuf> {
        let mut out = Vec::new();
        for e in fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(json_files(&p));
            } else if p.extension().is_some_and(|x| x == "json") {
                out.push(p);
            }
        }
        out
    }

    fn fixtures_in(path: &Path) -> Vec<Value> {
        let v: Value = serde_json::from_slice(&fs::read(path).unwrap()).unwrap();
        v["fixtures"].as_array().unwrap().clone()
    }

    #[test]
    fn test_ids_are_slugged_like_aimock() {
        for (id, slug) in [
            (
                "login.spec.ts › Login flow › logs in",
                "login-flow--logs-in",
            ),
            (
                "tests/checkout.e2e.tsx > pays > with card",
                "pays--with-card",
            ),
            ("Checkout > Pays", "checkout--pays"),
            ("my test: does   things!", "my-test--does--things"),
            ("already--dashed---x", "already--dashed--x"),
            ("a-b", "a-b"),
            ("__x__", "__x__"),
            ("Héllo wörld", "h-llo-w-rld"),
            ("no spec file.spec.tsfoo", "no-spec-file-spec-tsfoo"),
        ] {
            assert_eq!(slug_test_id(id), slug, "{id:?}");
        }
    }

    #[test]
    fn path_traversal_never_survives_a_slug() {
        for (id, slug) in [
            ("../../etc/passwd", "etc-passwd"),
            ("..\\..\\windows\\system32", "windows-system32"),
            ("/abs/path", "abs-path"),
            ("..", ""),
            ("./.", ""),
            ("a/../../b", "a--b"),
            ("C:\\x", "c--x"),
            ("›", ""),
            ("", ""),
            ("   ", ""),
        ] {
            assert_eq!(slug_test_id(id), slug, "test id {id:?}");
            assert_eq!(slug_context(id), slug, "context {id:?}");
        }
    }

    #[test]
    fn a_long_test_id_is_capped_and_keeps_a_hash_of_the_whole() {
        let a = format!("{} one", "x".repeat(300));
        let b = format!("{} two", "x".repeat(300));
        let (sa, sb) = (slug_test_id(&a), slug_test_id(&b));
        assert_eq!(sa.len(), MAX_SLUG);
        assert_ne!(sa, sb);
    }

    proptest! {
        #[test]
        fn every_slug_is_one_safe_path_segment(s in "\\PC{0,300}") {
            for slug in [slug_test_id(&s), slug_context(&s)] {
                prop_assert!(slug.len() <= MAX_SLUG);
                prop_assert!(slug.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-'), "{slug:?}");
                prop_assert!(!slug.starts_with('-') && !slug.ends_with('-'));
                prop_assert!(!slug.contains("---"));
            }
        }
    }

    #[test]
    fn iso_times_are_utc_with_milliseconds() {
        let t = UNIX_EPOCH + std::time::Duration::from_millis(1_779_100_200_123);
        assert_eq!(iso_now(t), "2026-05-18T10:30:00.123Z");
        assert_eq!(file_stamp(t), "2026-05-18T10-30-00-123Z");
        assert_eq!(iso_now(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        let leap = UNIX_EPOCH + std::time::Duration::from_secs(951_782_400);
        assert_eq!(iso_now(leap), "2000-02-29T00:00:00.000Z");
    }

    #[tokio::test]
    async fn without_a_test_id_each_recording_gets_a_timestamped_file() {
        let dir = tempfile::tempdir().unwrap();
        let w = FixtureWriter::new(dir.path());
        let a = w
            .write("openai", None, None, entry("a"), &[])
            .await
            .unwrap();
        let b = w
            .write("openai", Some(DEFAULT_TEST_ID), None, entry("b"), &[])
            .await
            .unwrap();
        assert_ne!(a, b);
        let name_re =
            Regex::new(r"^openai-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z-[0-9a-f]{8}\.json$")
                .unwrap();
        for p in [&a, &b] {
            assert_eq!(p.parent().unwrap(), dir.path());
            assert!(name_re.is_match(&file_name(p)), "{}", p.display());
        }
        let c = w
            .write("anthropic", None, Some("../Suite A"), entry("c"), &[])
            .await
            .unwrap();
        assert_eq!(c.parent().unwrap(), dir.path().join("suite-a"));
        let d = w
            .write("anthropic", Some("››"), None, entry("d"), &[])
            .await
            .unwrap();
        assert_eq!(
            d.parent().unwrap(),
            dir.path(),
            "an empty test id slug falls back to a timestamped file"
        );
        assert!(file_name(&d).starts_with("anthropic-"));
        let e = w
            .write("../evil", None, None, entry("e"), &[])
            .await
            .unwrap();
        assert_eq!(e.parent().unwrap(), dir.path());
        assert!(file_name(&e).starts_with("evil-"), "{}", e.display());
    }

    #[tokio::test]
    async fn a_test_id_file_is_merged_by_a_later_writer_and_keeps_its_warnings() {
        let dir = tempfile::tempdir().unwrap();
        let first = FixtureWriter::new(dir.path());
        let p = first
            .write(
                "openai",
                Some("cart.spec.ts › adds item"),
                Some("ctx"),
                entry("one"),
                &["truncated stream".into()],
            )
            .await
            .unwrap();
        assert_eq!(p, dir.path().join("adds-item").join("openai.json"));
        drop(first);
        // A re-run: a new server process, a new writer.
        let second = FixtureWriter::new(dir.path());
        let p2 = second
            .write(
                "openai",
                Some("cart.spec.ts › adds item"),
                None,
                entry("two"),
                &["empty match".into(), "truncated stream".into()],
            )
            .await
            .unwrap();
        assert_eq!(p, p2);
        let v: Value = serde_json::from_slice(&fs::read(&p).unwrap()).unwrap();
        let texts: Vec<_> = v["fixtures"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                f["match"]["userMessage"]["equals"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        assert_eq!(texts, ["one", "two"]);
        assert_eq!(v["_warnings"], json!(["truncated stream", "empty match"]));
        let report = load_paths(&[dir.path()]);
        assert!(report.problems.is_empty(), "{:?}", report.problems);
        assert_eq!(report.fixtures.len(), 2);
        let names: Vec<_> = fs::read_dir(p.parent().unwrap())
            .unwrap()
            .map(|e| file_name(&e.unwrap().path()))
            .collect();
        assert!(
            names.iter().all(|n| !n.contains(".tmp-")),
            "no temporary file left: {names:?}"
        );
    }

    #[tokio::test]
    async fn a_corrupt_existing_file_is_kept_aside_not_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("t1");
        fs::create_dir_all(&sub).unwrap();
        let target = sub.join("openai.json");
        fs::write(&target, b"{\"fixtures\": [ {\"match\": half a file").unwrap();
        let w = FixtureWriter::new(dir.path());
        w.write("openai", Some("t1"), None, entry("fresh"), &[])
            .await
            .unwrap();
        let aside: Vec<PathBuf> = fs::read_dir(&sub)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| file_name(p).starts_with("openai.json.corrupt-"))
            .collect();
        assert_eq!(aside.len(), 1);
        assert_eq!(
            fs::read(&aside[0]).unwrap(),
            b"{\"fixtures\": [ {\"match\": half a file",
            "the old bytes are kept verbatim"
        );
        let v: Value = serde_json::from_slice(&fs::read(&target).unwrap()).unwrap();
        assert_eq!(v["fixtures"].as_array().unwrap().len(), 1);
        let warning = v["_warnings"][0].as_str().unwrap();
        assert!(
            warning.contains("could not be read") && warning.contains(&file_name(&aside[0])),
            "{warning}"
        );
        // `fixtures` that is not a list is also set aside.
        fs::write(&target, br#"{"fixtures": {"not": "a list"}}"#).unwrap();
        w.write("openai", Some("t1"), None, entry("again"), &[])
            .await
            .unwrap();
        assert_eq!(fixtures_in(&target).len(), 1);
        let report = load_paths(&[dir.path()]);
        assert!(
            report.problems.is_empty(),
            "set-aside files are not loaded: {:?}",
            report.problems
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn two_hundred_concurrent_writes_give_two_hundred_fixtures_in_loadable_files() {
        let dir = tempfile::tempdir().unwrap();
        let w = Arc::new(FixtureWriter::new(dir.path()));
        let test_ids = [
            None,
            Some("suite › a"),
            Some("suite › b"),
            Some("c"),
            Some("d.test.ts › e"),
            Some("f"),
        ];
        let mut tasks = Vec::new();
        for i in 0..200 {
            let w = Arc::clone(&w);
            let test_id = test_ids[i % test_ids.len()];
            let provider = if (i / 6) % 2 == 0 {
                "openai"
            } else {
                "anthropic"
            };
            tasks.push(tokio::spawn(async move {
                w.write(provider, test_id, None, entry(&format!("message {i}")), &[])
                    .await
            }));
        }
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        let files = json_files(dir.path());
        let mut seen = HashSet::new();
        let mut total = 0;
        for f in &files {
            let fixtures = fixtures_in(f);
            total += fixtures.len();
            for fx in fixtures {
                assert!(seen.insert(
                    fx["match"]["userMessage"]["equals"]
                        .as_str()
                        .unwrap()
                        .to_owned()
                ));
            }
        }
        assert_eq!(total, 200);
        assert_eq!(seen.len(), 200);
        // 34 timestamped files, and 5 test ids x 2 providers.
        assert_eq!(files.len(), 34 + 10, "{files:?}");
        let report = load_paths(&[dir.path()]);
        assert!(report.problems.is_empty(), "{:?}", report.problems);
        assert_eq!(report.fixtures.len(), 200);
        assert!(
            w.locks.lock().is_empty(),
            "no lock is kept once the writes are done"
        );
        let leftovers: Vec<_> = walk(dir.path())
            .into_iter()
            .filter(|p| file_name(p).contains(".tmp-"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn two_writers_sharing_a_file_serialise_on_the_file_lock() {
        // Two writers stand for two server processes: they share no in-process lock.
        let dir = tempfile::tempdir().unwrap();
        let writers = [
            Arc::new(FixtureWriter::new(dir.path())),
            Arc::new(FixtureWriter::new(dir.path())),
        ];
        let mut tasks = Vec::new();
        for i in 0..100 {
            let w = Arc::clone(&writers[i % 2]);
            tasks.push(tokio::spawn(async move {
                w.write("openai", Some("shared"), None, entry(&format!("m{i}")), &[])
                    .await
            }));
        }
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        assert_eq!(
            fixtures_in(&dir.path().join("shared").join("openai.json")).len(),
            100
        );
    }

    fn walk(dir: &Path) -> Vec<PathBuf> {
        let mut out = Vec::new();
        for e in fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
        out
    }
}
