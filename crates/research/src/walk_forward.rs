//! Walk-forward analysis: optimise on a training window, trade the chosen parameters on the
//! window that follows, move on, and stitch the out-of-sample results together.
//!
//! Windows are rolling (the training window keeps its length and slides by `step`) or anchored
//! (training always starts at the first bar and grows by `step`). Lengths are bar counts
//! (`train: 5000`) or durations (`train: 90d`; units `s`, `m`, `h`, `d`, `w`), measured on bar
//! timestamps. Test windows never overlap: a `step` shorter than `test` is refused, since the
//! stitched run would trade and count the shared bars twice. Each test window starts flat with
//! the equity the previous one ended with. The
//! strategy, built fresh with the chosen parameters, first sees the training window's bars as
//! history only (its orders there are rejected with `WARM_UP`), so its indicators are formed when
//! the test window opens; it trades only on test bars.

use std::fmt::Write as _;
use std::path::Path;

use tradepulse_backtest::{
    Annualization, Backtest, BacktestConfig, FillRecord, RoundTrip, RunOptions, RunOutput,
    RunResult, Summary,
};
pub use tradepulse_backtest::{WalkForwardConfig, WindowLength};
use tradepulse_model::{Bar, Money, UnixNanos};

use crate::sweep::{self, Shard, SweepError, SweepPlan, TrialMetrics, TrialResult};

/// The length of `length` in nanoseconds (`None` for a bar count).
fn nanos(length: &WindowLength, field: &str) -> Result<Option<i64>, SweepError> {
    let bad = |reason: String| SweepError::Config {
        field: format!("walk_forward.{field}"),
        reason,
    };
    match length {
        WindowLength::Bars(0) => Err(bad("must be at least 1 bar".into())),
        WindowLength::Bars(_) => Ok(None),
        WindowLength::Duration(text) => {
            let text = text.trim();
            // Split before the last character (not byte: the text is user input).
            let split = text.char_indices().last().map_or(0, |(i, _)| i);
            let (number, unit) = text.split_at(split);
            let n: i64 = number
                .parse()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| bad(format!("'{text}' is not a positive duration like 90d")))?;
            let unit_nanos = match unit {
                "s" => 1,
                "m" => 60,
                "h" => 3_600,
                "d" => 86_400,
                "w" => 604_800,
                _ => return Err(bad(format!("'{text}': unit must be s, m, h, d or w"))),
            } * UnixNanos::NANOS_PER_SECOND;
            n.checked_mul(unit_nanos)
                .map(Some)
                .ok_or_else(|| bad(format!("'{text}' is too long")))
        }
    }
}

/// `length` as written in the config, for messages.
fn describe(length: &WindowLength) -> String {
    match length {
        WindowLength::Bars(n) => format!("{n} bars"),
        WindowLength::Duration(text) => format!("'{text}'"),
    }
}

/// The index reached by going `length` from `from` (clamped to `bars.len()`).
fn advance(
    length: &WindowLength,
    bars: &[Bar],
    from: usize,
    field: &str,
) -> Result<usize, SweepError> {
    Ok(match (length, nanos(length, field)?) {
        (WindowLength::Bars(n), _) => from.saturating_add(*n).min(bars.len()),
        (_, Some(nanos)) => {
            let Some(start) = bars.get(from) else {
                return Ok(bars.len());
            };
            let target = start.ts.as_nanos().saturating_add(nanos);
            from + bars[from..].partition_point(|b| b.ts.as_nanos() < target)
        }
        (WindowLength::Duration(_), None) => from,
    })
}

/// One train/test window and what was chosen in it.
#[derive(Debug, Clone)]
pub struct Window {
    /// Training bars `[train_start, train_end)`.
    pub train_start: usize,
    /// End of training (= start of test).
    pub train_end: usize,
    /// End of test (exclusive).
    pub test_end: usize,
    /// The best training trial (`None` if no trial was valid).
    pub best: Option<TrialResult>,
    /// Out-of-sample metrics of the chosen parameters.
    pub test_summary: Option<Summary>,
    /// All training trials (for diagnostics).
    pub train_trials: Vec<TrialResult>,
}

/// The result of a walk-forward analysis.
#[derive(Debug, Clone)]
pub struct WalkForward {
    /// Parameter names of the sweep.
    pub names: Vec<String>,
    /// The windows, in time order.
    pub windows: Vec<Window>,
    /// Stitched out-of-sample run over the test windows.
    pub oos: RunResult,
    /// Bars of the stitched out-of-sample run.
    pub oos_bars: Vec<Bar>,
    /// Metrics of the stitched run.
    pub summary: Summary,
}

/// The config's `walk_forward` section.
///
/// # Errors
/// [`SweepError::Config`] if there is none.
pub fn section(config: &BacktestConfig) -> Result<&WalkForwardConfig, SweepError> {
    config
        .walk_forward
        .as_ref()
        .ok_or_else(|| SweepError::Config {
            field: "walk_forward".into(),
            reason: "the config has no `walk_forward:` section".into(),
        })
}

/// Lays out the windows over `bars`: `(train_start, train_end, test_end)`. Test windows follow
/// one another without overlapping (`step` ≥ `test`; a longer step leaves bars between them
/// untested), so no bar is traded out of sample twice and the stitched run's timestamps
/// strictly increase.
///
/// # Errors
/// [`SweepError::Config`] for a malformed length, a `step` shorter than `test` (test windows
/// would overlap), or if not even one full window fits.
pub fn windows(
    config: &WalkForwardConfig,
    bars: &[Bar],
) -> Result<Vec<(usize, usize, usize)>, SweepError> {
    let step = config.step.clone().unwrap_or_else(|| config.test.clone());
    let overlap = |reason: String| SweepError::Config {
        field: "walk_forward.step".into(),
        reason: format!(
            "{reason}: test windows would overlap and count bars twice out of sample; make step \
             at least as long as test (without step, windows tile)"
        ),
    };
    let shorter = match (&step, &config.test) {
        (WindowLength::Bars(s), WindowLength::Bars(t)) => s < t,
        (WindowLength::Duration(_), WindowLength::Duration(_)) => {
            nanos(&step, "step")? < nanos(&config.test, "test")?
        }
        // Bars against a duration: only the laid-out windows can tell (below).
        _ => false,
    };
    if shorter {
        return Err(overlap(format!(
            "{} is shorter than test ({})",
            describe(&step),
            describe(&config.test)
        )));
    }
    let mut out: Vec<(usize, usize, usize)> = Vec::new();
    let mut train_start = 0;
    let mut train_end = advance(&config.train, bars, 0, "train")?;
    loop {
        let test_end = advance(&config.test, bars, train_end, "test")?;
        // A test window needs at least two bars to have a return.
        if train_end >= bars.len() || test_end - train_end < 2 || train_end == train_start {
            break;
        }
        if let Some(&(_, _, previous_end)) = out.last()
            && train_end < previous_end
        {
            return Err(overlap(format!(
                "window {}'s test starts at bar {train_end}, before window {}'s test ends at bar \
                 {previous_end} ({} against test {})",
                out.len(),
                out.len() - 1,
                describe(&step),
                describe(&config.test)
            )));
        }
        out.push((train_start, train_end, test_end));
        let next_end = advance(&step, bars, train_end, "step")?;
        if next_end <= train_end {
            break;
        }
        if !config.anchored {
            train_start = advance(&step, bars, train_start, "step")?;
        }
        train_end = next_end;
    }
    if out.is_empty() {
        return Err(SweepError::Config {
            field: "walk_forward".into(),
            reason: format!(
                "no complete train + test window fits in {} bars",
                bars.len()
            ),
        });
    }
    Ok(out)
}

/// Runs the analysis. `progress` is called after every training trial.
///
/// # Errors
/// [`SweepError`] for a missing or bad `sweep`/`walk_forward` section.
pub fn run(
    config: &BacktestConfig,
    bars: &[Bar],
    progress: &(dyn Fn() + Sync),
) -> Result<WalkForward, SweepError> {
    let wf = config
        .walk_forward
        .as_ref()
        .ok_or_else(|| SweepError::Config {
            field: "walk_forward".into(),
            reason: "the config has no `walk_forward:` section".into(),
        })?;
    let objective = config.sweep.as_ref().ok_or(SweepError::Missing)?.objective;
    let plan = SweepPlan::new(config)?;
    let layout = windows(wf, bars)?;
    // Every window's training trials stay in the result, with their return series.
    let periods: usize = layout
        .iter()
        .map(|&(start, end, _)| sweep::period_count(plan.returns, &bars[start..end]))
        .sum();
    sweep::check_returns(plan.returns, plan.trials.len(), periods)?;
    let instrument = config.instrument.build().map_err(|e| SweepError::Config {
        field: "instrument".into(),
        reason: e.to_string(),
    })?;

    // One calendar for every window and the stitched run: the whole data's, the best evidence
    // of how the market trades.
    let annualization = Annualization::measure(&config.metrics, bars.iter().map(|b| b.ts));
    let mut equity_cash = config.portfolio.initial_cash;
    let mut result_windows = Vec::new();
    let mut stitched = Stitched::new(config.portfolio.initial_cash);
    for (train_start, train_end, test_end) in layout {
        let train = &bars[train_start..train_end];
        let test = &bars[train_end..test_end];
        let trials = sweep::run_trials_annualized(
            config,
            &plan,
            train,
            Shard::ALL,
            &annualization,
            progress,
        );
        let best = sweep::rank(&trials, objective)
            .first()
            .map(|r| (*r).clone());
        let mut test_summary = None;
        if let Some(best) = &best {
            let mut spec = config.strategy.clone();
            for (name, &value) in plan.names.iter().zip(&best.trial.values) {
                spec.set_parameter(name, value)
                    .map_err(|e| SweepError::Config {
                        field: format!("sweep.parameters.{name}"),
                        reason: e.reason,
                    })?;
            }
            let options = RunOptions {
                warmup_bars: train_end - train_start,
                initial_cash: Some(equity_cash),
                annualization: Some(annualization.clone()),
                close_sums: None,
            };
            let RunOutput { run, summary } =
                Backtest::run_with(config, &spec, &bars[train_start..test_end], options).map_err(
                    |e| SweepError::Config {
                        field: "walk_forward".into(),
                        reason: e.to_string(),
                    },
                )?;
            test_summary = Some(summary);
            equity_cash = run.final_equity();
            stitched.append(test, run);
        }
        result_windows.push(Window {
            train_start,
            train_end,
            test_end,
            best,
            test_summary,
            train_trials: trials,
        });
    }
    let (oos, oos_bars) = stitched.finish();
    let summary = Summary::compute(
        config.strategy.kind(),
        instrument.id().as_str(),
        &oos,
        &config.metrics,
        annualization,
    );
    Ok(WalkForward {
        names: plan.names,
        windows: result_windows,
        oos,
        oos_bars,
        summary,
    })
}

/// Concatenates the test windows' runs into one out-of-sample run.
struct Stitched {
    initial_cash: Money,
    bars: Vec<Bar>,
    parts: Vec<RunResult>,
}

impl Stitched {
    fn new(initial_cash: Money) -> Self {
        Self {
            initial_cash,
            bars: Vec::new(),
            parts: Vec::new(),
        }
    }

    fn append(&mut self, bars: &[Bar], run: RunResult) {
        self.bars.extend_from_slice(bars);
        self.parts.push(run);
    }

    fn finish(self) -> (RunResult, Vec<Bar>) {
        let last = self.parts.last();
        let mut fills: Vec<FillRecord> = Vec::new();
        let mut round_trips: Vec<RoundTrip> = Vec::new();
        let mut equity = Vec::with_capacity(self.bars.len());
        let mut timestamps = Vec::with_capacity(self.bars.len());
        let (mut exposed, mut submitted, mut rejected) = (0, 0, 0);
        let (mut fees, mut borrow, mut financing) = (0i128, 0i128, 0i128);
        let mut rejections: Vec<(tradepulse_model::RejectReason, u64)> = Vec::new();
        for part in &self.parts {
            financing += part.financing_paid.raw();
            for &(reason, n) in &part.rejections {
                match rejections.iter_mut().find(|(r, _)| *r == reason) {
                    Some((_, total)) => *total += n,
                    None => rejections.push((reason, n)),
                }
            }
            fills.extend_from_slice(&part.fills);
            round_trips.extend_from_slice(&part.round_trips);
            equity.extend_from_slice(&part.equity);
            timestamps.extend_from_slice(&part.timestamps);
            exposed += part.exposed_bars;
            submitted += part.orders_submitted;
            rejected += part.orders_rejected;
            fees += part.fees_paid.raw();
            borrow += part.borrow_paid.raw();
        }
        let run = RunResult {
            bars: equity.len(),
            timestamps,
            equity,
            exposed_bars: exposed,
            fills,
            round_trips,
            orders_submitted: submitted,
            orders_rejected: rejected,
            initial_cash: self.initial_cash,
            final_cash: last.map_or(self.initial_cash, |p| p.final_cash),
            positions: last.map(|p| p.positions.clone()).unwrap_or_default(),
            fees_paid: Money::from_raw(fees),
            borrow_paid: Money::from_raw(borrow),
            financing_paid: Money::from_raw(financing),
            rejections: {
                rejections.sort_by_key(|(r, _)| r.index());
                rejections
            },
        };
        (run, self.bars)
    }
}

/// The Deflated Sharpe Ratio of a window's chosen trial among its training trials, and the PBO
/// of the training search (`None` where undefined, e.g. too few return slices for the blocks).
fn window_diagnostics(
    window: &Window,
    best: &TrialResult,
    blocks: usize,
) -> (Option<f64>, Option<f64>) {
    let series: Vec<&Vec<f64>> = window
        .train_trials
        .iter()
        .filter(|t| t.outcome.is_ok())
        .map(|t| &t.period_returns)
        .collect();
    let sharpes: Vec<f64> = series
        .iter()
        .filter_map(|r| crate::SharpeStats::from_returns(r).map(|s| s.sharpe))
        .collect();
    let dsr = crate::SharpeStats::from_returns(&best.period_returns)
        .and_then(|stats| crate::deflated_sharpe_of_trials(&stats, &sharpes))
        .map(|d| d.dsr);
    let pbo = crate::pbo_cscv(&series, blocks).ok().map(|p| p.pbo);
    (dsr, pbo)
}

/// Writes `windows.csv` (chosen parameters, in/out-of-sample objective, and the training search's
/// DSR and PBO per window),
/// `oos_equity.csv`, `summary.json` and the stitched run's `report.html` (with PNG charts) into
/// `dir`.
///
/// # Errors
/// [`SweepError::File`] naming the file that could not be written.
pub fn write(
    dir: &Path,
    result: &WalkForward,
    bars: &[Bar],
    sweep_config: &sweep::SweepConfig,
) -> Result<(), SweepError> {
    let objective = sweep_config.objective;
    let file_err = |path: std::path::PathBuf, e: &dyn std::fmt::Display| SweepError::File {
        path,
        reason: e.to_string(),
    };
    std::fs::create_dir_all(dir).map_err(|e| file_err(dir.to_owned(), &e))?;
    let mut csv = String::from("window,train_start,train_end,test_start,test_end");
    for n in &result.names {
        let _ = write!(csv, ",{n}");
    }
    let _ = writeln!(
        csv,
        ",train_{0},test_{0},test_return,train_dsr,train_pbo",
        objective.as_str()
    );
    for (i, w) in result.windows.iter().enumerate() {
        let ts = |idx: usize| bars.get(idx).map_or_else(String::new, |b| b.ts.to_string());
        let _ = write!(
            csv,
            "{i},{},{},{},{}",
            ts(w.train_start),
            ts(w.train_end - 1),
            ts(w.train_end),
            ts(w.test_end - 1)
        );
        match &w.best {
            Some(best) => {
                for v in &best.trial.values {
                    let _ = write!(csv, ",{v}");
                }
                let train_obj = best.objective(objective);
                let test_obj = w
                    .test_summary
                    .as_ref()
                    .and_then(|s| TrialMetrics::from(s).objective(objective));
                let test_ret = w.test_summary.as_ref().and_then(|s| s.total_return);
                let f = |x: Option<f64>| x.map_or_else(String::new, |v| v.to_string());
                let (dsr, pbo) = window_diagnostics(w, best, sweep_config.pbo_blocks);
                let _ = writeln!(
                    csv,
                    ",{},{},{},{},{}",
                    f(train_obj),
                    f(test_obj),
                    f(test_ret),
                    f(dsr),
                    f(pbo)
                );
            }
            None => {
                let _ = writeln!(csv, "{},,,,,", ",".repeat(result.names.len()));
            }
        }
    }
    let path = dir.join("windows.csv");
    std::fs::write(&path, csv).map_err(|e| file_err(path.clone(), &e))?;
    let mut equity = String::from("ts,equity\n");
    for (b, e) in result.oos_bars.iter().zip(&result.oos.equity) {
        let _ = writeln!(equity, "{},{e:.2}", b.ts);
    }
    let path = dir.join("oos_equity.csv");
    std::fs::write(&path, equity).map_err(|e| file_err(path.clone(), &e))?;
    let mut json = serde_json::to_string_pretty(&result.summary)
        .map_err(|e| file_err(dir.join("summary.json"), &e))?;
    json.push('\n');
    let path = dir.join("summary.json");
    std::fs::write(&path, json).map_err(|e| file_err(path.clone(), &e))?;
    tradepulse_backtest::write_html_report(dir, &result.summary, &result.oos, &result.oos_bars)
        .map_err(|e| file_err(e.path.clone(), &e))
}
