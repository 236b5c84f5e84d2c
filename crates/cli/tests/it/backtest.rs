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

/// `--help` works on the binary and on every subcommand it lists, recursively.
#[test]
fn every_command_has_help() {
    let cwd = std::env::temp_dir();
    let mut pending: Vec<Vec<String>> = vec![vec![]];
    let mut checked = 0;
    while let Some(path) = pending.pop() {
        let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
        args.push("--help");
        let out = run(&cwd, &args);
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(out.status.success(), "{args:?}");
        assert!(text.contains("Usage"), "{args:?}: {text}");
        checked += 1;
        // Subcommands are listed under "Commands:" as "  name  description".
        if let Some(list) = text.split("Commands:").nth(1) {
            let list = list.split("\n\n").next().unwrap_or_default();
            for line in list.lines() {
                let Some(name) = line.split_whitespace().next() else {
                    continue;
                };
                if name != "help" {
                    let mut sub = path.clone();
                    sub.push(name.to_owned());
                    pending.push(sub);
                }
            }
        }
    }
    assert!(checked >= 6, "only {checked} commands found");
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
