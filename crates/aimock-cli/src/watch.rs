//! `--watch`: reload every fixture path when a file under one changes.
//!
//! A reload replaces the whole set only when it loads cleanly: a reload with an error, or with no
//! fixture at all, keeps the set being served (an editor saving half a file must not empty the
//! server under a running test suite).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use aimock::fixture::load_paths;
use aimock::server::AppState;
use anyhow::Context;
use notify::{Event, EventKind, RecursiveMode, Watcher};
use tokio::sync::mpsc;

use crate::report::{join_paths, log_problems};

/// How long the files must stay quiet before a reload: an editor's save is several events.
const DEBOUNCE: Duration = Duration::from_millis(300);

/// A running watcher; dropping it stops watching.
#[derive(Debug)]
pub(crate) struct FixtureWatcher {
    _watcher: notify::RecommendedWatcher,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FixtureWatcher {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// What one watched path covers.
#[derive(Debug)]
enum Target {
    /// A directory and everything under it.
    Dir(PathBuf),
    /// One file. Its parent directory is watched instead of the file, because editors save by
    /// writing a new file and renaming it over the old one, which ends a watch on the old file.
    File(PathBuf),
}

impl Target {
    fn covers(&self, path: &Path) -> bool {
        match self {
            Target::Dir(d) => path.starts_with(d),
            Target::File(f) => path == f,
        }
    }
}

/// Start watching `paths` (which exist) and reloading them into `state`.
pub(crate) fn spawn(paths: Vec<PathBuf>, state: Arc<AppState>) -> anyhow::Result<FixtureWatcher> {
    let (tx, mut rx) = mpsc::unbounded_channel::<Event>();
    let mut watcher = notify::recommended_watcher(move |res: notify::Result<Event>| match res {
        Ok(event) => {
            // The receiver is gone only while shutting down.
            let _ = tx.send(event);
        }
        Err(e) => tracing::warn!("file watcher: {e}"),
    })
    .context("cannot start the file watcher")?;

    let mut targets = Vec::new();
    for p in &paths {
        let canonical =
            std::fs::canonicalize(p).with_context(|| format!("cannot watch {}", p.display()))?;
        let (watched, mode, target) = if canonical.is_dir() {
            (
                canonical.clone(),
                RecursiveMode::Recursive,
                Target::Dir(canonical),
            )
        } else {
            let parent = canonical
                .parent()
                .map_or_else(|| PathBuf::from("/"), Path::to_path_buf);
            (parent, RecursiveMode::NonRecursive, Target::File(canonical))
        };
        watcher
            .watch(&watched, mode)
            .with_context(|| format!("cannot watch {}", watched.display()))?;
        targets.push(target);
    }
    tracing::info!("Watching {} for changes", join_paths(&paths));

    let task = tokio::spawn(async move {
        let relevant = |e: &Event| {
            !matches!(e.kind, EventKind::Access(_))
                && e.paths.iter().any(|p| targets.iter().any(|t| t.covers(p)))
        };
        loop {
            // Wait for a change, then for DEBOUNCE without one.
            loop {
                match rx.recv().await {
                    Some(e) if relevant(&e) => break,
                    Some(_) => {}
                    None => return,
                }
            }
            loop {
                match tokio::time::timeout(DEBOUNCE, rx.recv()).await {
                    Ok(Some(_)) => {}
                    Ok(None) => return,
                    Err(_) => break,
                }
            }
            reload(&paths, &state).await;
        }
    });

    Ok(FixtureWatcher {
        _watcher: watcher,
        task,
    })
}

async fn reload(paths: &[PathBuf], state: &AppState) {
    let to_load = paths.to_vec();
    let report = match tokio::task::spawn_blocking(move || load_paths(&to_load)).await {
        Ok(r) => r,
        Err(e) => {
            tracing::error!("Reload failed: {e}");
            return;
        }
    };
    log_problems(&report.problems);
    let serving = state.fixture_count();
    let errors = report.errors().count();
    if errors > 0 {
        tracing::warn!(
            "Reload failed with {errors} error(s); still serving the previous {serving} fixture(s)"
        );
    } else if report.fixtures.is_empty() {
        tracing::warn!("Reload found no fixtures; still serving the previous {serving} fixture(s)");
    } else {
        let n = report.fixtures.len();
        state.replace_fixtures(report.fixtures);
        tracing::info!("Reloaded {n} fixture(s)");
    }
}
