//! Sets `TRADEPULSE_VERSION` for `tradepulse_server::VERSION`: `TRADEPULSE_BUILD_VERSION` if
//! given (the Makefile and the image builds pass `git describe --tags --always --dirty`), else
//! `git describe --tags --always` of the checkout (no `--dirty`: it would need a rerun on every
//! file change), else the crate version (a source tarball without git).

use std::path::{Path, PathBuf};
use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?.trim().to_owned();
    (!text.is_empty()).then_some(text)
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=TRADEPULSE_BUILD_VERSION");
    let given = std::env::var("TRADEPULSE_BUILD_VERSION")
        .ok()
        .filter(|v| !v.trim().is_empty());
    let version = given.clone().or_else(|| {
        // Rerun when HEAD moves: HEAD itself, the branch it points to, packed refs. Only paths
        // that exist (a missing one would make cargo rerun this script on every build).
        if let (Some(git_dir), Some(common)) = (
            git(&["rev-parse", "--git-dir"]),
            git(&["rev-parse", "--git-common-dir"]),
        ) {
            let (git_dir, common) = (PathBuf::from(git_dir), PathBuf::from(common));
            let mut watch = vec![git_dir.join("HEAD"), common.join("packed-refs")];
            if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
                watch.push(common.join(&branch));
            }
            for path in watch.iter().filter(|p| Path::new(p).exists()) {
                println!("cargo:rerun-if-changed={}", path.display());
            }
        }
        git(&["describe", "--tags", "--always"])
    });
    let version = version.unwrap_or_else(|| {
        std::env::var("CARGO_PKG_VERSION").unwrap_or_else(|_| "0.0.0-unknown".to_owned())
    });
    println!("cargo:rustc-env=TRADEPULSE_VERSION={version}");
}
