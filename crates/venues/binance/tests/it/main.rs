//! Integration tests of the Binance adapter against the local fake Binance
//! (`tradepulse-fake-binance`), one module per concern.

mod limits;
mod market;
mod orders;
mod signing;
mod support;
mod user_stream;
