//! The happy path of `tradepulse backtest`, and `--help` everywhere.

use crate::harness::{Scratch, run};

#[test]
fn backtest_writes_every_report_file() {
    let s = Scratch::new();
    let out = s.backtest("config.yaml");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("final equity"), "{stdout}");
    for name in ["summary.json", "trades.csv", "fills.csv", "equity.csv"] {
        assert!(s.path("out").join(name).is_file(), "{name} missing");
    }
    let equity = std::fs::read_to_string(s.path("out/equity.csv")).unwrap();
    assert_eq!(equity.lines().count(), 6, "header + one line per bar");
}

#[test]
fn every_command_has_help() {
    let cwd = std::env::temp_dir();
    for args in [
        vec!["--help"],
        vec!["backtest", "--help"],
        vec!["data", "--help"],
        vec!["data", "generate", "--help"],
    ] {
        let out = run(&cwd, &args);
        assert!(out.status.success(), "{args:?}");
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("Usage"),
            "{args:?}"
        );
    }
}

#[test]
fn generator_is_deterministic_and_loadable() {
    let s = Scratch::new();
    for name in ["a.csv", "b.csv"] {
        let path = s.path(name);
        let out = run(
            s.dir.path(),
            &[
                "data",
                "generate",
                "--bars",
                "500",
                "--output",
                &path.to_string_lossy(),
            ],
        );
        assert!(out.status.success());
    }
    assert_eq!(
        std::fs::read(s.path("a.csv")).unwrap(),
        std::fs::read(s.path("b.csv")).unwrap()
    );
    s.write("gen.yaml", &s.config("a.csv"));
    assert!(s.backtest("gen.yaml").status.success());
}
