//! The happy path of `tradepulse backtest`, and `--help` everywhere.

use crate::harness::{Scratch, run, stderr};

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

/// `--database-url` stores the run it reports: the trades of `trades.csv`, the summary's
/// metrics, the config as written; a second run gets the next id; an unusable URL is an error
/// that names it, after the report files were written.
#[test]
fn backtest_stores_its_run_where_serve_lists_it() {
    let s = Scratch::new();
    let db = format!("sqlite://{}", s.path("runs.db").display());
    let config = s.path("config.yaml").to_string_lossy().into_owned();
    let out = run(s.dir.path(), &["backtest", &config, "--database-url", &db]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("stored as run 1"));
    let out = run(s.dir.path(), &["backtest", &config, "--database-url", &db]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("stored as run 2"));

    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(s.path("out/summary.json")).unwrap())
            .unwrap();
    let trades_csv = std::fs::read_to_string(s.path("out/trades.csv")).unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let url = tradepulse_store::DatabaseUrl::resolve(Some(&db)).unwrap();
        let store = tradepulse_store::Store::connect(&url).await.unwrap();
        let runs = store.runs().await.unwrap();
        assert_eq!(runs.len(), 2);
        let run = &runs[1];
        assert_eq!(
            (run.name.as_str(), run.strategy.as_str()),
            ("config", "sma_cross")
        );
        assert_eq!(run.config["strategy"]["params"]["slow"], 2);
        let metrics = store.run_metrics(run.id).await.unwrap();
        assert_eq!(
            metrics["total_return"],
            summary["total_return"].as_f64().unwrap()
        );
        assert_eq!(metrics["bars_processed"], 5.0);
        let trades = store.run_trades(run.id).await.unwrap();
        assert_eq!(trades.len(), trades_csv.lines().count() - 1);
        store.close().await;
    });

    let out = run(
        s.dir.path(),
        &["backtest", &config, "--database-url", "mysql://nowhere/x"],
    );
    assert!(!out.status.success());
    assert!(stderr(&out).contains("mysql"), "{}", stderr(&out));
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
