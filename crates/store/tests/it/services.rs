//! Issue 11, point 8: a test whose service is missing fails under CI, and elsewhere passes
//! and says once which tests it skipped and what to install. Runs this test binary again on
//! three service tests, with PostgreSQL and Redis pointed at a closed port.

use std::process::{Command, Output};

const PG_TESTS: [&str; 2] = [
    "db_repo::migrate_is_idempotent::postgres",
    "db_repo::run_round_trips_exactly::postgres",
];
const REDIS_TEST: &str = "redis_state::kill_switch_is_broadcast_and_persisted";

fn run_without_services(ci: Option<&str>) -> (Output, String, String) {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args(PG_TESTS)
        .arg(REDIS_TEST)
        .args(["--exact", "--test-threads=3"])
        // Port 1 on loopback: nothing listens there, the connection is refused at once.
        .env(
            "TRADEPULSE_TEST_PG_URL",
            "postgres://postgres@127.0.0.1:1/test",
        )
        .env("TRADEPULSE_TEST_REDIS_URL", "redis://127.0.0.1:1")
        .env_remove("CI");
    if let Some(value) = ci {
        cmd.env("CI", value);
    }
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (out, stdout, stderr)
}

#[test]
fn without_services_tests_skip_once_with_a_notice_locally_and_fail_under_ci() {
    let (out, stdout, stderr) = run_without_services(None);
    assert!(
        out.status.success(),
        "locally they pass:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("3 passed"), "{stdout}");
    for (service, hint) in [
        ("PostgreSQL", "apt-get install postgresql"),
        ("Redis", "apt-get install redis-server"),
    ] {
        let header = format!("SKIPPED: the tests of this binary that need {service}");
        assert_eq!(stderr.matches(&header).count(), 1, "once:\n{stderr}");
        assert!(stderr.contains(hint), "{stderr}");
    }
    assert!(stderr.contains("127.0.0.1:1"), "{stderr}");
    for test in PG_TESTS {
        let line = format!("  - {test} (needs PostgreSQL)\n");
        assert_eq!(stderr.matches(&line).count(), 1, "{line}:\n{stderr}");
    }
    assert!(
        stderr.contains(&format!("  - {REDIS_TEST} (needs Redis)\n")),
        "{stderr}"
    );

    let (out, stdout, stderr) = run_without_services(Some("true"));
    assert!(
        !out.status.success(),
        "under CI they fail:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("3 failed"), "{stdout}");
    let both = format!("{stdout}{stderr}");
    assert!(
        both.contains("CI must not skip the tests that need it"),
        "{both}"
    );
    assert!(!stderr.contains("SKIPPED"), "{stderr}");
}
