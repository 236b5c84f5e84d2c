//! Overfitting diagnostics for parameter searches: the Deflated Sharpe Ratio and the Probability
//! of Backtest Overfitting.
//!
//! A sweep that tries many parameter sets and reports the best one is biased upwards: with enough
//! trials, pure noise produces a great-looking backtest. These two statistics say how much of the
//! winner's result survives that selection.
//!
//! - [`deflated_sharpe`] — Bailey & López de Prado (2014), "The Deflated Sharpe Ratio: Correcting
//!   for Selection Bias, Backtest Overfitting and Non-Normality". The Probabilistic Sharpe Ratio
//!   PSR(SR\*) = Φ((SR − SR\*)·√(T − 1) / √(1 − γ₃·SR + (γ₄ − 1)/4·SR²)) is the probability that
//!   the true Sharpe ratio exceeds SR\*, given the sample Sharpe SR of T returns with skewness γ₃
//!   and kurtosis γ₄. The DSR is the PSR against the Sharpe the best of N unskilled trials would
//!   show by luck: E\[max SR\] ≈ √V·((1 − γ)·Φ⁻¹(1 − 1/N) + γ·Φ⁻¹(1 − 1/(N·e))), with V the
//!   variance of the trials' Sharpe ratios and γ the Euler–Mascheroni constant.
//! - [`pbo_cscv`] — Bailey, Borwein, López de Prado & Zhu (2015), "The Probability of Backtest
//!   Overfitting", by combinatorially symmetric cross-validation (CSCV): split the T×N matrix of
//!   per-period returns into S contiguous row blocks; for each of the C(S, S/2) ways to choose
//!   half the blocks as in-sample, pick the in-sample best trial and find its relative rank ω̄ out
//!   of sample; λ = ln(ω̄ / (1 − ω̄)); PBO = the fraction of splits with λ ≤ 0, i.e. where the
//!   in-sample winner does no better than the out-of-sample median.
//!
//! # Conventions
//!
//! Every Sharpe ratio here is **per period** (mean / standard deviation of the per-period
//! returns given, risk-free rate 0, not annualised), because the PSR's √(T − 1) already accounts
//! for the number of periods; annualising as well would count it twice. A sweep passes each
//! trial's returns per trading day, per bar or per block of bars (`sweep.returns`, see
//! [`PeriodReturns`](crate::sweep::PeriodReturns)), so T is that number of periods and
//! `sweep.json` reports it. [`Summary::sharpe`](tradepulse_backtest::Summary) is annualised per
//! bar: divide it by √(periods per year) for a per-bar figure. The standard deviation uses
//! T − 1 (as in [`Summary`](tradepulse_backtest::Summary)); skewness and kurtosis are the plain
//! moment ratios m₃/m₂^1.5 and m₄/m₂² (kurtosis 3 for a normal distribution, not excess).
//!
//! Everything is deterministic: no randomness, and ties are broken by trial index. The result
//! types serialise with serde, for sweep summaries and the store.
//!
//! # Reading the numbers
//!
//! PBO is the probability that the in-sample winner does no better than the median trial out of
//! sample. For independent pure-noise trials selection carries no information, so the winner's
//! out-of-sample rank is uniform and PBO ≈ 0.5 on average, not 1, with a wide spread from one
//! sample to the next (seeded runs in the tests give 0.26 … 0.87, mean 0.50; published
//! replications report 0.48 ± 0.14 for N = 200, S = 16). So a PBO near 0.5 already says "the
//! search found nothing"; above 0.5 the selection is worse than a coin flip (typically a search
//! that fits one regime which then reverses); near 0 the in-sample winner keeps winning.

use std::f64::consts::{E, FRAC_1_SQRT_2};

use serde::Serialize;

/// The Euler–Mascheroni constant γ.
const EULER_GAMMA: f64 = 0.577_215_664_901_532_9;

/// Largest block count accepted by [`pbo_cscv`]: C(24, 12) = 2,704,156 splits is a few seconds
/// for a hundred trials; C(26, 13) is four times that.
pub const MAX_CSCV_BLOCKS: usize = 24;

/// Why an overfitting diagnostic could not be computed. All variants are problems with the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OverfitError {
    /// CSCV needs an even number of blocks, at least 2 and at most [`MAX_CSCV_BLOCKS`].
    #[error(
        "CSCV needs an even block count between 2 and {MAX_CSCV_BLOCKS}, got {blocks} (16 is usual)"
    )]
    InvalidBlocks {
        /// The block count asked for.
        blocks: usize,
    },
    /// Fewer than 2 trials: there is no selection to judge.
    #[error("PBO needs at least 2 trials, got {trials}")]
    TooFewTrials {
        /// The number of trials given.
        trials: usize,
    },
    /// Each block needs at least two returns so a Sharpe ratio exists on every half.
    #[error("{rows} returns per trial are too few for {blocks} blocks: need at least {needed}")]
    TooFewRows {
        /// Returns per trial.
        rows: usize,
        /// The block count asked for.
        blocks: usize,
        /// Minimum returns per trial (2 per block).
        needed: usize,
    },
    /// The trials' return series differ in length; CSCV needs them aligned on the same periods.
    #[error("trial {trial} has {len} returns but trial 0 has {expected}: align the series first")]
    RaggedTrials {
        /// The offending trial.
        trial: usize,
        /// Its length.
        len: usize,
        /// Trial 0's length.
        expected: usize,
    },
    /// A return is NaN or infinite.
    #[error("trial {trial}, period {row}: return is not finite")]
    NonFinite {
        /// The trial.
        trial: usize,
        /// The period.
        row: usize,
    },
}

/// The standard normal cumulative distribution function Φ.
fn normal_cdf(x: f64) -> f64 {
    // erfc keeps full relative precision in the lower tail, where 1 + erf(x) would cancel.
    0.5 * libm::erfc(-x * FRAC_1_SQRT_2)
}

/// The inverse of Φ: Acklam's rational approximation (P. J. Acklam, "An algorithm for computing
/// the inverse normal cumulative distribution function", 2003; relative error < 1.15e-9), then
/// one Halley step against [`normal_cdf`], which brings it to about machine precision.
/// `p` outside (0, 1) gives ∓∞ or NaN.
fn normal_quantile(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    const P_LOW: f64 = 0.02425;
    if p.is_nan() || !(0.0..=1.0).contains(&p) {
        return f64::NAN;
    }
    if p == 0.0 {
        return f64::NEG_INFINITY;
    }
    if p == 1.0 {
        return f64::INFINITY;
    }
    let tail = |q: f64| {
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    let x = if p < P_LOW {
        tail((-2.0 * p.ln()).sqrt())
    } else if p <= 1.0 - P_LOW {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    } else {
        -tail((-2.0 * (1.0 - p).ln()).sqrt())
    };
    // Halley refinement (Acklam's own suggestion). In the upper tail the error is measured on the
    // complement so that 1 − p's rounding is not amplified.
    let e = if p < 0.5 {
        normal_cdf(x) - p
    } else {
        (1.0 - p) - 0.5 * libm::erfc(x * FRAC_1_SQRT_2)
    };
    let u = e * (2.0 * std::f64::consts::PI).sqrt() * (x * x / 2.0).exp();
    x - u / (1.0 + x * u / 2.0)
}

/// The sample statistics of one return series that the (deflated) Sharpe ratio needs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SharpeStats {
    /// Per-period Sharpe ratio: mean / standard deviation (T − 1), not annualised.
    pub sharpe: f64,
    /// Skewness m₃ / m₂^1.5 (0 for a normal distribution).
    pub skewness: f64,
    /// Kurtosis m₄ / m₂² (3 for a normal distribution; not excess kurtosis).
    pub kurtosis: f64,
    /// Number of returns T.
    pub observations: usize,
}

impl SharpeStats {
    /// Computes the statistics of per-period `returns`. `None` with fewer than 2 returns, a
    /// non-finite return, or zero variance (the Sharpe ratio is undefined).
    #[must_use]
    pub fn from_returns(returns: &[f64]) -> Option<Self> {
        let t = returns.len();
        if t < 2 || returns.iter().any(|r| !r.is_finite()) {
            return None;
        }
        let n = t as f64;
        let mean = returns.iter().sum::<f64>() / n;
        let (mut m2, mut m3, mut m4) = (0.0, 0.0, 0.0);
        for r in returns {
            let d = r - mean;
            let d2 = d * d;
            m2 += d2;
            m3 += d2 * d;
            m4 += d2 * d2;
        }
        let sum_squares = m2;
        let (m2, m3, m4) = (m2 / n, m3 / n, m4 / n);
        if m2 <= 0.0 {
            return None;
        }
        let stdev = (sum_squares / (n - 1.0)).sqrt();
        Some(Self {
            sharpe: mean / stdev,
            skewness: m3 / m2.powf(1.5),
            kurtosis: m4 / (m2 * m2),
            observations: t,
        })
    }
}

/// The Probabilistic Sharpe Ratio: the probability that the true per-period Sharpe ratio of the
/// series described by `stats` exceeds `benchmark` (also per period).
///
/// `None` with fewer than 2 observations or when skewness and kurtosis make the variance of the
/// Sharpe estimator non-positive (1 − γ₃·SR + (γ₄ − 1)/4·SR² ≤ 0, only for extreme inputs).
#[must_use]
pub fn probabilistic_sharpe(stats: &SharpeStats, benchmark: f64) -> Option<f64> {
    if stats.observations < 2 {
        return None;
    }
    let sr = stats.sharpe;
    let spread = 1.0 - stats.skewness * sr + (stats.kurtosis - 1.0) / 4.0 * sr * sr;
    if spread.is_nan() || spread <= 0.0 || !benchmark.is_finite() || !sr.is_finite() {
        return None;
    }
    let z = (sr - benchmark) * ((stats.observations - 1) as f64).sqrt() / spread.sqrt();
    Some(normal_cdf(z))
}

/// The Sharpe ratio the best of `trials` unskilled trials is expected to show by luck, when the
/// trials' Sharpe ratios have variance `variance`:
/// √V·((1 − γ)·Φ⁻¹(1 − 1/N) + γ·Φ⁻¹(1 − 1/(N·e))). One trial involves no selection, so its
/// threshold is 0. `None` for zero trials or a negative or non-finite variance.
#[must_use]
pub fn expected_max_sharpe(trials: usize, variance: f64) -> Option<f64> {
    if trials == 0 || !variance.is_finite() || variance < 0.0 {
        return None;
    }
    if trials == 1 {
        return Some(0.0);
    }
    let n = trials as f64;
    let z = (1.0 - EULER_GAMMA) * normal_quantile(1.0 - 1.0 / n)
        + EULER_GAMMA * normal_quantile(1.0 - 1.0 / (n * E));
    Some(variance.sqrt() * z)
}

/// The Deflated Sharpe Ratio of a selected strategy and its inputs (all Sharpe ratios per
/// period).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct DeflatedSharpe {
    /// The selected strategy's statistics.
    pub stats: SharpeStats,
    /// Number of trials N the strategy was selected from.
    pub trials: usize,
    /// Variance V of the trials' per-period Sharpe ratios.
    pub trials_sharpe_variance: f64,
    /// E\[max SR\] of N unskilled trials: the threshold SR\* the DSR tests against.
    pub expected_max_sharpe: f64,
    /// PSR against 0: the probability of a positive true Sharpe ignoring the selection.
    pub psr: f64,
    /// PSR against [`DeflatedSharpe::expected_max_sharpe`]: the probability that the true
    /// Sharpe beats what the search would have found by luck. Above 0.95 is the paper's bar.
    pub dsr: f64,
}

/// The Deflated Sharpe Ratio of the strategy described by `selected`, chosen from `trials`
/// trials whose per-period Sharpe ratios have variance `trials_sharpe_variance`.
///
/// Pass the number of *independent* trials if you know it (correlated parameter sets count for
/// less); the raw count is the conservative choice. `None` when the PSR or the threshold is
/// undefined (see [`probabilistic_sharpe`] and [`expected_max_sharpe`]).
///
/// ```
/// use tradepulse_research::{SharpeStats, deflated_sharpe};
///
/// // A per-period Sharpe of 0.1 over 1,000 bars looks significant on its own (PSR ≈ 0.999),
/// // but not as the best of 100 trials whose Sharpe ratios vary with variance 0.0025.
/// let best = SharpeStats { sharpe: 0.1, skewness: -0.5, kurtosis: 5.0, observations: 1000 };
/// let dsr = deflated_sharpe(&best, 100, 0.0025).unwrap();
/// assert!(dsr.psr > 0.99 && dsr.dsr < 0.25);
/// ```
#[must_use]
pub fn deflated_sharpe(
    selected: &SharpeStats,
    trials: usize,
    trials_sharpe_variance: f64,
) -> Option<DeflatedSharpe> {
    let threshold = expected_max_sharpe(trials, trials_sharpe_variance)?;
    Some(DeflatedSharpe {
        stats: *selected,
        trials,
        trials_sharpe_variance,
        expected_max_sharpe: threshold,
        psr: probabilistic_sharpe(selected, 0.0)?,
        dsr: probabilistic_sharpe(selected, threshold)?,
    })
}

/// [`deflated_sharpe`] with N and V taken from every trial's per-period Sharpe ratio
/// (`trial_sharpes`, one per trial including the selected one; V with N − 1 in the denominator).
/// `None` with no trials or a non-finite Sharpe among them, or as [`deflated_sharpe`].
#[must_use]
pub fn deflated_sharpe_of_trials(
    selected: &SharpeStats,
    trial_sharpes: &[f64],
) -> Option<DeflatedSharpe> {
    let n = trial_sharpes.len();
    if n == 0 || trial_sharpes.iter().any(|s| !s.is_finite()) {
        return None;
    }
    let variance = if n == 1 {
        0.0
    } else {
        let mean = trial_sharpes.iter().sum::<f64>() / n as f64;
        trial_sharpes
            .iter()
            .map(|s| (s - mean).powi(2))
            .sum::<f64>()
            / (n - 1) as f64
    };
    deflated_sharpe(selected, n, variance)
}

/// The result of [`pbo_cscv`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Pbo {
    /// Probability of Backtest Overfitting: the fraction of splits whose logit λ ≤ 0.
    pub pbo: f64,
    /// Block count S.
    pub blocks: usize,
    /// Number of trials N.
    pub trials: usize,
    /// λ of every split, in the order the splits are enumerated (in-sample block sets in
    /// lexicographic order, starting with blocks 0..S/2).
    pub logits: Vec<f64>,
    /// Summary of [`Pbo::logits`].
    pub logit_summary: LogitSummary,
    /// Performance degradation: least-squares slope of the in-sample winner's out-of-sample
    /// metric on its in-sample metric across splits (negative: the better it looks in sample,
    /// the worse it does out of sample). `None` if the in-sample values do not vary.
    pub degradation_slope: Option<f64>,
    /// Intercept of that regression.
    pub degradation_intercept: Option<f64>,
    /// Fraction of splits where the in-sample winner's out-of-sample metric is negative.
    pub prob_oos_loss: f64,
}

impl Pbo {
    /// Number of splits C(S, S/2).
    #[must_use]
    pub fn splits(&self) -> usize {
        self.logits.len()
    }
}

/// Distribution of the CSCV logits λ.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LogitSummary {
    /// Mean.
    pub mean: f64,
    /// Smallest.
    pub min: f64,
    /// 5th percentile.
    pub p05: f64,
    /// 25th percentile.
    pub p25: f64,
    /// Median.
    pub median: f64,
    /// 75th percentile.
    pub p75: f64,
    /// 95th percentile.
    pub p95: f64,
    /// Largest.
    pub max: f64,
}

impl LogitSummary {
    fn of(values: &[f64]) -> Self {
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        // Linear interpolation between order statistics (numpy's default), so small samples
        // give the textbook median.
        let q = |p: f64| {
            let h = p * (sorted.len() - 1) as f64;
            let lo = h.floor() as usize;
            let hi = h.ceil() as usize;
            sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
        };
        Self {
            mean: sorted.iter().sum::<f64>() / sorted.len() as f64,
            min: sorted[0],
            p05: q(0.05),
            p25: q(0.25),
            median: q(0.5),
            p75: q(0.75),
            p95: q(0.95),
            max: sorted[sorted.len() - 1],
        }
    }
}

/// Probability of Backtest Overfitting by CSCV, ranking trials by their per-period Sharpe ratio.
///
/// `trials` holds one per-period return series per trial (N ≥ 2), all of the same length T and
/// aligned on the same periods. Rows are split into `blocks` (S, even; 16 is usual) contiguous
/// blocks of ⌊T/S⌋ or ⌈T/S⌉ rows. Every one of the C(S, S/2) half-splits is evaluated; the
/// in-sample winner is the trial with the highest in-sample Sharpe (the lowest index on a tie),
/// and its out-of-sample rank among all trials is 1 (worst) … N (best), ties taking their average
/// rank; ω̄ = rank / (N + 1). A trial with zero variance on a half has Sharpe ±∞ by the sign of
/// its mean, or 0 for a zero mean.
///
/// Cost: O(S/2 · N) per split from per-block sums, independent of T after one pass over the
/// data (S = 16, N = 1,000 trials, T = 2,000: 12,870 splits in about 3 s in a debug build).
///
/// ```
/// use tradepulse_research::pbo_cscv;
///
/// // Two trials that trade places halfway: whichever wins in sample loses out of sample.
/// let early = vec![0.02, 0.01, 0.03, 0.02, -0.01, -0.02, -0.015, -0.01];
/// let late: Vec<f64> = early.iter().rev().copied().collect();
/// let pbo = pbo_cscv(&[early, late], 2)?;
/// assert_eq!(pbo.pbo, 1.0);
/// # Ok::<(), tradepulse_research::OverfitError>(())
/// ```
///
/// # Errors
/// [`OverfitError`] for an odd or out-of-range block count, fewer than 2 trials, series of
/// different lengths, fewer than 2 rows per block, or a non-finite return.
pub fn pbo_cscv<R: AsRef<[f64]>>(trials: &[R], blocks: usize) -> Result<Pbo, OverfitError> {
    let rows = validate(trials, blocks)?;
    let n = trials.len();
    let ranges = block_ranges(rows, blocks);
    // Sums of returns shifted by each trial's overall mean keep the variance formula
    // Σd² − (Σd)²/n free of cancellation. Block-major layout: a split adds whole rows of N.
    let shifts: Vec<f64> = trials
        .iter()
        .map(|t| t.as_ref().iter().sum::<f64>() / rows as f64)
        .collect();
    let mut block_stats = vec![Moments::default(); blocks * n];
    for (j, trial) in trials.iter().enumerate() {
        let series = trial.as_ref();
        for (b, range) in ranges.iter().enumerate() {
            let m = &mut block_stats[b * n + j];
            for &r in &series[range.clone()] {
                let d = r - shifts[j];
                m.count += 1.0;
                m.sum += d;
                m.sum_sq += d * d;
            }
        }
    }
    let mut totals = vec![Moments::default(); n];
    for row in block_stats.chunks_exact(n) {
        for (total, m) in totals.iter_mut().zip(row) {
            total.add(m);
        }
    }
    let mut in_sample = vec![Moments::default(); n];
    let outcome = run_cscv(blocks, n, |chosen, is_metric, oos_metric| {
        in_sample.fill(Moments::default());
        for &b in chosen {
            for (acc, m) in in_sample.iter_mut().zip(&block_stats[b * n..(b + 1) * n]) {
                acc.add(m);
            }
        }
        for (j, m) in in_sample.iter().enumerate() {
            is_metric[j] = m.sharpe(shifts[j]);
            oos_metric[j] = totals[j].minus(m).sharpe(shifts[j]);
        }
    });
    Ok(outcome.into_pbo(blocks, n))
}

/// [`pbo_cscv`] ranking trials by any `metric` of a return series (Sortino, mean, total
/// return …) instead of the Sharpe ratio. The metric sees the in-sample (or out-of-sample) rows
/// of a trial concatenated in time order. Slower than [`pbo_cscv`]: O(T · N) per split.
/// NaN metric values rank lowest.
///
/// # Errors
/// As [`pbo_cscv`].
pub fn pbo_cscv_by<R: AsRef<[f64]>>(
    trials: &[R],
    blocks: usize,
    metric: impl Fn(&[f64]) -> f64,
) -> Result<Pbo, OverfitError> {
    let rows = validate(trials, blocks)?;
    let n = trials.len();
    let ranges = block_ranges(rows, blocks);
    let mut is_rows = Vec::with_capacity(rows);
    let mut oos_rows = Vec::with_capacity(rows);
    let mut in_sample = vec![false; blocks];
    let outcome = run_cscv(blocks, n, |chosen, is_metric, oos_metric| {
        in_sample.fill(false);
        for &b in chosen {
            in_sample[b] = true;
        }
        for (j, trial) in trials.iter().enumerate() {
            let series = trial.as_ref();
            is_rows.clear();
            oos_rows.clear();
            for (b, range) in ranges.iter().enumerate() {
                let target = if in_sample[b] {
                    &mut is_rows
                } else {
                    &mut oos_rows
                };
                target.extend_from_slice(&series[range.clone()]);
            }
            is_metric[j] = nan_lowest(metric(&is_rows));
            oos_metric[j] = nan_lowest(metric(&oos_rows));
        }
    });
    Ok(outcome.into_pbo(blocks, n))
}

fn nan_lowest(x: f64) -> f64 {
    if x.is_nan() { f64::NEG_INFINITY } else { x }
}

fn validate<R: AsRef<[f64]>>(trials: &[R], blocks: usize) -> Result<usize, OverfitError> {
    if blocks < 2 || !blocks.is_multiple_of(2) || blocks > MAX_CSCV_BLOCKS {
        return Err(OverfitError::InvalidBlocks { blocks });
    }
    if trials.len() < 2 {
        return Err(OverfitError::TooFewTrials {
            trials: trials.len(),
        });
    }
    let rows = trials[0].as_ref().len();
    for (trial, series) in trials.iter().enumerate() {
        let series = series.as_ref();
        if series.len() != rows {
            return Err(OverfitError::RaggedTrials {
                trial,
                len: series.len(),
                expected: rows,
            });
        }
        if let Some(row) = series.iter().position(|r| !r.is_finite()) {
            return Err(OverfitError::NonFinite { trial, row });
        }
    }
    if rows < 2 * blocks {
        return Err(OverfitError::TooFewRows {
            rows,
            blocks,
            needed: 2 * blocks,
        });
    }
    Ok(rows)
}

/// Row ranges of `blocks` contiguous blocks covering `rows` rows, sizes differing by at most 1.
fn block_ranges(rows: usize, blocks: usize) -> Vec<std::ops::Range<usize>> {
    (0..blocks)
        .map(|b| b * rows / blocks..(b + 1) * rows / blocks)
        .collect()
}

/// Count, sum and sum of squares of a trial's returns minus its overall mean (the shift).
#[derive(Debug, Clone, Copy, Default)]
struct Moments {
    count: f64,
    sum: f64,
    sum_sq: f64,
}

impl Moments {
    fn add(&mut self, other: &Self) {
        self.count += other.count;
        self.sum += other.sum;
        self.sum_sq += other.sum_sq;
    }

    fn minus(&self, other: &Self) -> Self {
        Self {
            count: self.count - other.count,
            sum: self.sum - other.sum,
            sum_sq: self.sum_sq - other.sum_sq,
        }
    }

    /// Sharpe ratio of the returns, given the shift that was subtracted from them.
    fn sharpe(&self, shift: f64) -> f64 {
        let mean_shifted = self.sum / self.count;
        let mean = shift + mean_shifted;
        let variance = (self.sum_sq - self.sum * mean_shifted) / (self.count - 1.0);
        // Differences of sums can leave a tiny negative or near-zero residue for a constant
        // series; treat anything at rounding level as zero variance.
        if variance <= 1e-300 || variance <= 1e-14 * self.sum_sq / self.count {
            return if mean > 0.0 {
                f64::INFINITY
            } else if mean < 0.0 {
                f64::NEG_INFINITY
            } else {
                0.0
            };
        }
        mean / variance.sqrt()
    }
}

/// What every split produced: the in-sample winner's logit and its metrics.
struct CscvOutcome {
    logits: Vec<f64>,
    winner_is: Vec<f64>,
    winner_oos: Vec<f64>,
}

impl CscvOutcome {
    fn into_pbo(self, blocks: usize, trials: usize) -> Pbo {
        let splits = self.logits.len() as f64;
        let overfit = self.logits.iter().filter(|l| **l <= 0.0).count();
        let losses = self.winner_oos.iter().filter(|m| **m < 0.0).count();
        let (slope, intercept) = regression(&self.winner_is, &self.winner_oos);
        Pbo {
            pbo: overfit as f64 / splits,
            blocks,
            trials,
            logit_summary: LogitSummary::of(&self.logits),
            logits: self.logits,
            degradation_slope: slope,
            degradation_intercept: intercept,
            prob_oos_loss: losses as f64 / splits,
        }
    }
}

/// Enumerates every choice of `blocks / 2` in-sample blocks in lexicographic order, has
/// `evaluate` fill in the in- and out-of-sample metric of every trial, and collects the winner's
/// logit.
fn run_cscv(
    blocks: usize,
    trials: usize,
    mut evaluate: impl FnMut(&[usize], &mut [f64], &mut [f64]),
) -> CscvOutcome {
    let half = blocks / 2;
    let mut is_metric = vec![0.0; trials];
    let mut oos_metric = vec![0.0; trials];
    let mut chosen: Vec<usize> = (0..half).collect();
    let mut outcome = CscvOutcome {
        logits: Vec::new(),
        winner_is: Vec::new(),
        winner_oos: Vec::new(),
    };
    loop {
        evaluate(&chosen, &mut is_metric, &mut oos_metric);
        let mut best = 0;
        for (j, value) in is_metric.iter().enumerate().skip(1) {
            if *value > is_metric[best] {
                best = j;
            }
        }
        let target = oos_metric[best];
        let below = oos_metric.iter().filter(|m| **m < target).count();
        let equal = oos_metric.iter().filter(|m| **m == target).count();
        // Average rank among ties: ranks below+1 ..= below+equal.
        let rank = below as f64 + (equal as f64 + 1.0) / 2.0;
        let omega = rank / (trials as f64 + 1.0);
        outcome.logits.push((omega / (1.0 - omega)).ln());
        outcome.winner_is.push(is_metric[best]);
        outcome.winner_oos.push(target);
        if !next_combination(&mut chosen, blocks) {
            return outcome;
        }
    }
}

/// Advances `chosen` (strictly increasing indices below `n`) to the next combination in
/// lexicographic order; false after the last one.
fn next_combination(chosen: &mut [usize], n: usize) -> bool {
    let k = chosen.len();
    let mut i = k;
    while i > 0 {
        i -= 1;
        if chosen[i] < n - k + i {
            chosen[i] += 1;
            for j in i + 1..k {
                chosen[j] = chosen[j - 1] + 1;
            }
            return true;
        }
    }
    false
}

/// Least-squares slope and intercept of `y` on `x`, over the pairs where both are finite.
fn regression(x: &[f64], y: &[f64]) -> (Option<f64>, Option<f64>) {
    let pairs: Vec<(f64, f64)> = x
        .iter()
        .zip(y)
        .filter(|(a, b)| a.is_finite() && b.is_finite())
        .map(|(a, b)| (*a, *b))
        .collect();
    if pairs.len() < 2 {
        return (None, None);
    }
    let n = pairs.len() as f64;
    let mx = pairs.iter().map(|p| p.0).sum::<f64>() / n;
    let my = pairs.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = pairs.iter().map(|p| (p.0 - mx).powi(2)).sum();
    let sxy: f64 = pairs.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    if sxx.is_nan() || sxx <= 0.0 {
        return (None, None);
    }
    let slope = sxy / sxx;
    (Some(slope), Some(my - slope * mx))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol * (1.0 + b.abs())
    }

    /// SplitMix64 plus Box–Muller: a seeded normal generator so noise tests are reproducible.
    struct Noise(u64);

    impl Noise {
        fn uniform(&mut self) -> f64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            ((z >> 11) as f64 + 0.5) / (1u64 << 53) as f64
        }

        fn normal(&mut self) -> f64 {
            let (u, v) = (self.uniform(), self.uniform());
            (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
        }

        /// `trials` series of `rows` N(mean_j, 0.01²) returns; `edge` adds to trial 0's mean.
        fn matrix(&mut self, trials: usize, rows: usize, edge: f64) -> Vec<Vec<f64>> {
            (0..trials)
                .map(|j| {
                    let mean = if j == 0 { edge } else { 0.0 };
                    (0..rows).map(|_| mean + 0.01 * self.normal()).collect()
                })
                .collect()
        }
    }

    // Reference values from Python 3 with SciPy 1.17.1 / NumPy:
    //   norm.cdf(1.5), norm.cdf(-3), norm.ppf(0.975), norm.ppf(1e-10), norm.ppf(0.999).
    #[test]
    fn normal_functions_match_scipy() {
        assert!(close(normal_cdf(1.5), 0.933_192_798_731_141_9, 1e-14));
        assert!(close(normal_cdf(-3.0), 0.001_349_898_031_630_093_3, 1e-13));
        assert!(close(normal_quantile(0.975), 1.959_963_984_540_054, 1e-13));
        assert!(close(normal_quantile(1e-10), -6.361_340_902_404_056, 1e-13));
        assert!(close(normal_quantile(0.999), 3.090_232_306_167_813, 1e-13));
        assert_eq!(normal_quantile(0.0), f64::NEG_INFINITY);
        assert!(normal_quantile(1.5).is_nan());
    }

    // Python: psr = norm.cdf((sr - b) * sqrt(T - 1) / sqrt(1 - sk*sr + (ku - 1)/4 * sr**2));
    // emax = sqrt(V) * ((1 - g) * norm.ppf(1 - 1/N) + g * norm.ppf(1 - 1/(N*e))),
    // g = numpy.euler_gamma. SR 0.1, skew −0.5, kurtosis 5, T 1000, N 100, V 0.0025.
    #[test]
    fn psr_and_dsr_match_scipy() {
        let stats = SharpeStats {
            sharpe: 0.1,
            skewness: -0.5,
            kurtosis: 5.0,
            observations: 1000,
        };
        let psr = probabilistic_sharpe(&stats, 0.0).unwrap();
        assert!(close(psr, 0.998_929_489_182_33, 1e-12), "{psr}");
        let emax = expected_max_sharpe(100, 0.0025).unwrap();
        assert!(close(emax, 0.126_530_144_660_084_25, 1e-12), "{emax}");
        let emax10 = expected_max_sharpe(10, 0.01).unwrap();
        assert!(close(emax10, 0.157_459_830_134_575, 1e-12), "{emax10}");
        let dsr = deflated_sharpe(&stats, 100, 0.0025).unwrap();
        assert!(
            close(dsr.dsr, 0.207_690_916_550_365_42, 1e-11),
            "{}",
            dsr.dsr
        );
        assert!(close(dsr.psr, psr, 1e-15));
        assert_eq!(dsr.expected_max_sharpe, emax);
    }

    // Python: r = [0.01, -0.02, 0.015, 0.003, -0.007, 0.012, 0.02, -0.01, 0.005, 0.0];
    // sr = r.mean() / r.std(ddof=1); scipy.stats.skew(r); kurtosis(r, fisher=False);
    // PSR vs 0, and DSR with N = 5, V = 0.04.
    #[test]
    fn stats_from_returns_match_scipy() {
        let r = [
            0.01, -0.02, 0.015, 0.003, -0.007, 0.012, 0.02, -0.01, 0.005, 0.0,
        ];
        let s = SharpeStats::from_returns(&r).unwrap();
        assert!(close(s.sharpe, 0.226_646_566_879_784_3, 1e-12));
        assert!(close(s.skewness, -0.425_237_196_483_527_2, 1e-12));
        assert!(close(s.kurtosis, 2.257_350_609_157_321, 1e-12));
        assert_eq!(s.observations, 10);
        let d = deflated_sharpe(&s, 5, 0.04).unwrap();
        assert!(close(d.psr, 0.740_418_847_892_863_9, 1e-12));
        assert!(close(d.dsr, 0.486_531_283_898_984_15, 1e-12));
    }

    #[test]
    fn degenerate_inputs_have_no_sharpe() {
        assert_eq!(SharpeStats::from_returns(&[0.01]), None);
        assert_eq!(SharpeStats::from_returns(&[0.01, 0.01, 0.01]), None);
        assert_eq!(SharpeStats::from_returns(&[0.01, f64::NAN]), None);
        assert_eq!(expected_max_sharpe(0, 1.0), None);
        assert_eq!(expected_max_sharpe(1, 1.0), Some(0.0));
        assert_eq!(expected_max_sharpe(5, -1.0), None);
    }

    #[test]
    fn trial_variance_is_sample_variance() {
        let stats = SharpeStats::from_returns(&[0.01, -0.005, 0.02, 0.0, 0.01]).unwrap();
        let d = deflated_sharpe_of_trials(&stats, &[0.1, 0.2, 0.3]).unwrap();
        assert_eq!(d.trials, 3);
        assert!(close(d.trials_sharpe_variance, 0.01, 1e-12));
        assert_eq!(deflated_sharpe_of_trials(&stats, &[]), None);
    }

    /// Each row block is two equal returns, so a trial's mean over a half is the mean of its block
    /// values there. Blocks (4 trials × 4 blocks):
    ///
    /// ```text
    /// T0  6 0 0 0   one lucky block
    /// T1  2 2 2 2   steady
    /// T2  0 3 1 1
    /// T3  1 1 1 1
    /// ```
    ///
    /// In-sample {0,1}, {0,2}, {0,3}: T0 wins (mean 3) and is last out of sample (mean 0):
    /// rank 1, ω̄ = 1/5, λ = ln(1/4). In-sample {1,2} and {1,3}: T1 and T2 tie at 2, T1 wins by
    /// index; out of sample T0 3 > T1 2 > T3 1 > T2 0.5, so rank 3, ω̄ = 3/5, λ = ln(3/2).
    /// In-sample {2,3}: T1 wins (2 vs 1, 1, 1); out of sample T0 3 > T1 2 > T2 1.5 > T3 1:
    /// λ = ln(3/2). PBO = 3/6.
    #[test]
    fn pbo_hand_worked_four_trials_four_blocks() {
        let blocks = [
            [6.0, 0.0, 0.0, 0.0],
            [2.0; 4],
            [0.0, 3.0, 1.0, 1.0],
            [1.0; 4],
        ];
        let trials: Vec<Vec<f64>> = blocks
            .iter()
            .map(|b| b.iter().flat_map(|&m| [m, m]).collect())
            .collect();
        let mean = |x: &[f64]| x.iter().sum::<f64>() / x.len() as f64;
        let pbo = pbo_cscv_by(&trials, 4, mean).unwrap();
        assert_eq!(pbo.splits(), 6);
        assert_eq!(pbo.pbo, 0.5);
        let lucky = (0.25f64).ln();
        let steady = (1.5f64).ln();
        let expected = [lucky, lucky, lucky, steady, steady, steady];
        for (got, want) in pbo.logits.iter().zip(expected) {
            assert!(close(*got, want, 1e-12), "{:?}", pbo.logits);
        }
        assert!(close(
            pbo.logit_summary.median,
            (lucky + steady) / 2.0,
            1e-12
        ));
        assert_eq!(pbo.prob_oos_loss, 0.0);
        // The lucky winner's in-sample 3 went with 0 out of sample, the steady one's 2 with 2:
        // slope (2 − 0) / (2 − 3) = −2.
        assert!(close(pbo.degradation_slope.unwrap(), -2.0, 1e-12));
    }

    /// Two trials that swap roles between the halves: whichever wins in sample loses out of
    /// sample, so every split overfits.
    #[test]
    fn pbo_is_one_when_the_winner_always_flips() {
        let a = vec![0.02, 0.01, 0.03, 0.02, -0.01, -0.02, -0.015, -0.01];
        let b: Vec<f64> = a.iter().rev().copied().collect();
        let pbo = pbo_cscv(&[a, b], 2).unwrap();
        assert_eq!(pbo.splits(), 2);
        assert_eq!(pbo.pbo, 1.0);
        assert_eq!(pbo.prob_oos_loss, 1.0);
    }

    #[test]
    fn sharpe_fast_path_matches_generic_metric() {
        let trials = Noise(7).matrix(6, 120, 0.002);
        let sharpe = |x: &[f64]| SharpeStats::from_returns(x).map_or(0.0, |s| s.sharpe);
        let fast = pbo_cscv(&trials, 8).unwrap();
        let slow = pbo_cscv_by(&trials, 8, sharpe).unwrap();
        assert_eq!(fast.splits(), 70);
        assert_eq!(fast.pbo, slow.pbo);
        for (a, b) in fast.logits.iter().zip(&slow.logits) {
            assert!(close(*a, *b, 1e-12));
        }
    }

    /// Pure noise. Issue 4 asks for "PBO near 1", but that is not what CSCV gives for independent
    /// zero-edge trials: selection then carries no information, the in-sample winner's
    /// out-of-sample rank is uniform, and PBO ≈ 0.5 in expectation (published replications:
    /// 0.48 ± 0.14 for N = 200, S = 16). PBO nears 1 only when selection is anti-informative.
    /// One matrix is one draw of that wide spread, so we average 6 seeded matrices and accept a
    /// mean in 0.4 ..= 0.65, and each single PBO must be at least 0.2, far from the ≈ 0 of a real
    /// edge below. (These seeds give 0.56, 0.33, 0.87, 0.26, 0.40, 0.60: mean 0.50.)
    #[test]
    fn pbo_of_pure_noise_is_about_one_half() {
        let mut noise = Noise(2015);
        let values: Vec<f64> = (0..6)
            .map(|_| pbo_cscv(&noise.matrix(40, 800, 0.0), 16).unwrap().pbo)
            .collect();
        let mean = values.iter().sum::<f64>() / values.len() as f64;
        assert!((0.4..=0.65).contains(&mean), "{values:?}");
        assert!(values.iter().all(|p| *p >= 0.2), "{values:?}");
    }

    /// Trial 0 has a per-period Sharpe of 0.25 among 39 noise trials, well above the ≈ 0.1 the
    /// luckiest noise trial reaches on half of 1,000 periods: it wins in sample and stays on top
    /// out of sample. (With a Sharpe of 0.15 it is only marginally above that luck, and PBO is
    /// about 0.2 for this seed.)
    #[test]
    fn pbo_of_a_real_edge_is_near_zero() {
        let trials = Noise(42).matrix(40, 1000, 0.0025);
        let pbo = pbo_cscv(&trials, 16).unwrap();
        assert_eq!(pbo.splits(), 12_870);
        assert!(pbo.pbo < 0.05, "{}", pbo.pbo);
        assert!(pbo.logit_summary.median > 2.0, "{:?}", pbo.logit_summary);
    }

    #[test]
    fn pbo_rejects_bad_input() {
        let ok = vec![vec![0.01, 0.02, -0.01, 0.0]; 2];
        assert_eq!(
            pbo_cscv(&ok, 3).unwrap_err(),
            OverfitError::InvalidBlocks { blocks: 3 }
        );
        assert_eq!(
            pbo_cscv(&ok, 0).unwrap_err(),
            OverfitError::InvalidBlocks { blocks: 0 }
        );
        assert_eq!(
            pbo_cscv(&ok, 26).unwrap_err(),
            OverfitError::InvalidBlocks { blocks: 26 }
        );
        assert_eq!(
            pbo_cscv(&ok[..1], 2).unwrap_err(),
            OverfitError::TooFewTrials { trials: 1 }
        );
        assert_eq!(
            pbo_cscv(&ok, 4).unwrap_err(),
            OverfitError::TooFewRows {
                rows: 4,
                blocks: 4,
                needed: 8
            }
        );
        let ragged = vec![vec![0.01; 4], vec![0.01; 5]];
        assert_eq!(
            pbo_cscv(&ragged, 2).unwrap_err(),
            OverfitError::RaggedTrials {
                trial: 1,
                len: 5,
                expected: 4
            }
        );
        let nan = vec![vec![0.01; 4], vec![0.01, f64::NAN, 0.0, 0.0]];
        assert_eq!(
            pbo_cscv(&nan, 2).unwrap_err(),
            OverfitError::NonFinite { trial: 1, row: 1 }
        );
    }

    #[test]
    fn combinations_are_enumerated_in_order() {
        let mut c = vec![0, 1];
        let mut seen = vec![c.clone()];
        while next_combination(&mut c, 4) {
            seen.push(c.clone());
        }
        assert_eq!(
            seen,
            [[0, 1], [0, 2], [0, 3], [1, 2], [1, 3], [2, 3]].map(Vec::from)
        );
    }

    mod properties {
        use proptest::prelude::*;

        use super::super::*;

        proptest! {
            #[test]
            fn prop_pbo_is_a_probability(
                seed in any::<u64>(),
                trials in 2usize..6,
                half in 1usize..4,
            ) {
                let blocks = 2 * half;
                let matrix = super::Noise(seed).matrix(trials, 4 * blocks, 0.0);
                let pbo = pbo_cscv(&matrix, blocks).unwrap();
                prop_assert!((0.0..=1.0).contains(&pbo.pbo));
                prop_assert!((0.0..=1.0).contains(&pbo.prob_oos_loss));
                prop_assert!(pbo.logits.iter().all(|l| l.is_finite()));
            }

            #[test]
            fn prop_dsr_is_a_probability_and_falls_with_trials(
                sharpe in -0.5f64..0.5,
                skewness in -1.0f64..1.0,
                kurtosis in 2.0f64..8.0,
                observations in 10usize..5000,
                variance in 1e-6f64..0.05,
                trials in 1usize..500,
                extra in 1usize..500,
            ) {
                let stats = SharpeStats { sharpe, skewness, kurtosis, observations };
                if let Some(few) = deflated_sharpe(&stats, trials, variance) {
                    let many = deflated_sharpe(&stats, trials + extra, variance).unwrap();
                    prop_assert!((0.0..=1.0).contains(&few.dsr));
                    prop_assert!((0.0..=1.0).contains(&many.dsr));
                    prop_assert!(many.expected_max_sharpe > few.expected_max_sharpe);
                    prop_assert!(many.dsr <= few.dsr);
                    prop_assert!(few.dsr <= few.psr + 1e-15);
                }
            }
        }
    }
}
