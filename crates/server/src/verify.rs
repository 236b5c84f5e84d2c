//! `tradepulse verify`: the post-deploy check of running services (the smoke-test Job of the
//! deployment runs it after every rollout).
//!
//! For every service given (`core`, `exec`): `/healthz` answers 200, `/readyz` answers 200
//! (else the reason it gives), `/metrics` is Prometheus text with `tradepulse_build_info`.
//! Then, from two scrapes of `/metrics` a `window` apart, on whichever service exports the
//! series:
//!
//! - **order latency**: p99 of `tradepulse_order_decision_to_ack_seconds` (all label sets
//!   together, interpolated inside the bucket as Prometheus' `histogram_quantile` does) within
//!   the SLO; with no order observed yet the check is reported as not run, never as passed;
//! - **no reject spike**: rejects over the window (`tradepulse_order_rejects_total`) at most
//!   `max_reject_ratio` of the intents (`tradepulse_orders_submitted_total` + rejects);
//! - **no error spike**: no new HTTP 5xx answers (`tradepulse_http_requests_total`), no new
//!   journal flush failure;
//! - **kill switch**: no `tradepulse_kill_switch_active` series at 1;
//! - **reconciliation**: `tradepulse_reconciliation_ok` is 1.
//!
//! The outcome is a list of [`Check`]s; [`Report::passed`] is false if any failed.

use std::collections::BTreeMap;
use std::fmt;
use std::time::{Duration, Instant};

/// What to check and how strictly.
#[derive(Debug, Clone)]
pub struct VerifyOptions {
    /// Services by name (`core`, `exec`) and base URL (`http://host:port`).
    pub services: Vec<(String, String)>,
    /// The p99 order-latency SLO.
    pub slo_p99: Duration,
    /// Time between the two scrapes the spike checks compare.
    pub window: Duration,
    /// Largest share of rejected intents over the window.
    pub max_reject_ratio: f64,
    /// Deadline of every request.
    pub timeout: Duration,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        Self {
            services: Vec::new(),
            slo_p99: Duration::from_millis(50),
            window: Duration::from_secs(5),
            max_reject_ratio: 0.2,
            timeout: Duration::from_secs(5),
        }
    }
}

/// The outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Holds.
    Pass,
    /// Does not hold: the deployment is not healthy.
    Fail,
    /// Could not be judged (nothing to measure yet); not a failure, never a pass.
    NotRun,
}

/// One line of the report.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    /// The service checked.
    pub service: String,
    /// What was checked.
    pub what: String,
    /// Its outcome.
    pub outcome: Outcome,
    /// What was seen.
    pub detail: String,
}

/// Every check, in the order run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Report {
    /// The checks.
    pub checks: Vec<Check>,
}

impl Report {
    /// True if no check failed.
    #[must_use]
    pub fn passed(&self) -> bool {
        self.checks.iter().all(|c| c.outcome != Outcome::Fail)
    }

    fn push(&mut self, service: &str, what: &str, outcome: Outcome, detail: impl Into<String>) {
        self.checks.push(Check {
            service: service.to_owned(),
            what: what.to_owned(),
            outcome,
            detail: detail.into(),
        });
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in &self.checks {
            let tag = match c.outcome {
                Outcome::Pass => "ok  ",
                Outcome::Fail => "FAIL",
                Outcome::NotRun => "n/a ",
            };
            writeln!(f, "{tag} {:<5} {:<22} {}", c.service, c.what, c.detail)?;
        }
        let failed = self
            .checks
            .iter()
            .filter(|c| c.outcome == Outcome::Fail)
            .count();
        if failed == 0 {
            write!(f, "verify: all {} checks passed", self.checks.len())
        } else {
            write!(f, "verify: {failed} of {} checks FAILED", self.checks.len())
        }
    }
}

/// A service URL could not be used at all.
#[derive(Debug, thiserror::Error)]
#[error("{service}: '{url}' is not an http(s) URL")]
pub struct BadUrl {
    /// The service.
    pub service: String,
    /// What was given.
    pub url: String,
}

/// Runs every check (see the module docs).
///
/// # Errors
/// [`BadUrl`] when a service's URL is not an http(s) URL; unreachable services are failed
/// checks in the report, not errors.
pub async fn verify(options: &VerifyOptions) -> Result<Report, BadUrl> {
    for (service, url) in &options.services {
        if !(url.starts_with("http://") || url.starts_with("https://")) || url.len() < 10 {
            return Err(BadUrl {
                service: service.clone(),
                url: url.clone(),
            });
        }
    }
    let client = reqwest::Client::builder()
        .timeout(options.timeout)
        .build()
        .map_err(|_| BadUrl {
            service: "client".into(),
            url: String::new(),
        })?;
    let mut report = Report::default();
    let mut first = Vec::new();
    for (service, url) in &options.services {
        let base = url.trim_end_matches('/');
        probe(&client, &mut report, service, base, "/healthz").await;
        probe(&client, &mut report, service, base, "/readyz").await;
        let scrape = scrape(&client, base).await;
        match &scrape {
            Ok(m) if m.has("tradepulse_build_info") => report.push(
                service,
                "/metrics",
                Outcome::Pass,
                format!("{} series", m.samples.len()),
            ),
            Ok(_) => report.push(
                service,
                "/metrics",
                Outcome::Fail,
                "no tradepulse_build_info series",
            ),
            Err(e) => report.push(service, "/metrics", Outcome::Fail, e.clone()),
        }
        first.push(scrape.ok());
    }
    tokio::time::sleep(options.window).await;
    for ((service, url), before) in options.services.iter().zip(first) {
        let Some(before) = before else { continue };
        match scrape(&client, url.trim_end_matches('/')).await {
            Ok(after) => judge(&mut report, service, &before, &after, options),
            Err(e) => report.push(service, "/metrics (2nd scrape)", Outcome::Fail, e),
        }
    }
    Ok(report)
}

async fn probe(
    client: &reqwest::Client,
    report: &mut Report,
    service: &str,
    base: &str,
    path: &str,
) {
    let started = Instant::now();
    match client.get(format!("{base}{path}")).send().await {
        Ok(r) => {
            let status = r.status();
            let body = r.text().await.unwrap_or_default();
            let took = started.elapsed().as_millis();
            if status.is_success() {
                report.push(
                    service,
                    path,
                    Outcome::Pass,
                    format!("{status} in {took} ms"),
                );
            } else {
                let body: String = body.chars().take(200).collect();
                report.push(
                    service,
                    path,
                    Outcome::Fail,
                    format!("{status}: {}", body.trim()),
                );
            }
        }
        Err(e) => report.push(service, path, Outcome::Fail, format!("unreachable: {e}")),
    }
}

async fn scrape(client: &reqwest::Client, base: &str) -> Result<Metrics, String> {
    let r = client
        .get(format!("{base}/metrics"))
        .send()
        .await
        .map_err(|e| format!("unreachable: {e}"))?;
    if !r.status().is_success() {
        return Err(format!("{}", r.status()));
    }
    let text = r.text().await.map_err(|e| e.to_string())?;
    Metrics::parse(&text)
}

/// Whether any of `names` has a series; if none has, `check` fails: a service that stopped
/// exporting what a check reads must not pass it unseen.
fn exported(
    report: &mut Report,
    service: &str,
    check: &str,
    after: &Metrics,
    names: &[&str],
) -> bool {
    if names.iter().any(|n| after.has(n)) {
        return true;
    }
    report.push(
        service,
        check,
        Outcome::Fail,
        format!("/metrics has no {}", names.join(" or ")),
    );
    false
}

fn judge(report: &mut Report, service: &str, before: &Metrics, after: &Metrics, o: &VerifyOptions) {
    const LATENCY: &str = "tradepulse_order_decision_to_ack_seconds";
    if exported(
        report,
        service,
        "order latency p99",
        after,
        &[&format!("{LATENCY}_bucket")],
    ) {
        match after.quantile(LATENCY, 0.99) {
            Some(p99) => {
                let slo = o.slo_p99.as_secs_f64();
                let outcome = if p99 <= slo {
                    Outcome::Pass
                } else {
                    Outcome::Fail
                };
                report.push(
                    service,
                    "order latency p99",
                    outcome,
                    format!("{:.3} ms (SLO {:.3} ms)", p99 * 1e3, slo * 1e3),
                );
            }
            None => report.push(
                service,
                "order latency p99",
                Outcome::NotRun,
                "no order observed yet",
            ),
        }
    }
    if exported(
        report,
        service,
        "reject rate",
        after,
        &[
            "tradepulse_orders_submitted_total",
            "tradepulse_order_rejects_total",
        ],
    ) {
        let rejects = after.sum("tradepulse_order_rejects_total", &[])
            - before.sum("tradepulse_order_rejects_total", &[]);
        let sent = after.sum("tradepulse_orders_submitted_total", &[])
            - before.sum("tradepulse_orders_submitted_total", &[]);
        let intents = sent + rejects;
        if intents > 0.0 {
            let ratio = rejects / intents;
            let outcome = if ratio <= o.max_reject_ratio {
                Outcome::Pass
            } else {
                Outcome::Fail
            };
            report.push(
                service,
                "reject rate",
                outcome,
                format!(
                    "{rejects} of {intents} intents in {:.0} s ({:.1} %, at most {:.1} %)",
                    o.window.as_secs_f64(),
                    ratio * 100.0,
                    o.max_reject_ratio * 100.0
                ),
            );
        } else {
            report.push(
                service,
                "reject rate",
                Outcome::NotRun,
                "no intent in the window",
            );
        }
    }
    let errors_5xx = |m: &Metrics| {
        m.samples
            .iter()
            .filter(|s| s.name == "tradepulse_http_requests_total")
            .filter(|s| s.label("status").is_some_and(|v| v.starts_with('5')))
            .map(|s| s.value)
            .sum::<f64>()
    };
    let flush_failures = |m: &Metrics| m.sum("tradepulse_journal_flush_failures_total", &[]);
    if exported(
        report,
        service,
        "errors",
        after,
        &[
            "tradepulse_http_requests_total",
            "tradepulse_journal_flush_failures_total",
        ],
    ) {
        let new_5xx = errors_5xx(after) - errors_5xx(before);
        let new_flush = flush_failures(after) - flush_failures(before);
        let outcome = if new_5xx <= 0.0 && new_flush <= 0.0 {
            Outcome::Pass
        } else {
            Outcome::Fail
        };
        report.push(
            service,
            "errors",
            outcome,
            format!("{new_5xx} new HTTP 5xx, {new_flush} new journal flush failures"),
        );
    }
    if exported(
        report,
        service,
        "kill switch",
        after,
        &["tradepulse_kill_switch_active"],
    ) {
        let engaged: Vec<&str> = after
            .samples
            .iter()
            .filter(|s| s.name == "tradepulse_kill_switch_active" && s.value >= 1.0)
            .map(|s| s.label("scope").unwrap_or("?"))
            .collect();
        if engaged.is_empty() {
            report.push(service, "kill switch", Outcome::Pass, "released");
        } else {
            report.push(
                service,
                "kill switch",
                Outcome::Fail,
                format!("engaged: {}", engaged.join(", ")),
            );
        }
    }
    if exported(
        report,
        service,
        "reconciliation",
        after,
        &["tradepulse_reconciliation_ok"],
    ) {
        let ok = after.sum("tradepulse_reconciliation_ok", &[]) >= 1.0;
        let lag = after.sum("tradepulse_reconciliation_lag_seconds", &[]);
        report.push(
            service,
            "reconciliation",
            if ok { Outcome::Pass } else { Outcome::Fail },
            if ok {
                format!("done, {lag:.0} s ago")
            } else {
                "not complete".to_owned()
            },
        );
    }
}

/// One sample of the Prometheus text format.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// Metric name (with `_bucket`, `_sum`, `_count` for histograms).
    pub name: String,
    /// Label pairs, in the order written.
    pub labels: Vec<(String, String)>,
    /// The value.
    pub value: f64,
}

impl Sample {
    /// The value of label `name`.
    #[must_use]
    pub fn label(&self, name: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A parsed scrape.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Metrics {
    /// Every sample, in the order written.
    pub samples: Vec<Sample>,
}

impl Metrics {
    /// Parses the Prometheus text exposition format (version 0.0.4).
    ///
    /// # Errors
    /// A message naming the line that is not a comment, blank or a sample.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut samples = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let sample = parse_sample(line)
                .ok_or_else(|| format!("/metrics line {}: not a sample: {line:.80}", i + 1))?;
            samples.push(sample);
        }
        Ok(Self { samples })
    }

    /// True if a sample of `name` exists.
    #[must_use]
    pub fn has(&self, name: &str) -> bool {
        self.samples.iter().any(|s| s.name == name)
    }

    /// The sum of the samples of `name` whose labels include every pair of `with`.
    #[must_use]
    pub fn sum(&self, name: &str, with: &[(&str, &str)]) -> f64 {
        self.samples
            .iter()
            .filter(|s| s.name == name && with.iter().all(|(k, v)| s.label(k) == Some(*v)))
            .map(|s| s.value)
            .sum()
    }

    /// The `q` quantile of histogram `name` over all its label sets, interpolated linearly
    /// inside the bucket it falls in (Prometheus' `histogram_quantile`); `None` with no
    /// observation.
    #[must_use]
    pub fn quantile(&self, name: &str, q: f64) -> Option<f64> {
        let bucket = format!("{name}_bucket");
        let mut by_le: BTreeMap<OrderedBound, f64> = BTreeMap::new();
        for s in self.samples.iter().filter(|s| s.name == bucket) {
            let le = s.label("le")?;
            let bound = if le == "+Inf" {
                f64::INFINITY
            } else {
                le.parse().ok()?
            };
            *by_le.entry(OrderedBound(bound)).or_default() += s.value;
        }
        let total = *by_le.values().last()?;
        if total <= 0.0 {
            return None;
        }
        let rank = q * total;
        let (mut lower, mut below) = (0.0, 0.0);
        for (OrderedBound(upper), count) in &by_le {
            if *count >= rank {
                if upper.is_infinite() {
                    return Some(lower); // beyond the last finite bucket: its bound, as Prometheus
                }
                let inside = count - below;
                return Some(if inside > 0.0 {
                    lower + (upper - lower) * (rank - below) / inside
                } else {
                    *upper
                });
            }
            lower = *upper;
            below = *count;
        }
        None
    }
}

/// A bucket bound with a total order (bounds are never NaN: they come from `le` labels).
#[derive(Debug, Clone, Copy, PartialEq)]
struct OrderedBound(f64);

impl Eq for OrderedBound {}

impl PartialOrd for OrderedBound {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for OrderedBound {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0)
    }
}

fn parse_sample(line: &str) -> Option<Sample> {
    let name_end = line.find(|c: char| c == '{' || c.is_whitespace())?;
    let name = &line[..name_end];
    if name.is_empty() {
        return None;
    }
    let mut rest = &line[name_end..];
    let mut labels = Vec::new();
    if let Some(inner) = rest.strip_prefix('{') {
        let mut chars = inner.char_indices().peekable();
        let mut key = String::new();
        loop {
            let (_, c) = chars.next()?;
            match c {
                '}' => {
                    let (i, _) = chars.peek().copied().unwrap_or((inner.len(), ' '));
                    rest = &inner[i..];
                    break;
                }
                ',' | ' ' => {}
                '=' => {
                    if chars.next()?.1 != '"' {
                        return None;
                    }
                    let mut value = String::new();
                    loop {
                        match chars.next()?.1 {
                            '"' => break,
                            '\\' => match chars.next()?.1 {
                                'n' => value.push('\n'),
                                other => value.push(other),
                            },
                            other => value.push(other),
                        }
                    }
                    labels.push((std::mem::take(&mut key), value));
                }
                other => key.push(other),
            }
        }
    }
    let value = rest.split_whitespace().next()?;
    let value = match value {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        v => v.parse().ok()?,
    };
    Some(Sample {
        name: name.to_owned(),
        labels,
        value,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "# HELP tradepulse_order_decision_to_ack_seconds x\n\
# TYPE tradepulse_order_decision_to_ack_seconds histogram\n\
tradepulse_order_decision_to_ack_seconds_bucket{venue=\"sim\",le=\"0.001\"} 90\n\
tradepulse_order_decision_to_ack_seconds_bucket{venue=\"sim\",le=\"0.01\"} 99\n\
tradepulse_order_decision_to_ack_seconds_bucket{venue=\"sim\",le=\"+Inf\"} 100\n\
tradepulse_order_decision_to_ack_seconds_bucket{venue=\"b\",le=\"0.001\"} 0\n\
tradepulse_order_decision_to_ack_seconds_bucket{venue=\"b\",le=\"0.01\"} 0\n\
tradepulse_order_decision_to_ack_seconds_bucket{venue=\"b\",le=\"+Inf\"} 0\n\
tradepulse_kill_switch_active{scope=\"strategy:a \\\"b\\\"\"} 1\n\
tradepulse_reconciliation_ok 1\n";

    #[test]
    fn parses_labels_with_escapes_and_values() {
        let m = Metrics::parse(TEXT).unwrap();
        assert_eq!(m.samples.len(), 8);
        let kill = &m.samples[6];
        assert_eq!(kill.label("scope"), Some("strategy:a \"b\""));
        assert_eq!(kill.value, 1.0);
        assert_eq!(m.sum("tradepulse_reconciliation_ok", &[]), 1.0);
        assert!(Metrics::parse("tradepulse_x{a=\"1\" 2\n").is_err());
        assert!(
            Metrics::parse("ok 1\nnot a sample\n")
                .unwrap_err()
                .contains("line 2")
        );
    }

    #[test]
    fn quantile_interpolates_inside_the_bucket_like_histogram_quantile() {
        let m = Metrics::parse(TEXT).unwrap();
        // rank 99 of 100 lies at the top of the (0.001, 0.01] bucket.
        let p99 = m
            .quantile("tradepulse_order_decision_to_ack_seconds", 0.99)
            .unwrap();
        assert!((p99 - 0.01).abs() < 1e-12, "{p99}");
        // rank 50: 50/90 of the way through the first bucket, from 0.
        let p50 = m
            .quantile("tradepulse_order_decision_to_ack_seconds", 0.5)
            .unwrap();
        assert!((p50 - 0.001 * 50.0 / 90.0).abs() < 1e-12, "{p50}");
        // Past the last finite bound: that bound.
        let p999 = m
            .quantile("tradepulse_order_decision_to_ack_seconds", 0.999)
            .unwrap();
        assert!((p999 - 0.01).abs() < 1e-12, "{p999}");
        let empty = Metrics::parse("tp_bucket{le=\"1\"} 0\ntp_bucket{le=\"+Inf\"} 0\n").unwrap();
        assert_eq!(empty.quantile("tp", 0.99), None);
    }

    #[test]
    fn judge_fails_on_slo_kill_switch_rejects_and_errors() {
        let before = Metrics::parse(
            "tradepulse_orders_submitted_total{venue=\"sim\"} 10\ntradepulse_order_rejects_total{venue=\"sim\",reason=\"MAX_POSITION\"} 0\n\
             tradepulse_http_requests_total{route=\"/v1/orders\",method=\"POST\",status=\"500\"} 1\n",
        )
        .unwrap();
        let mut text = TEXT.to_owned();
        text.push_str(
            "tradepulse_orders_submitted_total{venue=\"sim\"} 20\ntradepulse_order_rejects_total{venue=\"sim\",reason=\"MAX_POSITION\"} 10\n\
             tradepulse_http_requests_total{route=\"/v1/orders\",method=\"POST\",status=\"500\"} 2\n",
        );
        let after = Metrics::parse(&text).unwrap();
        let options = VerifyOptions {
            slo_p99: Duration::from_millis(5),
            ..VerifyOptions::default()
        };
        let mut report = Report::default();
        judge(&mut report, "exec", &before, &after, &options);
        let outcome = |what: &str| {
            report
                .checks
                .iter()
                .find(|c| c.what == what)
                .map(|c| c.outcome)
        };
        assert_eq!(outcome("order latency p99"), Some(Outcome::Fail));
        assert_eq!(outcome("reject rate"), Some(Outcome::Fail)); // 10 of 20
        assert_eq!(outcome("errors"), Some(Outcome::Fail));
        assert_eq!(outcome("kill switch"), Some(Outcome::Fail));
        assert_eq!(outcome("reconciliation"), Some(Outcome::Pass));
        assert!(!report.passed());
        assert!(report.to_string().contains("FAILED"));

        let mut report = Report::default();
        let quiet = VerifyOptions {
            slo_p99: Duration::from_millis(50),
            ..VerifyOptions::default()
        };
        judge(&mut report, "exec", &after, &after, &quiet);
        assert_eq!(
            report
                .checks
                .iter()
                .find(|c| c.what == "reject rate")
                .map(|c| c.outcome),
            Some(Outcome::NotRun)
        );
        assert_eq!(
            report
                .checks
                .iter()
                .find(|c| c.what == "order latency p99")
                .map(|c| c.outcome),
            Some(Outcome::Pass)
        );

        // A service that exports none of what a check reads fails it, naming the series.
        let bare = Metrics::parse("process_open_fds 7\n").unwrap();
        let mut report = Report::default();
        judge(&mut report, "core", &bare, &bare, &quiet);
        for what in [
            "order latency p99",
            "reject rate",
            "errors",
            "kill switch",
            "reconciliation",
        ] {
            let check = report.checks.iter().find(|c| c.what == what).unwrap();
            assert_eq!(check.outcome, Outcome::Fail, "{what}");
            assert!(
                check.detail.contains("/metrics has no tradepulse_"),
                "{}",
                check.detail
            );
        }
        assert!(!report.passed());
    }
}
