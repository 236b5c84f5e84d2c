//! Prometheus metrics without a global recorder: families of counters, gauges and histograms
//! registered in a [`Registry`] that is passed around explicitly (two engines in one test
//! process never share a series), rendered in the text exposition format.
//!
//! [`EngineMetrics`] are the execution engine's series; every name is listed in
//! `docs/metrics.md`, which alert rules are checked against.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

/// Upper bounds (seconds) of the latency histograms: 25 µs to 10 s.
pub const LATENCY_BUCKETS: &[f64] = &[
    0.000_025, 0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1,
    0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Something [`Registry::render`] can print.
trait Family: Send + Sync {
    fn render(&self, out: &mut String);
    fn name(&self) -> &str;
}

/// The metrics of one process, rendered by `/metrics`.
#[derive(Clone, Default)]
pub struct Registry {
    families: Arc<Mutex<Vec<Arc<dyn Family>>>>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("families", &self.names())
            .finish()
    }
}

impl Registry {
    /// An empty registry.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    fn add<F: Family + 'static>(&self, family: Arc<F>) -> Arc<F> {
        self.families
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(family.clone());
        family
    }

    /// A counter family.
    #[must_use]
    pub fn counter(&self, name: &str, help: &str, labels: &[&str]) -> Arc<Counter> {
        self.add(Arc::new(Counter(Series::new(
            name, help, labels, "counter",
        ))))
    }

    /// A gauge family.
    #[must_use]
    pub fn gauge(&self, name: &str, help: &str, labels: &[&str]) -> Arc<Gauge> {
        self.add(Arc::new(Gauge(Series::new(name, help, labels, "gauge"))))
    }

    /// A histogram family with the given bucket upper bounds (seconds for latencies).
    #[must_use]
    pub fn histogram(
        &self,
        name: &str,
        help: &str,
        labels: &[&str],
        buckets: &'static [f64],
    ) -> Arc<Histogram> {
        self.add(Arc::new(Histogram {
            name: name.to_owned(),
            help: help.to_owned(),
            labels: labels.iter().map(|l| (*l).to_owned()).collect(),
            buckets,
            cells: Mutex::new(BTreeMap::new()),
        }))
    }

    /// The names of the registered families.
    #[must_use]
    pub fn names(&self) -> Vec<String> {
        self.families
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|f| f.name().to_owned())
            .collect()
    }

    /// Every family in the Prometheus text format (version 0.0.4).
    #[must_use]
    pub fn render(&self) -> String {
        let families = self
            .families
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let mut out = String::with_capacity(4096);
        for f in families {
            f.render(&mut out);
        }
        out
    }
}

/// Label values → value, for counters and gauges (f64 bits in an atomic).
struct Series {
    name: String,
    help: String,
    kind: &'static str,
    labels: Vec<String>,
    values: Mutex<BTreeMap<Vec<String>, Arc<AtomicU64>>>,
}

impl Series {
    fn new(name: &str, help: &str, labels: &[&str], kind: &'static str) -> Self {
        Self {
            name: name.to_owned(),
            help: help.to_owned(),
            kind,
            labels: labels.iter().map(|l| (*l).to_owned()).collect(),
            values: Mutex::new(BTreeMap::new()),
        }
    }

    fn cell(&self, values: &[&str]) -> Arc<AtomicU64> {
        let key: Vec<String> = values.iter().map(|v| (*v).to_owned()).collect();
        let mut map = self.values.lock().unwrap_or_else(PoisonError::into_inner);
        map.entry(key)
            .or_insert_with(|| Arc::new(AtomicU64::new(0f64.to_bits())))
            .clone()
    }

    fn render(&self, out: &mut String) {
        let _ = writeln!(out, "# HELP {} {}", self.name, self.help);
        let _ = writeln!(out, "# TYPE {} {}", self.name, self.kind);
        let map = self.values.lock().unwrap_or_else(PoisonError::into_inner);
        for (values, cell) in map.iter() {
            let v = f64::from_bits(cell.load(Ordering::Relaxed));
            let _ = writeln!(
                out,
                "{}{} {}",
                self.name,
                labels(&self.labels, values, None),
                v
            );
        }
    }
}

fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn labels(names: &[String], values: &[String], le: Option<&str>) -> String {
    if names.is_empty() && le.is_none() {
        return String::new();
    }
    let mut parts: Vec<String> = names
        .iter()
        .zip(values)
        .map(|(n, v)| format!("{n}=\"{}\"", escape(v)))
        .collect();
    if let Some(le) = le {
        parts.push(format!("le=\"{le}\""));
    }
    format!("{{{}}}", parts.join(","))
}

fn add_f64(cell: &AtomicU64, delta: f64) {
    let _ = cell.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |bits| {
        Some((f64::from_bits(bits) + delta).to_bits())
    });
}

/// A counter family (monotonic).
pub struct Counter(Series);

impl Counter {
    /// Adds `n` to the series with these label values (in the family's label order).
    pub fn add(&self, values: &[&str], n: u64) {
        add_f64(&self.0.cell(values), n as f64);
    }

    /// Adds one.
    pub fn inc(&self, values: &[&str]) {
        self.add(values, 1);
    }

    /// Makes the series exist at zero (so alert rules see it before the first event).
    pub fn touch(&self, values: &[&str]) {
        let _ = self.0.cell(values);
    }

    /// The current value.
    #[must_use]
    pub fn get(&self, values: &[&str]) -> f64 {
        f64::from_bits(self.0.cell(values).load(Ordering::Relaxed))
    }
}

impl Family for Counter {
    fn render(&self, out: &mut String) {
        self.0.render(out);
    }
    fn name(&self) -> &str {
        &self.0.name
    }
}

/// A gauge family.
pub struct Gauge(Series);

impl Gauge {
    /// Sets the series with these label values.
    pub fn set(&self, values: &[&str], v: f64) {
        self.0.cell(values).store(v.to_bits(), Ordering::Relaxed);
    }

    /// The current value.
    #[must_use]
    pub fn get(&self, values: &[&str]) -> f64 {
        f64::from_bits(self.0.cell(values).load(Ordering::Relaxed))
    }
}

impl Family for Gauge {
    fn render(&self, out: &mut String) {
        self.0.render(out);
    }
    fn name(&self) -> &str {
        &self.0.name
    }
}

struct HistogramCell {
    buckets: Vec<AtomicU64>,
    count: AtomicU64,
    sum: AtomicU64,
}

/// A histogram family (cumulative buckets, `_sum`, `_count`).
pub struct Histogram {
    name: String,
    help: String,
    labels: Vec<String>,
    buckets: &'static [f64],
    cells: Mutex<BTreeMap<Vec<String>, Arc<HistogramCell>>>,
}

impl Histogram {
    fn cell(&self, values: &[&str]) -> Arc<HistogramCell> {
        let key: Vec<String> = values.iter().map(|v| (*v).to_owned()).collect();
        let mut map = self.cells.lock().unwrap_or_else(PoisonError::into_inner);
        map.entry(key)
            .or_insert_with(|| {
                Arc::new(HistogramCell {
                    buckets: self.buckets.iter().map(|_| AtomicU64::new(0)).collect(),
                    count: AtomicU64::new(0),
                    sum: AtomicU64::new(0f64.to_bits()),
                })
            })
            .clone()
    }

    /// Records one observation.
    pub fn observe(&self, values: &[&str], v: f64) {
        let cell = self.cell(values);
        if let Some(i) = self.buckets.iter().position(|b| v <= *b) {
            cell.buckets[i].fetch_add(1, Ordering::Relaxed);
        }
        cell.count.fetch_add(1, Ordering::Relaxed);
        add_f64(&cell.sum, v);
    }

    /// Makes the series exist with no observation.
    pub fn touch(&self, values: &[&str]) {
        let _ = self.cell(values);
    }

    /// Observations so far.
    #[must_use]
    pub fn count(&self, values: &[&str]) -> u64 {
        self.cell(values).count.load(Ordering::Relaxed)
    }
}

impl Family for Histogram {
    fn render(&self, out: &mut String) {
        let _ = writeln!(out, "# HELP {} {}", self.name, self.help);
        let _ = writeln!(out, "# TYPE {} histogram", self.name);
        let map = self.cells.lock().unwrap_or_else(PoisonError::into_inner);
        for (values, cell) in map.iter() {
            let mut cumulative = 0u64;
            for (bound, n) in self.buckets.iter().zip(&cell.buckets) {
                cumulative += n.load(Ordering::Relaxed);
                let le = format!("{bound}");
                let _ = writeln!(
                    out,
                    "{}_bucket{} {cumulative}",
                    self.name,
                    labels(&self.labels, values, Some(&le))
                );
            }
            let count = cell.count.load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "{}_bucket{} {count}",
                self.name,
                labels(&self.labels, values, Some("+Inf"))
            );
            let sum = f64::from_bits(cell.sum.load(Ordering::Relaxed));
            let _ = writeln!(
                out,
                "{}_sum{} {sum}",
                self.name,
                labels(&self.labels, values, None)
            );
            let _ = writeln!(
                out,
                "{}_count{} {count}",
                self.name,
                labels(&self.labels, values, None)
            );
        }
    }
    fn name(&self) -> &str {
        &self.name
    }
}

/// A family whose series are read when `/metrics` is rendered (process statistics, counts kept
/// outside the registry), not stored in it.
struct Collected {
    name: String,
    help: String,
    kind: &'static str,
    labels: Vec<String>,
    collect: Box<dyn Fn() -> Vec<(Vec<String>, f64)> + Send + Sync>,
}

impl Family for Collected {
    fn render(&self, out: &mut String) {
        let _ = writeln!(out, "# HELP {} {}", self.name, self.help);
        let _ = writeln!(out, "# TYPE {} {}", self.name, self.kind);
        for (values, v) in (self.collect)() {
            let _ = writeln!(
                out,
                "{}{} {}",
                self.name,
                labels(&self.labels, &values, None),
                v
            );
        }
    }
    fn name(&self) -> &str {
        &self.name
    }
}

impl Registry {
    /// A family computed at every render by `collect` (label values → value); `kind` is
    /// `counter` or `gauge`.
    fn collected(
        &self,
        name: &str,
        help: &str,
        kind: &'static str,
        labels: &[&str],
        collect: impl Fn() -> Vec<(Vec<String>, f64)> + Send + Sync + 'static,
    ) {
        let _ = self.add(Arc::new(Collected {
            name: name.to_owned(),
            help: help.to_owned(),
            kind,
            labels: labels.iter().map(|l| (*l).to_owned()).collect(),
            collect: Box::new(collect),
        }));
    }

    /// The series every service exports besides its own: `tradepulse_log_messages_total{level}`
    /// (from [`LOG_MESSAGES`]) and the standard process collector's `process_*` series (read
    /// from `/proc/self` on Linux; elsewhere the families are exported without series).
    pub fn register_process_metrics(&self) {
        self.collected(
            "tradepulse_log_messages_total",
            "Log events written, by level.",
            "counter",
            &["level"],
            || {
                LOG_MESSAGES
                    .counts()
                    .into_iter()
                    .map(|(level, n)| (vec![level.to_owned()], n as f64))
                    .collect()
            },
        );
        self.collected(
            "process_resident_memory_bytes",
            "Resident memory size in bytes.",
            "gauge",
            &[],
            || one(process::resident_bytes()),
        );
        self.collected(
            "process_cpu_seconds_total",
            "Total user and system CPU time spent in seconds.",
            "counter",
            &[],
            || one(process::cpu_seconds()),
        );
        self.collected(
            "process_open_fds",
            "Number of open file descriptors.",
            "gauge",
            &[],
            || one(process::open_fds()),
        );
        self.collected(
            "process_start_time_seconds",
            "Start time of the process since the Unix epoch in seconds.",
            "gauge",
            &[],
            || one(process::start_time_seconds()),
        );
    }
}

/// One unlabelled series, or none.
fn one(v: Option<f64>) -> Vec<(Vec<String>, f64)> {
    v.map(|v| (Vec::new(), v)).into_iter().collect()
}

/// Log events by level, counted by the binary's tracing layer (one per process, as the log
/// stream is) and exported as `tradepulse_log_messages_total{level}` by every registry that
/// called [`Registry::register_process_metrics`].
pub static LOG_MESSAGES: LogCounts = LogCounts {
    counts: [
        AtomicU64::new(0),
        AtomicU64::new(0),
        AtomicU64::new(0),
        AtomicU64::new(0),
        AtomicU64::new(0),
    ],
};

/// `tradepulse_market_data_gaps_total{source, instrument}`: market-data gaps found after a
/// disconnect or a restart, each one backfilled (the Binance feed counts them).
#[must_use]
pub fn market_data_gaps(registry: &Registry) -> Arc<Counter> {
    registry.counter(
        "tradepulse_market_data_gaps_total",
        "Market-data gaps detected (disconnects), each backfilled.",
        &["source", "instrument"],
    )
}

/// Counts of log events per level (see [`LOG_MESSAGES`]).
#[derive(Debug)]
pub struct LogCounts {
    counts: [AtomicU64; 5],
}

const LEVELS: [&str; 5] = ["error", "warn", "info", "debug", "trace"];

impl LogCounts {
    /// Counts one event of `level`.
    pub fn record(&self, level: &tracing::Level) {
        let i = match *level {
            tracing::Level::ERROR => 0,
            tracing::Level::WARN => 1,
            tracing::Level::INFO => 2,
            tracing::Level::DEBUG => 3,
            tracing::Level::TRACE => 4,
        };
        self.counts[i].fetch_add(1, Ordering::Relaxed);
    }

    /// `(level, events)` for every level (`error`, `warn`, `info`, `debug`, `trace`), zeros
    /// included, so the error-log alert has a series before the first error.
    #[must_use]
    pub fn counts(&self) -> Vec<(&'static str, u64)> {
        LEVELS
            .iter()
            .zip(&self.counts)
            .map(|(l, c)| (*l, c.load(Ordering::Relaxed)))
            .collect()
    }
}

/// The standard process collector's values, from procfs (`proc(5)`), as Prometheus's own
/// client libraries read them. `None` where procfs is missing or unreadable.
mod process {
    /// `/proc/[pid]/stat` times are in clock ticks of `USER_HZ`, which Linux fixes at 100 for
    /// user space on every architecture (Prometheus's procfs library assumes the same).
    const USER_HZ: f64 = 100.0;

    /// Fields 3.. of `/proc/self/stat` (after the command name, which may hold spaces).
    fn stat_fields(stat: &str) -> Option<Vec<&str>> {
        let (_, rest) = stat.rsplit_once(')')?;
        Some(rest.split_whitespace().collect())
    }

    /// Field `n` (1-based, as `proc(5)` numbers them) of `/proc/self/stat`, as a number.
    fn stat_field(stat: &str, n: usize) -> Option<f64> {
        stat_fields(stat)?.get(n.checked_sub(3)?)?.parse().ok()
    }

    fn read(path: &str) -> Option<String> {
        std::fs::read_to_string(path).ok()
    }

    pub(super) fn cpu_seconds() -> Option<f64> {
        let stat = read("/proc/self/stat")?;
        // utime (14) + stime (15)
        Some((stat_field(&stat, 14)? + stat_field(&stat, 15)?) / USER_HZ)
    }

    pub(super) fn start_time_seconds() -> Option<f64> {
        let stat = read("/proc/self/stat")?;
        // starttime (22): ticks after boot; btime: boot time (Unix seconds) in /proc/stat.
        let boot: f64 = read("/proc/stat")?
            .lines()
            .find_map(|l| l.strip_prefix("btime "))?
            .trim()
            .parse()
            .ok()?;
        Some(boot + stat_field(&stat, 22)? / USER_HZ)
    }

    pub(super) fn resident_bytes() -> Option<f64> {
        // VmRSS in kB: no page-size lookup needed.
        let kb: f64 = read("/proc/self/status")?
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))?
            .trim()
            .strip_suffix("kB")?
            .trim()
            .parse()
            .ok()?;
        Some(kb * 1024.0)
    }

    pub(super) fn open_fds() -> Option<f64> {
        // The directory handle read_dir holds is one of the entries; do not count it.
        let n = std::fs::read_dir("/proc/self/fd").ok()?.count();
        Some(n.saturating_sub(1) as f64)
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn stat_fields_survive_a_command_name_with_spaces_and_parens() {
            let stat = "42 (my (odd) cmd) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 3 0 12345 1000 200";
            assert_eq!(stat_field(stat, 3), None); // "S" is not a number
            assert_eq!(stat_field(stat, 14), Some(250.0));
            assert_eq!(stat_field(stat, 15), Some(50.0));
            assert_eq!(stat_field(stat, 22), Some(12345.0));
            assert_eq!(stat_field(stat, 2), None);
            assert_eq!(stat_field("no paren", 14), None);
        }
    }
}

/// The execution engine's series (see `docs/metrics.md`).
#[derive(Clone)]
pub struct EngineMetrics {
    /// `tradepulse_orders_submitted_total{venue}`: orders sent to the venue.
    pub orders: Arc<Counter>,
    /// `tradepulse_fills_total{venue}`: executions booked.
    pub fills: Arc<Counter>,
    /// `tradepulse_order_rejects_total{venue,reason}`: refusals (risk, journal) and venue
    /// rejections, by reason code.
    pub rejects: Arc<Counter>,
    /// `tradepulse_order_decision_to_ack_seconds{venue}`.
    pub decision_to_ack: Arc<Histogram>,
    /// `tradepulse_order_decision_to_fill_seconds{venue}`.
    pub decision_to_fill: Arc<Histogram>,
    /// `tradepulse_kill_switch_active{scope}`: 1 while engaged.
    pub kill_switch: Arc<Gauge>,
    /// `tradepulse_reconciliation_ok`: 1 when the last reconciliation completed.
    pub reconciliation_ok: Arc<Gauge>,
    /// `tradepulse_reconciliation_last_success_timestamp_seconds`.
    pub reconciliation_last_success: Arc<Gauge>,
    /// `tradepulse_reconciliation_lag_seconds`: time since the last complete reconciliation.
    pub reconciliation_lag: Arc<Gauge>,
    /// `tradepulse_reconciliation_runs_total{outcome}`.
    pub reconciliation_runs: Arc<Counter>,
    /// `tradepulse_reconciliation_failures_total`: runs whose venue snapshot failed (the
    /// alert rules' name; the same runs as `outcome="failed"` above).
    pub reconciliation_failures: Arc<Counter>,
    /// `tradepulse_reconciliation_adjustments_total{kind}`.
    pub reconciliation_adjustments: Arc<Counter>,
    /// `tradepulse_venue_request_weight_used{venue,interval}`.
    pub venue_weight: Arc<Gauge>,
    /// `tradepulse_venue_request_weight_limit{venue,interval}`: the venue's limit (Binance
    /// exchangeInfo `rateLimits`); no series for a venue without one (the simulator).
    pub venue_weight_limit: Arc<Gauge>,
    /// `tradepulse_venue_order_count_used{venue,interval}`.
    pub venue_order_count: Arc<Gauge>,
    /// `tradepulse_open_orders{venue}`.
    pub open_orders: Arc<Gauge>,
    /// `tradepulse_reports_ignored_total{venue,why}`: stale, unknown or contradicting reports.
    pub reports_ignored: Arc<Counter>,
    /// `tradepulse_risk_checks_total{outcome}`: pre-trade checks of intents, `accepted` or the
    /// refusal's reason code (not counted: a repeated id, a journal failure).
    pub risk_checks: Arc<Counter>,
    /// `tradepulse_canary_limit_breaches_total{strategy}`: risk-limit refusals of canary
    /// strategies (each one engages the canary's kill switch).
    pub canary_breaches: Arc<Counter>,
    /// `tradepulse_journal_flush_seconds`: time to make a batch durable.
    pub journal_flush: Arc<Histogram>,
    /// `tradepulse_journal_flush_failures_total`.
    pub journal_failures: Arc<Counter>,
    /// `tradepulse_engine_ready`: 1 once restored and reconciled.
    pub ready: Arc<Gauge>,
}

impl EngineMetrics {
    /// Registers the engine's families in `registry` and creates the series alert rules need
    /// from the start (zero counts, the global kill switch off).
    #[must_use]
    pub fn register(registry: &Registry, venue: &str) -> Self {
        let m = Self {
            orders: registry.counter("tradepulse_orders_submitted_total", "Orders sent to the venue.", &["venue"]),
            fills: registry.counter("tradepulse_fills_total", "Executions booked into the portfolio.", &["venue"]),
            rejects: registry.counter(
                "tradepulse_order_rejects_total",
                "Orders refused before the venue (risk, journal) or rejected by it, by reason code.",
                &["venue", "reason"],
            ),
            decision_to_ack: registry.histogram(
                "tradepulse_order_decision_to_ack_seconds",
                "From the decision (the intent's time) to the venue's acknowledgement.",
                &["venue"],
                LATENCY_BUCKETS,
            ),
            decision_to_fill: registry.histogram(
                "tradepulse_order_decision_to_fill_seconds",
                "From the decision to the order's first execution.",
                &["venue"],
                LATENCY_BUCKETS,
            ),
            kill_switch: registry.gauge(
                "tradepulse_kill_switch_active",
                "1 while the kill switch of the scope is engaged.",
                &["scope"],
            ),
            reconciliation_ok: registry.gauge(
                "tradepulse_reconciliation_ok",
                "1 when the last reconciliation with the venue completed, 0 while it fails or has not run.",
                &[],
            ),
            reconciliation_last_success: registry.gauge(
                "tradepulse_reconciliation_last_success_timestamp_seconds",
                "Unix time of the last complete reconciliation.",
                &[],
            ),
            reconciliation_lag: registry.gauge(
                "tradepulse_reconciliation_lag_seconds",
                "Seconds since the last complete reconciliation (since start if none).",
                &[],
            ),
            reconciliation_runs: registry.counter(
                "tradepulse_reconciliation_runs_total",
                "Reconciliation runs by outcome (complete, pending, failed).",
                &["outcome"],
            ),
            reconciliation_failures: registry.counter(
                "tradepulse_reconciliation_failures_total",
                "Reconciliation runs that could not ask the venue.",
                &[],
            ),
            reconciliation_adjustments: registry.counter(
                "tradepulse_reconciliation_adjustments_total",
                "Corrections reconciliation applied, by kind.",
                &["kind"],
            ),
            venue_weight: registry.gauge(
                "tradepulse_venue_request_weight_used",
                "Request weight used in the venue's current window, as the venue reports it.",
                &["venue", "interval"],
            ),
            venue_weight_limit: registry.gauge(
                "tradepulse_venue_request_weight_limit",
                "The venue's request-weight limit per window (exchangeInfo rateLimits).",
                &["venue", "interval"],
            ),
            venue_order_count: registry.gauge(
                "tradepulse_venue_order_count_used",
                "Orders counted in the venue's current window, as the venue reports it.",
                &["venue", "interval"],
            ),
            open_orders: registry.gauge("tradepulse_open_orders", "Orders that can still fill.", &["venue"]),
            reports_ignored: registry.counter(
                "tradepulse_reports_ignored_total",
                "Execution reports applied as no-ops: repeated (stale), about unknown orders, or contradicting the order (invalid).",
                &["venue", "why"],
            ),
            risk_checks: registry.counter(
                "tradepulse_risk_checks_total",
                "Pre-trade risk checks of intents, by outcome (accepted, or the refusal's reason code).",
                &["outcome"],
            ),
            canary_breaches: registry.counter(
                "tradepulse_canary_limit_breaches_total",
                "Risk-limit refusals of canary strategies; each engages the canary's kill switch.",
                &["strategy"],
            ),
            journal_flush: registry.histogram(
                "tradepulse_journal_flush_seconds",
                "Time to make one batch of the order journal durable.",
                &[],
                LATENCY_BUCKETS,
            ),
            journal_failures: registry.counter(
                "tradepulse_journal_flush_failures_total",
                "Journal batches that could not be made durable (their orders were refused).",
                &[],
            ),
            ready: registry.gauge(
                "tradepulse_engine_ready",
                "1 once the engine has restored its state and reconciled with the venue.",
                &[],
            ),
        };
        m.orders.touch(&[venue]);
        m.fills.touch(&[venue]);
        m.decision_to_ack.touch(&[venue]);
        m.decision_to_fill.touch(&[venue]);
        m.kill_switch.set(&["global"], 0.0);
        m.reconciliation_ok.set(&[], 0.0);
        m.open_orders.set(&[venue], 0.0);
        m.ready.set(&[], 0.0);
        m.journal_failures.touch(&[]);
        for outcome in ["complete", "pending", "failed"] {
            m.reconciliation_runs.touch(&[outcome]);
        }
        m.reconciliation_failures.touch(&[]);
        m.risk_checks.touch(&["accepted"]);
        m
    }
}

impl std::fmt::Debug for EngineMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EngineMetrics").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn process_and_log_series_are_rendered() {
        let r = Registry::new();
        r.register_process_metrics();
        LOG_MESSAGES.record(&tracing::Level::ERROR);
        let text = r.render();
        let value = |name: &str| -> f64 {
            text.lines()
                .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
                .unwrap_or_else(|| panic!("no {name} in {text}"))
        };
        assert!(value("tradepulse_log_messages_total{level=\"error\"}") >= 1.0);
        assert!(value("tradepulse_log_messages_total{level=\"trace\"}") >= 0.0);
        assert!(
            text.contains("# TYPE process_cpu_seconds_total counter\n"),
            "{text}"
        );
        if cfg!(target_os = "linux") {
            // This test process: some resident memory, stdin/out/err open, started in the
            // last day and not in the future.
            assert!(value("process_resident_memory_bytes") > 1_000_000.0);
            assert!(value("process_open_fds") >= 3.0);
            assert!(value("process_cpu_seconds_total") >= 0.0);
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0.0, |d| d.as_secs_f64());
            let start = value("process_start_time_seconds");
            assert!(
                start <= now + 1.0 && start > now - 86_400.0,
                "{start} vs {now}"
            );
        }
    }

    #[test]
    fn renders_the_text_format() {
        let r = Registry::new();
        let c = r.counter("tp_x_total", "X.", &["venue", "reason"]);
        c.inc(&["sim", "MAX_POSITION"]);
        c.add(&["sim", "MAX_POSITION"], 2);
        let h = r.histogram("tp_lat_seconds", "Latency.", &["venue"], &[0.001, 0.01]);
        h.observe(&["sim"], 0.0005);
        h.observe(&["sim"], 0.005);
        h.observe(&["sim"], 1.0);
        let g = r.gauge("tp_up", "Up.", &[]);
        g.set(&[], 1.0);
        let text = r.render();
        assert!(text.contains("# TYPE tp_x_total counter\n"), "{text}");
        assert!(
            text.contains("tp_x_total{venue=\"sim\",reason=\"MAX_POSITION\"} 3\n"),
            "{text}"
        );
        assert!(
            text.contains("tp_lat_seconds_bucket{venue=\"sim\",le=\"0.001\"} 1\n"),
            "{text}"
        );
        assert!(
            text.contains("tp_lat_seconds_bucket{venue=\"sim\",le=\"0.01\"} 2\n"),
            "{text}"
        );
        assert!(
            text.contains("tp_lat_seconds_bucket{venue=\"sim\",le=\"+Inf\"} 3\n"),
            "{text}"
        );
        assert!(
            text.contains("tp_lat_seconds_count{venue=\"sim\"} 3\n"),
            "{text}"
        );
        assert!(text.contains("tp_up 1\n"), "{text}");
        assert_eq!(r.names(), ["tp_x_total", "tp_lat_seconds", "tp_up"]);
    }
}
