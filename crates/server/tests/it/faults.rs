//! Issue 13 point 9, store unreachable: the exec engine (the same engine the core runs
//! in-process) on PostgreSQL through a TCP proxy the test cuts. While the store cannot be
//! reached no new order leaves (it cannot be journaled first), `/readyz` says why; once the
//! store is back, orders flow again and nothing was sent twice.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Mutex;
use tradepulse_live::{OrderFilter, StaticSecrets};
use tradepulse_server::{ExecConfig, RunningExec};

const TOKEN: &str = "faults-trader-token";

fn pg_url() -> String {
    std::env::var("TRADEPULSE_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// A TCP proxy to PostgreSQL that can be cut: `down` closes every open connection and
/// refuses new ones until `up`.
struct Proxy {
    addr: std::net::SocketAddr,
    open: Arc<AtomicBool>,
    links: Arc<Mutex<Vec<tokio::task::JoinHandle<()>>>>,
    accept: tokio::task::JoinHandle<()>,
}

impl Proxy {
    async fn start(target: std::net::SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let open = Arc::new(AtomicBool::new(true));
        let links: Arc<Mutex<Vec<tokio::task::JoinHandle<()>>>> = Arc::default();
        let (o, l) = (Arc::clone(&open), Arc::clone(&links));
        let accept = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if !o.load(Ordering::SeqCst) {
                    drop(client); // refused: closed at once
                    continue;
                }
                let link = tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                l.lock().await.push(link);
            }
        });
        Self {
            addr,
            open,
            links,
            accept,
        }
    }

    async fn down(&self) {
        self.open.store(false, Ordering::SeqCst);
        for link in self.links.lock().await.drain(..) {
            link.abort();
        }
    }

    fn up(&self) {
        self.open.store(true, Ordering::SeqCst);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_store_stops_new_orders_until_it_is_back() {
    let url = pg_url();
    let target: std::net::SocketAddr = match url::Url::parse(&url) {
        Ok(u) => {
            let host = u.host_str().unwrap_or("127.0.0.1").to_owned();
            let port = u.port().unwrap_or(5432);
            match tokio::net::lookup_host((host.as_str(), port)).await {
                Ok(mut addrs) => addrs.next().unwrap(),
                Err(e) => {
                    return crate::skip::service_missing(
                        "PostgreSQL",
                        &url,
                        &e,
                        crate::skip::PG_HINT,
                    );
                }
            }
        }
        Err(e) => panic!("TRADEPULSE_TEST_PG_URL {url:?}: {e}"),
    };
    if let Err(e) = TcpStream::connect(target).await {
        return crate::skip::service_missing("PostgreSQL", &url, &e, crate::skip::PG_HINT);
    }
    let proxy = Proxy::start(target).await;
    let mut via_proxy = url::Url::parse(&url).unwrap();
    via_proxy.set_host(Some("127.0.0.1")).unwrap();
    via_proxy.set_port(Some(proxy.addr.port())).unwrap();
    let schema = format!(
        "faults_{}_{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos()
    );
    let config = ExecConfig::parse(
        &format!(
            r#"
listen: 127.0.0.1:0
database_url: "{via_proxy}"
database_schema: {schema}
venue:
  sim:
    currency: USD
    opening_cash: "1000000"
    instruments:
      - {{ symbol: BTCUSD, venue: SIM, quote_currency: USD, base_asset: BTC, tick_size: "0.01", lot_size: "0.0001" }}
    market: {{ interval_ms: 20, start_prices: {{ BTCUSD.SIM: "50000" }}, volatility_bps: "0" }}
auth:
  tokens:
    - {{ name: desk, role: trader, secret: TRADER }}
http: {{ request_timeout_ms: 8000 }}
shutdown: {{ grace_ms: 2000 }}
"#
        ),
        std::path::Path::new("faults.yaml"),
    )
    .unwrap();
    let secrets = StaticSecrets::default().with("TRADER", TOKEN);
    let exec = RunningExec::start_with(
        &config,
        TcpListener::bind("127.0.0.1:0").await.unwrap(),
        &secrets,
    )
    .await
    .unwrap();
    for _ in 0..500 {
        if exec.engine.is_ready() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::sleep(Duration::from_millis(100)).await; // a market bar
    let base = format!("http://{}", exec.addr);
    let http = reqwest::Client::new();
    let submit = |id: &'static str| {
        let (http, base) = (http.clone(), base.clone());
        async move {
            let r = http
                .post(format!("{base}/v1/orders"))
                .bearer_auth(TOKEN)
                .json(&json!({
                    "client_order_id": id, "instrument": "BTCUSD.SIM", "side": "buy",
                    "type": "market", "quantity": "0.01"
                }))
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            (status, r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let readyz = || {
        let (http, base) = (http.clone(), base.clone());
        async move {
            let r = http.get(format!("{base}/readyz")).send().await.unwrap();
            let status = r.status().as_u16();
            (status, r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let (status, body) = submit("before-1").await;
    assert_eq!(status, 201, "{body}");

    proxy.down().await;
    let (status, body) = submit("during-1").await;
    let code = body["code"].as_str().unwrap_or_default().to_owned();
    assert!(
        matches!(status, 422 | 503) && code == "STORE_UNAVAILABLE",
        "refused while the store is away: {status} {body}"
    );
    let (status, body) = readyz().await;
    assert_eq!(status, 503, "{body}");
    assert!(
        body["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("store"),
        "{body}"
    );
    let status_now = exec.engine.status().await.unwrap();
    assert_eq!(
        status_now.orders_sent, 1,
        "nothing left for the venue unjournaled"
    );

    proxy.up();
    let mut back = false;
    for _ in 0..200 {
        if readyz().await.0 == 200 {
            back = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(back, "ready again once the store is back");
    let (status, body) = submit("after-1").await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(exec.engine.status().await.unwrap().orders_sent, 2);
    let orders = exec
        .engine
        .orders(OrderFilter {
            limit: Some(OrderFilter::MAX_LIMIT),
            ..OrderFilter::default()
        })
        .await
        .unwrap();
    let status_of = |id: &str| {
        orders
            .iter()
            .find(|o| o.request.client_order_id.as_str() == id)
            .map(|o| o.status())
    };
    assert_eq!(status_of("before-1"), Some("filled"));
    assert_eq!(status_of("after-1"), Some("filled"));
    assert_eq!(status_of("during-1"), Some("rejected"), "never sent");
    // The same id again is that order, not a new one.
    let (status, body) = submit("during-1").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["reject_reason"], "STORE_UNAVAILABLE");
    assert_eq!(exec.engine.status().await.unwrap().orders_sent, 2);
    // Both sent orders are in the journal: a restart would know them.
    let journaled = exec.engine.store().order_event_count().await.unwrap();
    assert!(journaled >= 2, "{journaled}");
    exec.stop().await.unwrap();
}
