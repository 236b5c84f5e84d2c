//! What a test does when a service it needs (PostgreSQL, Redis) is missing: fail under CI,
//! skip with one notice per test binary elsewhere. Std only, so other crates' test binaries
//! include this same file (`#[path]`) rather than a copy of it.

/// Whether this run is CI's: `CI` set to anything but empty, `0` or `false` (CI services set
/// `CI=true`). There a test whose service is missing fails instead of skipping.
pub fn under_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !matches!(v.trim(), "" | "0" | "false"))
}

/// Reports a missing service for the calling test, which then returns without running.
///
/// Under CI ([`under_ci`]) this panics: CI must start every service (`.ci/run` does), and a
/// test that skipped there would pass silently. Elsewhere the first skip of each service in
/// this test binary prints what is missing and what to install, once; every skipped test
/// then prints one line with its name. Both go straight to stderr, past the test harness's
/// output capture, which would otherwise swallow them for tests that pass.
pub fn service_missing(service: &str, url: &str, error: &dyn std::fmt::Display, hint: &str) {
    use std::io::Write as _;
    static EXPLAINED: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

    if under_ci() {
        panic!(
            "{service} is not reachable at {url} ({error}), and CI must not skip the tests that \
             need it: start it before the tests (.ci/run does; {hint})"
        );
    }
    let test = std::thread::current().name().unwrap_or("a test").to_owned();
    let mut text = String::new();
    let mut explained = EXPLAINED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if !explained.iter().any(|s| s == service) {
        explained.push(service.to_owned());
        text.push_str(&format!(
            "\nSKIPPED: the tests of this binary that need {service} pass without running: \
             {service} is not reachable at {url} ({error}).\n  To run them: {hint}.\n  \
             (Under CI=true they fail instead.) Skipped:\n"
        ));
    }
    drop(explained);
    text.push_str(&format!("  - {test} (needs {service})\n"));
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}

pub const PG_HINT: &str = "apt-get install postgresql && service postgresql start, with trust \
                       auth for user postgres and a database `test` (or point \
                       TRADEPULSE_TEST_PG_URL at another server)";
pub const REDIS_HINT: &str = "apt-get install redis-server && service redis-server start \
                              (or point TRADEPULSE_TEST_REDIS_URL at another server)";
