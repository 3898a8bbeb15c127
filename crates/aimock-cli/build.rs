//! Puts the git commit the binary is built from into `AIMOCK_GIT_COMMIT`, for `aimock --version`.
//!
//! Asks `git` (a worktree works too); with no git or no checkout (a source tarball, a container
//! build without `.git`) the commit is `unknown`, or the value of `AIMOCK_GIT_COMMIT` when the
//! build sets it. It reruns only when the checked-out commit can have changed: when `HEAD`
//! moves, when the branch it names gets a commit (its ref file, or `packed-refs` when the ref is
//! packed), or when `AIMOCK_GIT_COMMIT` changes; other commits elsewhere rebuild nothing.

use std::path::Path;
use std::process::Command;

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let s = String::from_utf8(out.stdout).ok()?.trim().to_owned();
    (!s.is_empty()).then_some(s)
}

fn watch(dir: &Path, git_path: &str) {
    if let Some(p) = git(
        dir,
        &[
            "rev-parse",
            "--path-format=absolute",
            "--git-path",
            git_path,
        ],
    ) {
        if Path::new(&p).exists() {
            println!("cargo:rerun-if-changed={p}");
        }
    }
}

fn main() {
    println!("cargo:rerun-if-env-changed=AIMOCK_GIT_COMMIT");
    let dir = std::path::PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let commit = match std::env::var("AIMOCK_GIT_COMMIT") {
        Ok(c) if !c.trim().is_empty() => c.trim().to_owned(),
        _ => {
            let found = git(&dir, &["rev-parse", "--short=12", "HEAD"]);
            if found.is_some() {
                watch(&dir, "HEAD");
                // A detached HEAD holds the commit itself; a branch's commit is in its ref.
                if let Some(branch) = git(&dir, &["symbolic-ref", "-q", "HEAD"]) {
                    let loose = git(
                        &dir,
                        &["rev-parse", "--path-format=absolute", "--git-path", &branch],
                    );
                    if loose.as_deref().is_some_and(|p| Path::new(p).exists()) {
                        watch(&dir, &branch);
                    } else {
                        watch(&dir, "packed-refs");
                    }
                }
            } else {
                // No checkout: nothing to watch but this script.
                println!("cargo:rerun-if-changed=build.rs");
            }
            found.unwrap_or_else(|| "unknown".to_owned())
        }
    };
    println!("cargo:rustc-env=AIMOCK_GIT_COMMIT={commit}");
}
