//! Issue 12 benchmark: HTTP submit → acknowledgement against a running `tradepulse exec`, at a
//! fixed offered rate (open loop), then a check that no order was lost or duplicated.
//!
//! ```sh
//! export TRADEPULSE_EXEC_TOKEN=$(openssl rand -hex 32)
//! rm -f tradepulse-exec.db* && target/release/tradepulse exec --config configs/exec/sim.yaml &
//! cargo run --release -p tradepulse-server --example submit_load -- \
//!     --url http://127.0.0.1:8081 --rate 2000 --seconds 60
//! ```
//!
//! Request *i* is due at `start + i / rate` whatever happened to the earlier ones, and its
//! latency is counted from that due time, so a server that falls behind shows it in the tail
//! (no coordinated omission); a thread of its own sends each request at its due time (the
//! system's sleep, not tokio's 1 ms timer). Orders are market orders of `--quantity` (0.001 BTC, above the
//! sim's minimum notional), alternately buying and selling after one buy of `--inventory` (so
//! no sell is a short on the cash account), each with its own client order id; the sim venue
//! fills them at once, so the answer is `201` with the order filled.
//!
//! Afterwards the run asks `/v1/status` how many orders the session sent and filled (each
//! must equal the accepted submits: none lost, none sent twice) and submits a sample of the
//! ids again, each of which must come back `200` with the original order (idempotent).
//! Exit status 1 when either check fails, or when the p99 target (`--p99-ms`, default 1) is
//! missed.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Mutex;

struct Args {
    url: String,
    rate: u64,
    seconds: u64,
    instrument: String,
    quantity: String,
    inventory: String,
    p99_ms: f64,
    token: String,
}

fn usage() -> ! {
    eprintln!(
        "usage: submit_load [--url URL] [--rate N] [--seconds S] [--instrument ID] [--quantity Q] [--inventory Q] [--p99-ms MS]\n\
         (the bearer token is read from TRADEPULSE_EXEC_TOKEN)"
    );
    std::process::exit(2);
}

fn parse_args() -> Args {
    let mut args = Args {
        url: "http://127.0.0.1:8081".into(),
        rate: 2_000,
        seconds: 60,
        instrument: "BTCUSD.SIM".into(),
        quantity: "0.001".into(),
        inventory: "0.2".into(),
        p99_ms: 1.0,
        token: std::env::var("TRADEPULSE_EXEC_TOKEN").unwrap_or_else(|_| {
            eprintln!(
                "TRADEPULSE_EXEC_TOKEN is not set (the token the exec service was started with)"
            );
            std::process::exit(2);
        }),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().unwrap_or_else(|| usage());
        match flag.as_str() {
            "--url" => args.url = value,
            "--rate" => args.rate = value.parse().unwrap_or_else(|_| usage()),
            "--seconds" => args.seconds = value.parse().unwrap_or_else(|_| usage()),
            "--instrument" => args.instrument = value,
            "--quantity" => args.quantity = value,
            "--inventory" => args.inventory = value,
            "--p99-ms" => args.p99_ms = value.parse().unwrap_or_else(|_| usage()),
            _ => usage(),
        }
    }
    if args.rate == 0 || args.seconds == 0 {
        usage();
    }
    args
}

fn body(args: &Args, id: &str, n: u64) -> String {
    let side = if n.is_multiple_of(2) { "buy" } else { "sell" };
    format!(
        r#"{{"client_order_id":"{id}","instrument":"{}","side":"{side}","type":"market","quantity":"{}","time_in_force":"ioc"}}"#,
        args.instrument, args.quantity
    )
}

/// Submits order `n` under client order id `id`.
async fn submit(
    client: &reqwest::Client,
    args: &Args,
    id: &str,
    n: u64,
) -> reqwest::Result<reqwest::Response> {
    client
        .post(format!("{}/v1/orders", args.url))
        .bearer_auth(&args.token)
        .header("content-type", "application/json")
        .body(body(args, id, n))
        .send()
        .await
}

#[derive(Default)]
struct Tally {
    latencies: Vec<Duration>,
    by_status: std::collections::BTreeMap<u16, u64>,
    errors: u64,
}

fn percentile(sorted: &[Duration], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i].as_secs_f64() * 1e3
}

async fn status(client: &reqwest::Client, args: &Args) -> Result<serde_json::Value, String> {
    let response = client
        .get(format!("{}/v1/status", args.url))
        .bearer_auth(&args.token)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    response.json().await.map_err(|e| e.to_string())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 1)]
async fn main() {
    let args = Arc::new(parse_args());
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap_or_else(|e| {
            eprintln!("HTTP client: {e}");
            std::process::exit(2);
        });
    let run = format!("load{}", std::process::id());
    // Requests in flight overtake one another, so a sell can reach the engine before the buy
    // sent just ahead of it: hold an inventory first, so no sell is a short on a cash account.
    let inventory = client
        .post(format!("{}/v1/orders", args.url))
        .bearer_auth(&args.token)
        .header("content-type", "application/json")
        .body(format!(
            r#"{{"client_order_id":"{run}-inventory","instrument":"{}","side":"buy","type":"market","quantity":"{}"}}"#,
            args.instrument, args.inventory
        ))
        .send()
        .await;
    match inventory {
        Ok(r) if r.status().as_u16() == 201 => {}
        Ok(r) => {
            let code = r.status();
            eprintln!(
                "the inventory buy was answered {code}: {}",
                r.text().await.unwrap_or_default()
            );
            std::process::exit(1);
        }
        Err(e) => {
            eprintln!("cannot reach {}/v1/orders: {e}", args.url);
            std::process::exit(1);
        }
    }
    let before = match status(&client, &args).await {
        Ok(s) if s["ready"] == serde_json::Value::Bool(true) => s,
        Ok(s) => {
            eprintln!("the exec service is not ready: {s}");
            std::process::exit(1);
        }
        Err(e) => {
            eprintln!("cannot reach {}/v1/status: {e}", args.url);
            std::process::exit(1);
        }
    };
    let total = args.rate * args.seconds;
    let tally = Arc::new(Mutex::new(Tally {
        latencies: Vec::with_capacity(total as usize),
        ..Tally::default()
    }));
    let interval = Duration::from_secs_f64(1.0 / args.rate as f64);
    let start = Instant::now() + Duration::from_millis(100);
    // Paced by a thread of its own with the system's sleep (microseconds late at most): tokio's
    // timer has a 1 ms resolution, which alone would add up to a millisecond to every request's
    // latency as counted from its due time.
    let runtime = tokio::runtime::Handle::current();
    let pace = {
        let (client, args, tally, run) = (
            client.clone(),
            Arc::clone(&args),
            Arc::clone(&tally),
            run.clone(),
        );
        tokio::task::spawn_blocking(move || {
            let mut tasks = Vec::with_capacity(total as usize);
            for n in 0..total {
                let due = start + interval * u32::try_from(n).unwrap_or(u32::MAX);
                let now = Instant::now();
                if due > now {
                    std::thread::sleep(due - now);
                }
                let (client, args, tally) = (client.clone(), Arc::clone(&args), Arc::clone(&tally));
                let id = format!("{run}-{n}");
                tasks.push(runtime.spawn(async move {
                    let sent = submit(&client, &args, &id, n).await;
                    let latency = Instant::now().duration_since(due);
                    let mut t = tally.lock().await;
                    match sent {
                        Ok(r) => {
                            *t.by_status.entry(r.status().as_u16()).or_default() += 1;
                            t.latencies.push(latency);
                        }
                        Err(_) => t.errors += 1,
                    }
                }));
            }
            tasks
        })
    };
    let tasks = pace.await.unwrap_or_else(|e| {
        eprintln!("the pacing thread failed: {e}");
        std::process::exit(2);
    });
    let offered = start.elapsed();
    for t in tasks {
        let _ = t.await;
    }
    let mut t = Arc::try_unwrap(tally)
        .map(Mutex::into_inner)
        .unwrap_or_default();
    t.latencies.sort_unstable();
    let accepted = t.by_status.get(&201).copied().unwrap_or(0);
    println!(
        "offered {total} submits at {} /s over {:.1} s; answers by status {:?}, transport errors {}",
        args.rate,
        offered.as_secs_f64(),
        t.by_status,
        t.errors
    );
    let p99 = percentile(&t.latencies, 0.99);
    println!(
        "submit → ack latency ms: p50 {:.3}  p90 {:.3}  p99 {p99:.3}  p99.9 {:.3}  max {:.3}",
        percentile(&t.latencies, 0.50),
        percentile(&t.latencies, 0.90),
        percentile(&t.latencies, 0.999),
        percentile(&t.latencies, 1.0),
    );

    let mut failed = false;
    let after = status(&client, &args).await.unwrap_or_default();
    let delta = |field: &str| {
        after[field]
            .as_u64()
            .unwrap_or(0)
            .saturating_sub(before[field].as_u64().unwrap_or(0))
    };
    let (sent, fills) = (delta("orders_sent"), delta("fills"));
    println!("session counters: orders sent +{sent}, fills +{fills}, accepted submits {accepted}");
    if sent != accepted || fills != accepted || accepted != total {
        println!("FAIL: every submit must be accepted, sent once and filled once");
        failed = true;
    }
    // Idempotency: the same ids again return the first order, and send nothing new.
    let sample = total.min(200);
    let mut replayed_ok = 0;
    for k in 0..sample {
        let n = k * (total / sample);
        let id = format!("{run}-{n}");
        let again = submit(&client, &args, &id, n).await;
        if again.is_ok_and(|r| r.status().as_u16() == 200) {
            replayed_ok += 1;
        }
    }
    let resent = status(&client, &args).await.unwrap_or_default()["orders_sent"]
        .as_u64()
        .unwrap_or(0)
        .saturating_sub(after["orders_sent"].as_u64().unwrap_or(0));
    println!(
        "resubmitted {sample} ids: {replayed_ok} answered 200 with the first order, {resent} sent again"
    );
    if replayed_ok != sample || resent != 0 {
        println!("FAIL: a repeated client order id must not create an order");
        failed = true;
    }
    if p99 > args.p99_ms {
        println!(
            "FAIL: p99 {p99:.3} ms is above the {} ms target",
            args.p99_ms
        );
        failed = true;
    }
    if failed {
        std::process::exit(1);
    }
    println!(
        "ok: none lost, none duplicated, p99 within {} ms",
        args.p99_ms
    );
}
