//! Issue 4/5: shards write their trials to the store; one command merges them from it, giving
//! exactly the files of an unsharded run. Runs against SQLite always and against the real
//! PostgreSQL when it is reachable (required under `CI`).

use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::Duration;

use crate::harness::{Scratch, run};

const SWEEP: &str =
    "sweep:\n  objective: sharpe\n  parameters:\n    fast: [1, 2]\n    slow: [3, 4, 5]\n";

fn bars_csv() -> String {
    let mut csv = String::from("ts,open,high,low,close,volume\n");
    let mut price = 100.0f64;
    for i in 0..400 {
        let open = price;
        // A deterministic wiggle with a trend, so the crossovers trade.
        price += ((i * 7919) % 23) as f64 / 10.0 - 1.05;
        let (hi, lo) = (open.max(price) + 0.2, open.min(price) - 0.2);
        csv.push_str(&format!(
            "{},{open:.2},{hi:.2},{lo:.2},{price:.2},1000\n",
            1_700_000_000 + i * 60
        ));
    }
    csv
}

fn sweep(s: &Scratch, extra: &[&str]) {
    let config = s.path("sweep.yaml");
    let mut args = vec!["sweep", config.to_str().unwrap(), "--quiet"];
    args.extend_from_slice(extra);
    let out = run(s.dir.path(), &args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn check_round_trip(database_url: &str, schema: &[&str], sweep_id: &str) {
    let s = Scratch::new();
    s.write("walk.csv", &bars_csv());
    s.write("sweep.yaml", &(s.config("walk.csv") + SWEEP));
    let whole = s.path("whole");
    sweep(&s, &["--no-store", "--output", whole.to_str().unwrap()]);
    for i in 0..3 {
        let shard = format!("{i}/3");
        let dir = s.path(&format!("shard{i}"));
        let mut args = vec![
            "--shard",
            &shard,
            "--sweep-id",
            sweep_id,
            "--database-url",
            database_url,
            "--output",
            dir.to_str().unwrap(),
        ];
        args.extend_from_slice(schema);
        sweep(&s, &args);
    }
    let merged = s.path("merged");
    let mut args = vec![
        "sweep-merge",
        "--from-db",
        sweep_id,
        "--database-url",
        database_url,
        "-o",
        merged.to_str().unwrap(),
    ];
    args.extend_from_slice(schema);
    let out = run(s.dir.path(), &args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for name in ["trials.csv", "returns.csv", "ranking.csv", "sweep.json"] {
        let a = std::fs::read_to_string(whole.join(name)).unwrap();
        let b = std::fs::read_to_string(merged.join(name)).unwrap();
        assert_eq!(a, b, "{name}");
    }
    assert!(Path::new(&merged.join("heatmap.html")).is_file());
}

#[test]
fn sweep_shards_merge_through_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("sweeps.db").display());
    check_round_trip(&url, &[], "sqlite-demo");
}

#[test]
fn sweep_shards_merge_through_postgres() {
    let addr: SocketAddr = "127.0.0.1:5432".parse().unwrap();
    if let Err(e) = TcpStream::connect_timeout(&addr, Duration::from_secs(2)) {
        crate::skip::service_missing("PostgreSQL", "127.0.0.1:5432", &e, crate::skip::PG_HINT);
        return;
    }
    // A schema of its own keeps concurrent and repeated runs apart in the shared database.
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let schema = format!("it_sweep_{}_{nanos}", std::process::id());
    check_round_trip(
        "postgres://postgres@127.0.0.1:5432/test",
        &["--db-schema", &schema],
        "pg-demo",
    );
    // Leave the shared database as it was (best effort: psql is the server's own client).
    let _ = std::process::Command::new("psql")
        .args(["-h", "127.0.0.1", "-U", "postgres", "-d", "test", "-qc"])
        .arg(format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"))
        .output();
}

/// Issue 11, point 3: a shard that never reached the database is named, and the exit code says
/// the input is at fault.
#[test]
fn merge_from_the_database_names_a_missing_shard() {
    let s = Scratch::new();
    s.write("walk.csv", &bars_csv());
    s.write("sweep.yaml", &(s.config("walk.csv") + SWEEP));
    let url = format!("sqlite://{}", s.path("sweeps.db").display());
    for i in [0, 2] {
        let shard = format!("{i}/3");
        let dir = s.path(&format!("shard{i}"));
        let args = [
            "--shard",
            &shard,
            "--sweep-id",
            "gappy",
            "--database-url",
            &url,
            "--output",
            dir.to_str().unwrap(),
        ];
        sweep(&s, &args);
    }
    let merged = s.path("merged");
    let out = run(
        s.dir.path(),
        &[
            "sweep-merge",
            "--from-db",
            "gappy",
            "--database-url",
            &url,
            "-o",
            merged.to_str().unwrap(),
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("sweep 'gappy': shard 1/3 is missing"),
        "{stderr}"
    );
    assert!(!merged.join("trials.csv").exists());
}
