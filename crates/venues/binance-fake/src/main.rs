//! `fake-binance [PORT]`: runs the fake Binance on `127.0.0.1:PORT` (default 9855) for manual runs
//! and chaos drills, with the default symbols (BTCUSDT, ETHUSDT), balances and Binance's
//! documented example HMAC key. Prints the three URLs for a `BinanceConfig` of environment
//! `custom`, and some resting liquidity so market orders fill. Stops on Ctrl-C or SIGTERM.
//!
//! Chaos drills steer it through standard input, one command a line, each answered by one line
//! on stdout (`ok …` or `error: …`):
//!
//! - `drop`: close every WebSocket (user data and market streams) without a close frame;
//! - `refuse on|off`: refuse (503) new WebSocket connections, or accept them again;
//! - `take SYMBOL buy|sell LIMIT QTY`: an external taker trades against the account's resting
//!   orders (prints the quantity filled);
//! - `liquidity SYMBOL buy|sell PRICE QTY`: adds resting liquidity of another participant;
//! - `orders CLIENT_ORDER_ID`: how many orders the venue holds with that client order id, and the
//!   latest one's status (`ok 1 FILLED`);
//! - `balance ASSET`: the account's free and locked balance (`ok 2.1 0.05`);
//! - `trades SYMBOL`: how many trades the account made and their total quantity;
//! - `subscriptions`: active user-data subscriptions and market-stream sessions.

use std::io::{BufRead as _, Write as _};
use std::process::ExitCode;
use std::sync::Arc;

use rust_decimal::Decimal;
use tradepulse_fake_binance::{DOCS_API_KEY, FakeBinance, FakeConfig, Side};

/// Runs one control command (see the module docs); the answer line.
fn command(fake: &FakeBinance, line: &str) -> Result<String, String> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let side = |s: &str| match s {
        "buy" => Ok(Side::Buy),
        "sell" => Ok(Side::Sell),
        other => Err(format!("side must be buy or sell, not `{other}`")),
    };
    let decimal = |what: &str, s: &str| {
        s.parse::<Decimal>()
            .map(|_| ())
            .map_err(|e| format!("{what}: `{s}` is not a decimal number: {e}"))
    };
    match words.as_slice() {
        ["drop"] => {
            fake.drop_connections();
            Ok("ok dropped".to_owned())
        }
        ["refuse", on @ ("on" | "off")] => {
            fake.refuse_websockets(*on == "on");
            Ok(format!("ok refuse {on}"))
        }
        ["take", symbol, s, limit, qty] => {
            let s = side(s)?;
            decimal("LIMIT", limit)?;
            decimal("QTY", qty)?;
            Ok(format!("ok {}", fake.take(symbol, s, limit, qty)))
        }
        ["liquidity", symbol, s, price, qty] => {
            let s = side(s)?;
            decimal("PRICE", price)?;
            decimal("QTY", qty)?;
            fake.add_liquidity(symbol, s, price, qty);
            Ok("ok".to_owned())
        }
        ["orders", id] => Ok(format!(
            "ok {} {}",
            fake.orders_with_client_id(id),
            fake.order_status(id).unwrap_or_else(|| "NONE".to_owned())
        )),
        ["balance", asset] => {
            let (free, locked) = fake.balance(asset);
            Ok(format!("ok {free} {locked}"))
        }
        ["trades", symbol] => {
            let trades = fake.trades(symbol);
            let qty: Decimal = trades.iter().map(|t| t.3).sum();
            Ok(format!("ok {} {qty}", trades.len()))
        }
        ["subscriptions"] => Ok(format!(
            "ok {} {}",
            fake.user_subscriptions(),
            fake.market_sessions()
        )),
        _ => Err(format!(
            "unknown command `{line}` (drop, refuse on|off, take, liquidity, orders ID, balance ASSET, trades SYMBOL, subscriptions)"
        )),
    }
}

/// Reads control commands from stdin until it closes (then the fake keeps running).
fn control(fake: &FakeBinance) {
    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else { return };
        if line.trim().is_empty() {
            continue;
        }
        let answer = command(fake, line.trim()).unwrap_or_else(|e| format!("error: {e}"));
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{answer}");
        let _ = out.flush();
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let port = match std::env::args().nth(1).map(|p| p.parse::<u16>()) {
        None => 9855,
        Some(Ok(port)) => port,
        Some(Err(e)) => {
            eprintln!("error: PORT must be a number 0-65535: {e}");
            return ExitCode::from(2);
        }
    };
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let fake = match FakeBinance::start_on(addr, FakeConfig::default()).await {
        Ok(fake) => Arc::new(fake),
        Err(e) => {
            eprintln!("error: cannot listen on {addr}: {e}");
            return ExitCode::from(1);
        }
    };
    for (price, qty) in [("50000", "0.5"), ("50010", "1"), ("50100", "2")] {
        fake.add_liquidity("BTCUSDT", Side::Sell, price, qty);
    }
    for (price, qty) in [("49990", "0.5"), ("49900", "1")] {
        fake.add_liquidity("BTCUSDT", Side::Buy, price, qty);
    }
    println!("fake Binance listening");
    println!("  rest_url:   {}", fake.rest_url());
    println!("  ws_api_url: {}", fake.ws_api_url());
    println!("  stream_url: {}", fake.stream_url());
    println!("  api key:    {DOCS_API_KEY} (Binance's documented example HMAC key)");
    let _ = std::io::stdout().flush();
    let controlled = Arc::clone(&fake);
    std::thread::spawn(move || control(&controlled));
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(term) => term,
        Err(e) => {
            eprintln!("error: cannot wait for SIGTERM: {e}");
            return ExitCode::from(1);
        }
    };
    tokio::select! {
        r = tokio::signal::ctrl_c() => if let Err(e) = r {
            eprintln!("error: waiting for Ctrl-C: {e}");
            return ExitCode::from(1);
        },
        _ = term.recv() => {}
    }
    ExitCode::SUCCESS
}
