//! The hub benchmark's processes (run by `bench/hub`, never by hand):
//!
//! - `bench-hub listen URL SUBSCRIBERS MESSAGES`: SUBSCRIBERS subscriptions to the
//!   topic `bench` on the Redis hub at URL; prints `ready` once subscribed, then waits
//!   until each has received MESSAGES messages and prints its report;
//! - `bench-hub publish URL MESSAGES RATE`: publishes MESSAGES messages on `bench`, each
//!   awaited before the next, at most RATE a second (0: as fast as it can);
//! - `bench-hub local SUBSCRIBERS MESSAGES RATE`: both in one process, on the
//!   in-process hub.
//!
//! Each message carries the wall-clock time it was published at (the processes share a
//! machine, so a clock); a report is one line: `deliveries lagged first_ns last_ns`
//! followed by the delivery latencies as `bucket:count` pairs (10 µs buckets).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bocata::hub::{Hub, Received};

const TOPIC: &str = "bench";
/// Latency buckets of 10 µs, up to 1 s; slower deliveries count in the last one.
const BUCKETS: usize = 100_000;
const BUCKET_NS: u64 = 10_000;

fn now_ns() -> u64 {
    let since = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    u64::try_from(since.as_nanos()).unwrap_or(u64::MAX)
}

fn arg(args: &[String], n: usize) -> &str {
    args.get(n).map(String::as_str).unwrap_or_else(|| {
        eprintln!("usage: bench-hub listen URL SUBSCRIBERS MESSAGES | publish URL MESSAGES RATE | local SUBSCRIBERS MESSAGES RATE");
        std::process::exit(2)
    })
}

fn number(text: &str) -> u64 {
    text.parse().unwrap_or_else(|_| {
        eprintln!("not a number: {text}");
        std::process::exit(2)
    })
}

/// What the subscriptions of one process saw.
struct Report {
    histogram: Vec<AtomicU64>,
    deliveries: AtomicU64,
    lagged: AtomicU64,
    first: AtomicU64,
    last: AtomicU64,
}

impl Report {
    fn new() -> Arc<Self> {
        Arc::new(Self {
            histogram: (0..BUCKETS).map(|_| AtomicU64::new(0)).collect(),
            deliveries: AtomicU64::new(0),
            lagged: AtomicU64::new(0),
            first: AtomicU64::new(u64::MAX),
            last: AtomicU64::new(0),
        })
    }

    fn print(&self) {
        let mut line = format!(
            "{} {} {} {}",
            self.deliveries.load(Ordering::Relaxed),
            self.lagged.load(Ordering::Relaxed),
            self.first.load(Ordering::Relaxed),
            self.last.load(Ordering::Relaxed),
        );
        for (bucket, count) in self.histogram.iter().enumerate() {
            let count = count.load(Ordering::Relaxed);
            if count > 0 {
                line.push_str(&format!(" {bucket}:{count}"));
            }
        }
        println!("{line}");
    }
}

/// Subscribes `subscribers` times; the tasks that read them end after `messages`.
async fn subscribe(hub: &Hub, subscribers: u64, messages: u64, report: &Arc<Report>) -> Vec<tokio::task::JoinHandle<()>> {
    let mut tasks = Vec::new();
    for _ in 0..subscribers {
        let mut subscription = hub.subscribe(TOPIC).await;
        let report = report.clone();
        tasks.push(tokio::spawn(async move {
            let mut seen = 0;
            while seen < messages {
                match subscription.recv().await {
                    Some(Received::Message(message)) => {
                        let now = now_ns();
                        let sent: u64 = message.as_text().and_then(|t| t.parse().ok()).unwrap_or(now);
                        let bucket = (now.saturating_sub(sent) / BUCKET_NS).min(BUCKETS as u64 - 1);
                        report.histogram[bucket as usize].fetch_add(1, Ordering::Relaxed);
                        report.deliveries.fetch_add(1, Ordering::Relaxed);
                        report.first.fetch_min(now, Ordering::Relaxed);
                        report.last.fetch_max(now, Ordering::Relaxed);
                        seen += 1;
                    }
                    Some(Received::Lagged(missed)) => {
                        report.lagged.fetch_add(missed, Ordering::Relaxed);
                        seen += missed;
                    }
                    Some(_) => {}
                    None => break,
                }
            }
        }));
    }
    tasks
}

async fn publish(hub: &Hub, messages: u64, rate: u64) {
    let start = tokio::time::Instant::now();
    for n in 0..messages {
        if rate > 0 {
            tokio::time::sleep_until(start + Duration::from_nanos(n * 1_000_000_000 / rate)).await;
        }
        if let Err(e) = hub.publish(TOPIC, now_ns().to_string()).await {
            eprintln!("publish failed: {e}");
            std::process::exit(1);
        }
    }
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    // Generous, so that a loaded machine lags rather than drops: the report counts it.
    let builder = Hub::builder().buffer(1 << 16);
    match arg(&args, 1) {
        "listen" => {
            let hub = builder.redis(arg(&args, 2)).unwrap_or_else(|e| panic!("{e}"));
            let report = Report::new();
            let tasks = subscribe(&hub, number(arg(&args, 3)), number(arg(&args, 4)), &report).await;
            println!("ready");
            for task in tasks {
                task.await.ok();
            }
            report.print();
        }
        "publish" => {
            let hub = builder.redis(arg(&args, 2)).unwrap_or_else(|e| panic!("{e}"));
            publish(&hub, number(arg(&args, 3)), number(arg(&args, 4))).await;
        }
        "local" => {
            let hub = builder.in_process();
            let report = Report::new();
            let messages = number(arg(&args, 3));
            let tasks = subscribe(&hub, number(arg(&args, 2)), messages, &report).await;
            publish(&hub, messages, number(arg(&args, 4))).await;
            for task in tasks {
                task.await.ok();
            }
            report.print();
        }
        other => {
            eprintln!("unknown mode {other}");
            std::process::exit(2);
        }
    }
}
