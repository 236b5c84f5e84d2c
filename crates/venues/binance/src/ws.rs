//! WebSocket plumbing shared by the user-data and market-data streams: connect with a deadline,
//! read text frames with an idle deadline (the server pings every 20 s; tungstenite answers pings
//! while we read), and the reconnect back-off.

use std::time::Duration;

use futures_util::{SinkExt as _, StreamExt as _};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use url::Url;

use crate::Error;

pub(crate) type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

pub(crate) async fn connect(
    url: &Url,
    deadline: Duration,
    endpoint: &str,
) -> Result<Socket, Error> {
    let attempt = tokio_tungstenite::connect_async(url.as_str());
    match tokio::time::timeout(deadline, attempt).await {
        Err(_) => Err(Error::Timeout {
            endpoint: format!("{endpoint} connect"),
            after: deadline,
        }),
        Ok(Err(e)) => Err(Error::WebSocket {
            endpoint: endpoint.to_owned(),
            reason: format!("connect: {e}"),
        }),
        Ok(Ok((socket, _response))) => Ok(socket),
    }
}

/// The next text frame. Pings are answered by tungstenite as part of reading; binary frames (SBE)
/// are not requested and skipped.
///
/// # Errors
/// [`Error::WebSocket`] when the peer closes or the connection breaks, [`Error::Timeout`] when no
/// frame at all arrives within `idle`.
pub(crate) async fn next_text(
    socket: &mut Socket,
    idle: Duration,
    endpoint: &str,
) -> Result<String, Error> {
    loop {
        let frame = match tokio::time::timeout(idle, socket.next()).await {
            Err(_) => {
                return Err(Error::Timeout {
                    endpoint: format!("{endpoint} read"),
                    after: idle,
                });
            }
            Ok(None) => {
                return Err(Error::WebSocket {
                    endpoint: endpoint.to_owned(),
                    reason: "connection ended".to_owned(),
                });
            }
            Ok(Some(Err(e))) => {
                return Err(Error::WebSocket {
                    endpoint: endpoint.to_owned(),
                    reason: e.to_string(),
                });
            }
            Ok(Some(Ok(frame))) => frame,
        };
        match frame {
            Message::Text(text) => return Ok(text.as_str().to_owned()),
            Message::Close(close) => {
                return Err(Error::WebSocket {
                    endpoint: endpoint.to_owned(),
                    reason: format!(
                        "closed by the server{}",
                        close
                            .map(|c| format!(": {} {}", c.code, c.reason))
                            .unwrap_or_default()
                    ),
                });
            }
            Message::Ping(_) | Message::Pong(_) | Message::Binary(_) | Message::Frame(_) => {}
        }
    }
}

pub(crate) async fn send_text(
    socket: &mut Socket,
    text: String,
    deadline: Duration,
    endpoint: &str,
) -> Result<(), Error> {
    match tokio::time::timeout(deadline, socket.send(Message::text(text))).await {
        Err(_) => Err(Error::Timeout {
            endpoint: format!("{endpoint} send"),
            after: deadline,
        }),
        Ok(Err(e)) => Err(Error::WebSocket {
            endpoint: endpoint.to_owned(),
            reason: format!("send: {e}"),
        }),
        Ok(Ok(())) => Ok(()),
    }
}

/// Exponential reconnect delay: `min`, doubled per failure, capped at `max`, reset after a
/// connection that worked; each delay is drawn from its upper half ("equal jitter"), so clients
/// that lost the venue together do not all come back in the same millisecond.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Backoff {
    min: Duration,
    max: Duration,
    next: Duration,
}

impl Backoff {
    pub(crate) fn new((min, max): (Duration, Duration)) -> Self {
        Self {
            min,
            max,
            next: min,
        }
    }

    pub(crate) fn reset(&mut self) {
        self.next = self.min;
    }

    pub(crate) fn next_delay(&mut self) -> Duration {
        let delay = self.next;
        self.next = self.next.saturating_mul(2).min(self.max);
        let half = delay / 2;
        half + half.mul_f64(jitter())
    }
}

/// A fraction in `[0, 1)` for the reconnect jitter: the clock's nanoseconds mixed with a
/// per-process counter (no cryptographic need; only spread).
fn jitter() -> f64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static CALLS: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let mut x = u64::from(nanos) ^ CALLS.fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed);
    // SplitMix64's finaliser.
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^= x >> 31;
    (x >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_resets_with_jitter_in_the_upper_half() {
        let within = |d: Duration, full: u64| {
            let ms = d.as_secs_f64() * 1e3;
            assert!(
                ms >= full as f64 / 2.0 && ms <= full as f64,
                "{ms} ms of {full}"
            );
        };
        let mut b = Backoff::new((Duration::from_millis(100), Duration::from_millis(350)));
        within(b.next_delay(), 100);
        within(b.next_delay(), 200);
        within(b.next_delay(), 350);
        within(b.next_delay(), 350);
        b.reset();
        within(b.next_delay(), 100);
        let draws: Vec<f64> = (0..64).map(|_| jitter()).collect();
        assert!(draws.iter().all(|x| (0.0..1.0).contains(x)));
        let distinct = draws
            .iter()
            .map(|x| x.to_bits())
            .collect::<std::collections::HashSet<_>>();
        assert!(distinct.len() > 60, "the jitter spreads");
    }
}
