//! `tradepulse verify`: the post-deploy smoke test of a core and/or an exec service — health,
//! readiness, metrics exposed, order-latency p99 within the SLO, no reject or server-error
//! spike, kill switches released, reconciliation done — as a list of checks with a verdict
//! each (the CLI prints them and exits non-zero on any failure).

use std::time::Duration;

/// What to check.
#[derive(Debug, Clone)]
pub struct VerifyOptions {
    /// The core service's base URL.
    pub core: Option<String>,
    /// The exec service's base URL.
    pub exec: Option<String>,
    /// Order latency SLO: the p99 of decision → acknowledgement, in milliseconds.
    pub slo_p99_ms: f64,
    /// Largest accepted share of refused or rejected orders, and of 5xx answers.
    pub max_error_ratio: f64,
    /// Deadline of each request.
    pub timeout: Duration,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        Self {
            core: None,
            exec: None,
            slo_p99_ms: 250.0,
            max_error_ratio: 0.05,
            timeout: Duration::from_secs(5),
        }
    }
}

/// One check's verdict.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    /// `core` or `exec`.
    pub service: &'static str,
    /// What was checked (`healthz`, `order_latency_p99`, …).
    pub name: &'static str,
    /// Passed.
    pub ok: bool,
    /// What was found.
    pub detail: String,
}

/// One Prometheus sample: name, labels text (`{a="b"}` or empty) and value.
type Sample = (String, String, f64);

fn parse_metrics(text: &str) -> Vec<Sample> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| {
            let (series, value) = l.rsplit_once(' ')?;
            let value: f64 = value.parse().ok()?;
            let (name, labels) = match series.find('{') {
                Some(i) => (&series[..i], &series[i..]),
                None => (series, ""),
            };
            Some((name.to_owned(), labels.to_owned(), value))
        })
        .collect()
}

fn sum(samples: &[Sample], name: &str, labels: impl Fn(&str) -> bool) -> f64 {
    samples
        .iter()
        .filter(|(n, l, _)| n == name && labels(l))
        .map(|(_, _, v)| v)
        .sum()
}

/// The p99 upper bound (seconds) of a histogram summed over its label sets, and its count.
fn p99(samples: &[Sample], histogram: &str) -> (Option<f64>, f64) {
    let bucket = format!("{histogram}_bucket");
    let mut bounds: Vec<(f64, f64)> = Vec::new();
    for (n, l, v) in samples.iter().filter(|(n, _, _)| *n == bucket) {
        let _ = n;
        let Some(le) = l
            .split("le=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
        else {
            continue;
        };
        let bound = if le == "+Inf" {
            f64::INFINITY
        } else {
            match le.parse() {
                Ok(b) => b,
                Err(_) => continue,
            }
        };
        match bounds.iter_mut().find(|(b, _)| *b == bound) {
            Some(entry) => entry.1 += v,
            None => bounds.push((bound, *v)),
        }
    }
    bounds.sort_by(|a, b| a.0.total_cmp(&b.0));
    let count = bounds.last().map_or(0.0, |(_, c)| *c);
    if count == 0.0 {
        return (None, 0.0);
    }
    let target = count * 0.99;
    (
        bounds.iter().find(|(_, c)| *c >= target).map(|(b, _)| *b),
        count,
    )
}

/// Runs every check against the configured services.
pub async fn verify(options: &VerifyOptions) -> Vec<Check> {
    let http = reqwest::Client::builder()
        .timeout(options.timeout)
        .build()
        .unwrap_or_default();
    let mut checks = Vec::new();
    for (service, url) in [("core", &options.core), ("exec", &options.exec)] {
        if let Some(url) = url {
            check_service(
                &http,
                service,
                url.trim_end_matches('/'),
                options,
                &mut checks,
            )
            .await;
        }
    }
    checks
}

async fn check_service(
    http: &reqwest::Client,
    service: &'static str,
    base: &str,
    options: &VerifyOptions,
    checks: &mut Vec<Check>,
) {
    let mut push = |name: &'static str, ok: bool, detail: String| {
        checks.push(Check {
            service,
            name,
            ok,
            detail,
        });
    };
    let get = |path: &str| http.get(format!("{base}{path}")).send();
    match get("/healthz").await {
        Ok(r) => push(
            "healthz",
            r.status() == 200,
            format!("HTTP {}", r.status().as_u16()),
        ),
        Err(e) => {
            push("healthz", false, format!("{base} unreachable: {e}"));
            return;
        }
    }
    match get("/readyz").await {
        Ok(r) => {
            let status = r.status().as_u16();
            let body: serde_json::Value = r.json().await.unwrap_or_default();
            let reason = body["reason"].as_str().unwrap_or("ready").to_owned();
            push("readyz", status == 200, format!("HTTP {status}: {reason}"));
        }
        Err(e) => push("readyz", false, e.to_string()),
    }
    let text = match get("/metrics").await {
        Ok(r) if r.status() == 200 => r.text().await.unwrap_or_default(),
        Ok(r) => {
            push("metrics", false, format!("HTTP {}", r.status().as_u16()));
            return;
        }
        Err(e) => {
            push("metrics", false, e.to_string());
            return;
        }
    };
    let samples = parse_metrics(&text);
    let needed = [
        "tradepulse_build_info",
        "tradepulse_engine_ready",
        "tradepulse_orders_total",
    ];
    let missing: Vec<&str> = needed
        .iter()
        .filter(|n| {
            !samples.iter().any(|(s, _, _)| s == *n) && !text.contains(&format!("# TYPE {n} "))
        })
        .copied()
        .collect();
    push(
        "metrics",
        missing.is_empty(),
        if missing.is_empty() {
            format!("{} series", samples.len())
        } else {
            format!("missing {}", missing.join(", "))
        },
    );
    let (p, count) = p99(&samples, "tradepulse_order_decision_to_ack_seconds");
    match p {
        None => push("order_latency_p99", true, "no orders yet".into()),
        Some(p) => {
            let ms = p * 1e3;
            push(
                "order_latency_p99",
                ms <= options.slo_p99_ms,
                format!(
                    "p99 ≤ {ms} ms over {count} orders (SLO {} ms)",
                    options.slo_p99_ms
                ),
            );
        }
    }
    let orders = sum(&samples, "tradepulse_orders_total", |_| true);
    let rejects = sum(&samples, "tradepulse_order_rejects_total", |_| true);
    let reject_ratio = if orders + rejects > 0.0 {
        rejects / (orders + rejects)
    } else {
        0.0
    };
    push(
        "rejects",
        reject_ratio <= options.max_error_ratio,
        format!(
            "{rejects} refused or rejected of {} ({:.1} %)",
            orders + rejects,
            reject_ratio * 100.0
        ),
    );
    let requests = sum(&samples, "tradepulse_http_requests_total", |_| true);
    let errors = sum(&samples, "tradepulse_http_requests_total", |l| {
        l.contains("status=\"5")
    });
    let error_ratio = if requests > 0.0 {
        errors / requests
    } else {
        0.0
    };
    push(
        "server_errors",
        error_ratio <= options.max_error_ratio,
        format!("{errors} 5xx of {requests} requests"),
    );
    let engaged: Vec<String> = samples
        .iter()
        .filter(|(n, _, v)| n == "tradepulse_kill_switch_engaged" && *v > 0.0)
        .map(|(_, l, _)| l.clone())
        .collect();
    push(
        "kill_switch",
        engaged.is_empty(),
        if engaged.is_empty() {
            "released".into()
        } else {
            format!("engaged: {}", engaged.join(" "))
        },
    );
    let reconciled = sum(&samples, "tradepulse_reconciliation_ok", |_| true);
    push(
        "reconciliation",
        reconciled >= 1.0,
        if reconciled >= 1.0 {
            "complete".into()
        } else {
            "not complete".into()
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn p99_is_the_first_bucket_holding_99_percent() {
        let text = "# TYPE h histogram\nh_bucket{venue=\"a\",le=\"0.001\"} 90\nh_bucket{venue=\"a\",le=\"0.01\"} 99\nh_bucket{venue=\"a\",le=\"+Inf\"} 100\nh_bucket{venue=\"b\",le=\"0.001\"} 0\nh_bucket{venue=\"b\",le=\"0.01\"} 0\nh_bucket{venue=\"b\",le=\"+Inf\"} 100\n";
        let samples = parse_metrics(text);
        // 200 in all, 99 % = 198: only +Inf holds that many.
        assert_eq!(p99(&samples, "h"), (Some(f64::INFINITY), 200.0));
        let one = parse_metrics(
            "h_bucket{le=\"0.001\"} 99\nh_bucket{le=\"0.01\"} 100\nh_bucket{le=\"+Inf\"} 100\n",
        );
        assert_eq!(p99(&one, "h"), (Some(0.001), 100.0));
        assert_eq!(p99(&parse_metrics(""), "h"), (None, 0.0));
    }
}
