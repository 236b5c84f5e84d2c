//! `fake-binance [PORT]`: runs the fake Binance on `127.0.0.1:PORT` (default 9855) for manual runs
//! and chaos drills, with the default symbols (BTCUSDT, ETHUSDT), balances and Binance's
//! documented example HMAC key. Prints the three URLs for a `BinanceConfig` of environment
//! `custom`, and some resting liquidity so market orders fill. Stops on Ctrl-C.

use std::process::ExitCode;

use tradepulse_fake_binance::{DOCS_API_KEY, FakeBinance, FakeConfig, Side};

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
        Ok(fake) => fake,
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
    if let Err(e) = tokio::signal::ctrl_c().await {
        eprintln!("error: waiting for Ctrl-C: {e}");
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}
