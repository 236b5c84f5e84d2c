//! Test fixtures: a fresh store per test on SQLite (temp file) or PostgreSQL (a fresh schema,
//! dropped afterwards), and a Redis key prefix per test. Unreachable services skip the test
//! locally and fail it under `CI`.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sqlx::Connection;
use tradepulse_store::{DatabaseUrl, Store, StoreOptions};

/// PostgreSQL used by the tests (trust auth).
pub fn pg_url() -> String {
    std::env::var("TRADEPULSE_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// Redis used by the tests.
pub fn redis_url() -> String {
    std::env::var("TRADEPULSE_TEST_REDIS_URL")
        .unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

/// A name unique to this process and call: `{tag}_{pid}_{n}_{nanos}`.
pub fn unique_name(tag: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{tag}_{}_{n}_{nanos}", std::process::id())
}

use crate::skip::PG_HINT;
pub use crate::skip::{REDIS_HINT, service_missing};

/// A store for one test, cleaned up on drop.
pub struct TestDb {
    pub store: Store,
    pub url: DatabaseUrl,
    pub options: StoreOptions,
    _dir: Option<tempfile::TempDir>,
    _schema: Option<SchemaGuard>,
}

impl TestDb {
    pub async fn sqlite() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let url = DatabaseUrl::sqlite_file(&dir.path().join("test.db"));
        let options = StoreOptions::default();
        let store = Store::connect_with(&url, options.clone()).await.unwrap();
        Self {
            store,
            url,
            options,
            _dir: Some(dir),
            _schema: None,
        }
    }

    /// `None` (after printing why) when PostgreSQL is unreachable outside CI.
    pub async fn postgres() -> Option<Self> {
        let raw = pg_url();
        let url = DatabaseUrl::parse(&raw).unwrap();
        let schema = unique_name("t");
        let options = StoreOptions {
            pg_schema: Some(schema.clone()),
            application_name: Some(schema.clone()),
            connect_timeout: Duration::from_secs(3),
            ..StoreOptions::default()
        };
        // Guard first, so the schema is dropped even if connecting or migrating fails.
        let guard = SchemaGuard { schema };
        match Store::connect_with(&url, options.clone()).await {
            Ok(store) => Some(Self {
                store,
                url,
                options,
                _dir: None,
                _schema: Some(guard),
            }),
            Err(e) if e.is_transient() => {
                service_missing("PostgreSQL", &url.redacted().to_string(), &e, PG_HINT);
                None
            }
            Err(e) => panic!("connecting to PostgreSQL: {e}"),
        }
    }

    /// A second, independent store on the same database (a "restarted process").
    pub async fn reopen(&self) -> Store {
        Store::connect_with(&self.url, self.options.clone())
            .await
            .unwrap()
    }

    /// Runs one raw SQL statement on this test's database through a separate driver
    /// connection (bypassing the repository), returning the driver's verdict.
    pub async fn raw_execute(&self, sql: &str) -> Result<u64, sqlx::Error> {
        let sql = sqlx::AssertSqlSafe(sql.to_owned());
        match self.url.backend() {
            tradepulse_store::BackendKind::Sqlite => {
                let mut conn = sqlx::SqliteConnection::connect(self.url.expose_secret()).await?;
                sqlx::query(sql)
                    .execute(&mut conn)
                    .await
                    .map(|r| r.rows_affected())
            }
            tradepulse_store::BackendKind::Postgres => {
                let mut conn = sqlx::PgConnection::connect(self.url.expose_secret()).await?;
                let schema = self.options.pg_schema.clone().unwrap_or_default();
                let set = format!("SET search_path TO \"{schema}\"");
                sqlx::query(sqlx::AssertSqlSafe(set))
                    .execute(&mut conn)
                    .await?;
                sqlx::query(sql)
                    .execute(&mut conn)
                    .await
                    .map(|r| r.rows_affected())
            }
        }
    }

    pub async fn finish(self) {
        self.store.close().await;
    }
}

/// Drops the test's PostgreSQL schema, also when the test panicked.
struct SchemaGuard {
    schema: String,
}

impl Drop for SchemaGuard {
    fn drop(&mut self) {
        let schema = self.schema.clone();
        // Drop cannot await and may run inside a runtime: use a thread with its own runtime.
        let handle = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async move {
                let connect = sqlx::PgConnection::connect(&pg_url());
                if let Ok(Ok(mut conn)) =
                    tokio::time::timeout(Duration::from_secs(3), connect).await
                {
                    let sql = format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE");
                    let _ = sqlx::query(sqlx::AssertSqlSafe(sql))
                        .execute(&mut conn)
                        .await;
                }
            });
        });
        let _ = handle.join();
    }
}

/// Runs `$name(db: &TestDb)` once on SQLite and once on PostgreSQL, as `$name::sqlite` and
/// `$name::postgres`.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let db = $crate::support::TestDb::sqlite().await;
                super::$name(&db).await;
                db.finish().await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some(db) = $crate::support::TestDb::postgres().await else { return };
                super::$name(&db).await;
                db.finish().await;
            }
        }
    )*};
}

/// A Redis key prefix for one test; its keys are deleted on drop.
pub struct TestRedis {
    pub config: tradepulse_store::RedisConfig,
}

impl TestRedis {
    /// `None` (after printing why) when Redis is unreachable outside CI.
    pub async fn new() -> Option<Self> {
        let url = redis_url();
        let config = tradepulse_store::RedisConfig::new(&url).with_prefix(&unique_name("tptest"));
        let reachable = match redis::Client::open(url.as_str()) {
            Ok(client) => {
                match tokio::time::timeout(
                    Duration::from_secs(2),
                    client.get_multiplexed_async_connection(),
                )
                .await
                {
                    Ok(Ok(_)) => Ok(()),
                    Ok(Err(e)) => Err(e.to_string()),
                    Err(_) => Err("no answer within 2 s".to_owned()),
                }
            }
            Err(e) => Err(e.to_string()),
        };
        match reachable {
            Ok(()) => Some(Self { config }),
            Err(e) => {
                service_missing("Redis", &config.redacted_url().to_string(), &e, REDIS_HINT);
                None
            }
        }
    }

    /// A plain admin connection (for CLIENT KILL, XLEN …).
    pub async fn admin(&self) -> redis::aio::MultiplexedConnection {
        redis::Client::open(redis_url())
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .unwrap()
    }
}

impl Drop for TestRedis {
    fn drop(&mut self) {
        let pattern = format!("{}:*", self.config.key_prefix);
        let handle = std::thread::spawn(move || {
            let Ok(client) = redis::Client::open(redis_url()) else {
                return;
            };
            let Ok(mut conn) = client.get_connection_with_timeout(Duration::from_secs(2)) else {
                return;
            };
            let keys: Vec<String> = redis::cmd("KEYS")
                .arg(&pattern)
                .query(&mut conn)
                .unwrap_or_default();
            if !keys.is_empty() {
                let _: redis::RedisResult<i64> = redis::cmd("DEL").arg(keys).query(&mut conn);
            }
        });
        let _ = handle.join();
    }
}

/// A TCP proxy in front of a real server whose link can be cut, to simulate a network outage
/// or a server restart without touching the shared server.
pub struct FlakyProxy {
    pub port: u16,
    up: std::sync::Arc<std::sync::atomic::AtomicBool>,
    generation: std::sync::Arc<std::sync::atomic::AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl FlakyProxy {
    pub async fn start(upstream: &'static str) -> Self {
        use std::sync::atomic::{AtomicBool, AtomicU64};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let up = std::sync::Arc::new(AtomicBool::new(true));
        let generation = std::sync::Arc::new(AtomicU64::new(0));
        let (up2, gen2) = (up.clone(), generation.clone());
        let task = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if !up2.load(Ordering::SeqCst) {
                    drop(inbound); // refuse while down
                    continue;
                }
                let born = gen2.load(Ordering::SeqCst);
                let gen3 = gen2.clone();
                tokio::spawn(async move {
                    let Ok(mut outbound) = tokio::net::TcpStream::connect(upstream).await else {
                        return;
                    };
                    let copy = tokio::io::copy_bidirectional(&mut inbound, &mut outbound);
                    let cut = async {
                        while gen3.load(Ordering::SeqCst) == born {
                            tokio::time::sleep(Duration::from_millis(10)).await;
                        }
                    };
                    tokio::select! {
                        _ = copy => {}
                        () = cut => {} // dropping both sockets kills the link
                    }
                });
            }
        });
        Self {
            port,
            up,
            generation,
            task,
        }
    }

    /// Kills every open connection and refuses new ones until [`FlakyProxy::restore`].
    /// Returns once the links are down.
    pub async fn cut(&self) {
        self.cut_now();
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    fn cut_now(&self) {
        self.up.store(false, Ordering::SeqCst);
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    pub fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

impl Drop for FlakyProxy {
    fn drop(&mut self) {
        self.cut_now();
        self.task.abort();
    }
}
