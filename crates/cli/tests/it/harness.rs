//! Running the `tradepulse` binary against files in a temporary directory.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A scratch directory with a valid config and data file that tests then break.
pub struct Scratch {
    pub dir: tempfile::TempDir,
}

pub const GOOD_CSV: &str = "ts,open,high,low,close,volume
2024-01-01T00:00:00Z,100.0,101.0,99.0,100.5,1000
2024-01-01T00:01:00Z,100.5,102.0,100.0,101.5,1200
2024-01-01T00:02:00Z,101.5,101.5,100.5,101.0,900
2024-01-01T00:03:00Z,101.0,103.0,100.8,102.5,1500
2024-01-01T00:04:00Z,102.5,102.6,101.0,101.2,800
";

impl Scratch {
    pub fn new() -> Self {
        let s = Self {
            dir: tempfile::tempdir().expect("tempdir"),
        };
        s.write("bars.csv", GOOD_CSV);
        s.write("config.yaml", &s.config("bars.csv"));
        s
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn write(&self, name: &str, text: &str) {
        std::fs::write(self.path(name), text).expect("write scratch file");
    }

    pub fn config(&self, data: &str) -> String {
        format!(
            "data:\n  path: {}\ninstrument:\n  symbol: TEST\n  tick_size: 0.01\nstrategy:\n  kind: sma_cross\n  params:\n    fast: 1\n    slow: 2\n    size: {{units: 1}}\nexecution:\n  taker_fee_bps: 10\nportfolio:\n  initial_cash: 10000\noutput:\n  directory: {}\n",
            self.path(data).display(),
            self.path("out").display()
        )
    }

    /// Runs `tradepulse backtest <config>` in the scratch directory.
    pub fn backtest(&self, config: &str) -> Output {
        run(
            self.dir.path(),
            &["backtest", &self.path(config).to_string_lossy()],
        )
    }
}

pub fn run(cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tradepulse"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("run tradepulse")
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}
