//! The CSV files of a sweep: `trials.csv`, `returns.csv` and `ranking.csv`, written from
//! [`TrialResult`]s and read back into them.
//!
//! Numbers are written with Rust's shortest round-trip formatting and exact money as its decimal
//! text, so reading a file back and writing it again gives the same bytes: that is what makes a
//! merge of shard files equal to the unsharded run's files.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use tradepulse_backtest::Objective;
use tradepulse_model::Money;

use super::trial::{Trial, TrialMetrics, TrialResult};
use super::{SweepError, rank};

/// The metric columns after `objective`, in [`TrialMetrics`] field order.
const METRICS: [&str; 12] = [
    "total_return",
    "cagr",
    "volatility",
    "sharpe",
    "sortino",
    "calmar",
    "max_drawdown",
    "win_rate",
    "profit_factor",
    "fills",
    "round_trips",
    "final_equity",
];

/// Prefix of the status of a trial that could not run.
const INVALID: &str = "invalid: ";

fn opt(x: Option<f64>) -> String {
    x.map_or_else(String::new, |v| v.to_string())
}

/// The `trials.csv` header for parameter `names`.
pub(super) fn header(names: &[String]) -> String {
    let mut h = String::from("id");
    for n in names {
        let _ = write!(h, ",{n}");
    }
    h.push_str(",status,objective");
    for m in METRICS {
        let _ = write!(h, ",{m}");
    }
    h
}

/// A trial's `trials.csv` row.
fn row(r: &TrialResult, objective: Objective) -> String {
    let mut line = r.trial.id.to_string();
    for v in &r.trial.values {
        let _ = write!(line, ",{v}");
    }
    match &r.outcome {
        Ok(m) => {
            let _ = write!(
                line,
                ",ok,{},{},{},{},{},{},{},{},{},{},{},{},{}",
                opt(m.objective(objective)),
                opt(m.total_return),
                opt(m.cagr),
                opt(m.volatility),
                opt(m.sharpe),
                opt(m.sortino),
                opt(m.calmar),
                opt(m.max_drawdown),
                opt(m.win_rate),
                opt(m.profit_factor),
                m.fills,
                m.round_trips,
                m.final_equity
            );
        }
        Err(reason) => {
            let _ = write!(
                line,
                ",{INVALID}{},{}",
                clean_reason(reason),
                ",".repeat(METRICS.len())
            );
        }
    }
    line
}

/// The reason is free text: keep the CSV well-formed (and the cleaning idempotent, so a reason
/// read back from a file is written unchanged).
fn clean_reason(reason: &str) -> String {
    reason.replace([',', '\n', '\r', '"'], " ")
}

/// `trials.csv`: every result, in id order.
pub(super) fn trials_csv(
    names: &[String],
    results: &[TrialResult],
    objective: Objective,
) -> String {
    let mut text = header(names);
    text.push('\n');
    for r in results {
        text.push_str(&row(r, objective));
        text.push('\n');
    }
    text
}

/// `returns.csv`: each trial that ran, with its return series.
pub(super) fn returns_csv(results: &[TrialResult]) -> String {
    let mut text = String::from("id,returns\n");
    for r in results.iter().filter(|r| !r.period_returns.is_empty()) {
        let _ = write!(text, "{}", r.trial.id);
        for x in &r.period_returns {
            let _ = write!(text, ",{x}");
        }
        text.push('\n');
    }
    text
}

/// `ranking.csv`: valid trials, best first.
pub(super) fn ranking_csv(
    names: &[String],
    results: &[TrialResult],
    objective: Objective,
) -> String {
    let mut text = format!("rank,{}\n", header(names));
    for (i, r) in rank(results, objective).iter().enumerate() {
        let _ = writeln!(text, "{},{}", i + 1, row(r, objective));
    }
    text
}

/// Writes `text` to `dir/name`, creating `dir`.
pub(super) fn write_file(dir: &Path, name: &str, text: &str) -> Result<(), SweepError> {
    let path = dir.join(name);
    std::fs::create_dir_all(dir)
        .and_then(|()| std::fs::write(&path, text))
        .map_err(|e| SweepError::File {
            path,
            reason: e.to_string(),
        })
}

/// Reads `dir/name`.
pub(super) fn read_file(dir: &Path, name: &str) -> Result<(PathBuf, String), SweepError> {
    let path = dir.join(name);
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok((path, text)),
        Err(e) => Err(SweepError::File {
            path,
            reason: e.to_string(),
        }),
    }
}

/// Reads `trials.csv` text (from `path`) written for parameter `names` and `objective`. Returns
/// the trials in id order, with empty return series (they are in `returns.csv`).
///
/// # Errors
/// [`SweepError::Malformed`] naming the line and column of the first problem: a header other
/// than [`header`]'s (e.g. no `objective` column), a value that does not parse, a row out of id
/// order, or an `objective` that disagrees with its metric column.
pub(super) fn parse_trials(
    path: &Path,
    text: &str,
    names: &[String],
    objective: Objective,
) -> Result<Vec<TrialResult>, SweepError> {
    let bad = |line: usize, reason: String| SweepError::Malformed {
        path: path.to_owned(),
        line,
        reason,
    };
    let expected = header(names);
    let mut lines = text.lines();
    let head = lines.next().unwrap_or_default();
    if head != expected {
        return Err(bad(1, header_mismatch(head, &expected)));
    }
    let columns: Vec<&str> = expected.split(',').collect();
    let mut results = Vec::new();
    for (i, line) in lines.enumerate() {
        let number = i + 2;
        let fields: Vec<&str> = line.split(',').collect();
        if fields.len() != columns.len() {
            return Err(bad(
                number,
                format!("{} fields, expected {}", fields.len(), columns.len()),
            ));
        }
        let field = |k: usize| Field {
            text: fields[k],
            column: columns[k],
        };
        let id: usize = field(0).parse().map_err(|e| bad(number, e))?;
        if let Some(previous) = results.last().map(|r: &TrialResult| r.trial.id)
            && id <= previous
        {
            return Err(bad(
                number,
                format!("trial {id} after trial {previous}: rows must be in increasing id order"),
            ));
        }
        let mut values = Vec::with_capacity(names.len());
        for k in 1..=names.len() {
            values.push(field(k).number().map_err(|e| bad(number, e))?);
        }
        let status = names.len() + 1;
        let rest = status + 2;
        let outcome = if fields[status] == "ok" {
            let f = |k: usize| field(rest + k).optional().map_err(|e| bad(number, e));
            let metrics = TrialMetrics {
                total_return: f(0)?,
                cagr: f(1)?,
                volatility: f(2)?,
                sharpe: f(3)?,
                sortino: f(4)?,
                calmar: f(5)?,
                max_drawdown: f(6)?,
                win_rate: f(7)?,
                profit_factor: f(8)?,
                fills: field(rest + 9).parse().map_err(|e| bad(number, e))?,
                round_trips: field(rest + 10).parse().map_err(|e| bad(number, e))?,
                final_equity: field(rest + 11)
                    .parse::<Money>()
                    .map_err(|e| bad(number, e))?,
            };
            let stated = field(status + 1).optional().map_err(|e| bad(number, e))?;
            let derived = metrics.objective(objective);
            if stated.map(f64::to_bits) != derived.map(f64::to_bits) {
                return Err(bad(
                    number,
                    format!(
                        "objective: '{}' disagrees with the {} metric ('{}')",
                        fields[status + 1],
                        objective.as_str(),
                        opt(derived)
                    ),
                ));
            }
            Ok(metrics)
        } else if let Some(reason) = fields[status].strip_prefix(INVALID) {
            if let Some(k) = (status + 1..fields.len()).find(|&k| !fields[k].is_empty()) {
                return Err(bad(
                    number,
                    format!("{}: a trial that did not run has no metrics", columns[k]),
                ));
            }
            Err(reason.to_owned())
        } else {
            return Err(bad(
                number,
                format!(
                    "status: '{}' is neither 'ok' nor '{INVALID}…'",
                    fields[status]
                ),
            ));
        };
        results.push(TrialResult {
            trial: Trial { id, values },
            outcome,
            period_returns: Vec::new(),
        });
    }
    Ok(results)
}

/// Reads `returns.csv` text into `results` (from [`parse_trials`]): every trial that ran gets
/// its series, and no other trial may have one.
///
/// # Errors
/// [`SweepError::Malformed`] for a bad header or value, a row for a trial that is not in
/// `trials.csv` or did not run, a trial that ran without a row, or rows out of id order.
pub(super) fn parse_returns(
    path: &Path,
    text: &str,
    results: &mut [TrialResult],
) -> Result<(), SweepError> {
    let bad = |line: usize, reason: String| SweepError::Malformed {
        path: path.to_owned(),
        line,
        reason,
    };
    let mut lines = text.lines();
    let head = lines.next().unwrap_or_default();
    if head != "id,returns" {
        return Err(bad(1, header_mismatch(head, "id,returns")));
    }
    let mut next = 0usize;
    for (i, line) in lines.enumerate() {
        let number = i + 2;
        let mut fields = line.split(',');
        let id: usize = Field {
            text: fields.next().unwrap_or_default(),
            column: "id",
        }
        .parse()
        .map_err(|e| bad(number, e))?;
        let series = fields
            .map(|text| {
                Field {
                    text,
                    column: "returns",
                }
                .number()
            })
            .collect::<Result<Vec<f64>, String>>()
            .map_err(|e| bad(number, e))?;
        if series.is_empty() {
            return Err(bad(number, format!("trial {id} has no returns")));
        }
        let Some(offset) = results[next..].iter().position(|r| r.trial.id == id) else {
            return Err(bad(
                number,
                format!("trial {id} is not in trials.csv, or its row is out of id order"),
            ));
        };
        let at = next + offset;
        if let Some(skipped) = results[next..at].iter().find(|r| r.outcome.is_ok()) {
            return Err(bad(
                number,
                format!("trial {} ran but has no returns", skipped.trial.id),
            ));
        }
        if results[at].outcome.is_err() {
            return Err(bad(
                number,
                format!("trial {id} did not run, so it has no returns"),
            ));
        }
        results[at].period_returns = series;
        next = at + 1;
    }
    if let Some(missing) = results[next..].iter().find(|r| r.outcome.is_ok()) {
        return Err(bad(
            0,
            format!("trial {} ran but has no returns", missing.trial.id),
        ));
    }
    Ok(())
}

/// What is wrong with a header line, for the error message.
fn header_mismatch(head: &str, expected: &str) -> String {
    let have: Vec<&str> = head.split(',').collect();
    let want: Vec<&str> = expected.split(',').collect();
    if let Some(missing) = want.iter().find(|c| !have.contains(c)) {
        format!("no `{missing}` column (expected header '{expected}')")
    } else if let Some(extra) = have.iter().find(|c| !want.contains(c)) {
        format!("unexpected column `{extra}` (expected header '{expected}')")
    } else {
        format!("columns are out of order: '{head}', expected '{expected}'")
    }
}

/// One CSV field and its column name, for messages.
struct Field<'a> {
    text: &'a str,
    column: &'a str,
}

impl Field<'_> {
    fn parse<T: std::str::FromStr>(&self) -> Result<T, String>
    where
        T::Err: std::fmt::Display,
    {
        self.text
            .parse()
            .map_err(|e| format!("{}: '{}': {e}", self.column, self.text))
    }

    fn number(&self) -> Result<f64, String> {
        let value: f64 = self.parse()?;
        if value.is_finite() {
            Ok(value)
        } else {
            Err(format!(
                "{}: '{}' is not a finite number",
                self.column, self.text
            ))
        }
    }

    fn optional(&self) -> Result<Option<f64>, String> {
        if self.text.is_empty() {
            Ok(None)
        } else {
            self.number().map(Some)
        }
    }
}
