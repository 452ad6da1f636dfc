//! The hub across processes: `PUBLISH` on a multiplexed connection, and one pub/sub
//! connection per process that hears every topic this process subscribes to and hands
//! each message to [`Topics`], which fans it out.
//!
//! Overview:
//! - publishing ([`RedisLink::publish`]) connects on demand; after a failed connection
//!   attempt it fails at once until a backoff delay has passed, so a Redis that is down
//!   costs each publish nothing but the error;
//! - listening ([`listen`]) is one task, started by the first subscribe: connect,
//!   `SUBSCRIBE` every topic that has subscribers, then serve (messages in, subscribe
//!   and unsubscribe commands, a `PING` every [`PING_INTERVAL`]); a lost connection
//!   sends [`Received::Interrupted`], waits out the backoff and starts over, and the
//!   next connection sends [`Received::Resumed`].

use std::collections::HashSet;
use std::hash::{BuildHasher, RandomState};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use redis::aio::{MultiplexedConnection, PubSubSink, PubSubStream};
use tokio::sync::{mpsc, oneshot};
use tokio::time::{Instant, timeout};

use super::error::{HubError, Problem, Retry};
use super::topics::Topics;
use super::{HubBuilder, Received};

/// How often the listening connection is checked with a `PING` when nothing else
/// happens on it, so that a Redis that vanished without closing the connection (a
/// network partition) is noticed.
const PING_INTERVAL: Duration = Duration::from_secs(10);

/// The first reconnection delay; each failure doubles it, up to the hub's maximum.
const FIRST_RETRY: Duration = Duration::from_millis(100);

/// The timeouts and names both halves use.
#[derive(Clone, Debug)]
struct Link {
    client: redis::Client,
    /// `host:port` (or the socket path), for messages: never the URL, which may hold a
    /// password.
    addr: String,
    prefix: String,
    connect_timeout: Duration,
    command_timeout: Duration,
    max_retry: Duration,
}

/// A hub's connection to Redis: the publishing half and the listening task's mailbox.
#[derive(Debug)]
pub(super) struct RedisLink {
    link: Link,
    publisher: tokio::sync::Mutex<Publisher>,
    commands: mpsc::UnboundedSender<Command>,
    /// The listening task's end of `commands`, until the first subscribe starts it.
    idle: Mutex<Option<mpsc::UnboundedReceiver<Command>>>,
}

/// What a subscribe or a subscription's drop asks of the listening task.
#[derive(Debug)]
enum Command {
    /// Make sure Redis sends this process `topic`'s messages; answer once it does (or
    /// once it is clear that it cannot right now).
    Subscribe(Arc<str>, oneshot::Sender<()>),
    /// `topic` may have lost its last subscriber here.
    Unsubscribe(Arc<str>),
}

impl RedisLink {
    /// Parses `url`; connects nothing yet.
    pub(super) fn new(url: &str, settings: &HubBuilder) -> Result<Self, HubError> {
        let client = redis::Client::open(url).map_err(Problem::Url)?;
        let addr = client.get_connection_info().addr().to_string();
        let (commands, idle) = mpsc::unbounded_channel();
        let link = Link {
            client,
            addr,
            prefix: settings.redis_prefix.clone(),
            connect_timeout: settings.connect_timeout,
            command_timeout: settings.command_timeout,
            max_retry: settings.max_reconnect_delay,
        };
        Ok(Self {
            publisher: tokio::sync::Mutex::new(Publisher {
                connection: None,
                retry_at: None,
                cause: String::new(),
                backoff: Backoff::new(link.max_retry),
            }),
            link,
            commands,
            idle: Mutex::new(Some(idle)),
        })
    }

    /// `host:port` of the Redis server.
    pub(super) fn addr(&self) -> &str {
        &self.link.addr
    }

    /// Publishes `payload` on `topic`, within the connect timeout plus the command
    /// timeout.
    pub(super) async fn publish(&self, topic: &str, payload: Bytes) -> Result<(), HubError> {
        let mut connection = self.connection().await?;
        let channel = format!("{}{topic}", self.link.prefix);
        let command = redis::cmd("PUBLISH")
            .arg(channel)
            .arg(payload.as_ref())
            .clone();
        let result = timeout(
            self.link.command_timeout,
            command.query_async::<i64>(&mut connection),
        )
        .await;
        let problem = match result {
            Ok(Ok(_)) => return Ok(()),
            Ok(Err(e)) if !is_connection_problem(&e) => {
                return Err(self.link.problem("PUBLISH", e, Retry::Now).into());
            }
            Ok(Err(e)) => self.link.problem("PUBLISH", e, Retry::Now),
            Err(_) => self.link.timeout("PUBLISH"),
        };
        // The connection is broken or stuck: the next publish makes a new one.
        self.publisher.lock().await.connection = None;
        Err(problem.into())
    }

    /// The publishing connection, made if there is none and the backoff allows.
    async fn connection(&self) -> Result<MultiplexedConnection, HubError> {
        let mut publisher = self.publisher.lock().await;
        if let Some(connection) = &publisher.connection {
            return Ok(connection.clone());
        }
        let now = Instant::now();
        if let Some(at) = publisher.retry_at.filter(|at| *at > now) {
            let cause = publisher.cause.clone();
            return Err(self.link.unreachable(cause, Retry::After(at - now)).into());
        }
        let config = redis::AsyncConnectionConfig::new()
            .set_connection_timeout(Some(self.link.connect_timeout))
            .set_response_timeout(Some(self.link.command_timeout));
        let attempt = timeout(
            self.link.connect_timeout,
            self.link
                .client
                .get_multiplexed_async_connection_with_config(&config),
        )
        .await;
        let delay = publisher.backoff.next_delay();
        let (cause, problem) = match attempt {
            Ok(Ok(connection)) => {
                publisher.backoff.reset();
                publisher.retry_at = None;
                publisher.connection = Some(connection.clone());
                return Ok(connection);
            }
            Ok(Err(e)) => (
                e.to_string(),
                self.link.problem("the connection", e, Retry::After(delay)),
            ),
            Err(_) => ("no answer".to_owned(), self.link.timeout("the connection")),
        };
        publisher.retry_at = Some(now + delay);
        publisher.cause = cause;
        Err(problem.into())
    }

    /// Returns once Redis sends this process `topic`'s messages, or once it is clear that
    /// it cannot yet (Redis is down: the listening task subscribes when it is back).
    pub(super) async fn confirm(&self, topic: Arc<str>, topics: &Arc<Topics>) {
        let idle = self
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(commands) = idle {
            tokio::spawn(listen(self.link.clone(), topics.clone(), commands));
        }
        let (done, answered) = oneshot::channel();
        if self.commands.send(Command::Subscribe(topic, done)).is_ok() {
            // The task bounds each step itself; this only guards against a bug there.
            let patience = self.link.connect_timeout + 2 * self.link.command_timeout;
            timeout(patience, answered).await.ok();
        }
    }

    /// `topic` may have lost its last subscriber in this process.
    pub(super) fn release(&self, topic: Arc<str>) {
        self.commands.send(Command::Unsubscribe(topic)).ok();
    }
}

/// Whether a Redis error means the connection is gone or unusable (rather than Redis
/// refusing a command it read).
fn is_connection_problem(e: &redis::RedisError) -> bool {
    e.is_io_error()
        || e.is_connection_refusal()
        || e.is_connection_dropped()
        || e.is_timeout()
        || e.is_unrecoverable_error()
}

impl Link {
    /// What a Redis error means for `what`: Redis out of reach, too slow, or refusing.
    fn problem(&self, what: &'static str, e: redis::RedisError, retry: Retry) -> Problem {
        if e.is_timeout() {
            self.timeout(what)
        } else if is_connection_problem(&e) {
            self.unreachable(e.to_string(), retry)
        } else {
            self.refused(what, e)
        }
    }

    fn unreachable(&self, cause: String, retry: Retry) -> Problem {
        Problem::Unreachable {
            addr: self.addr.clone(),
            cause,
            retry,
        }
    }

    fn timeout(&self, what: &'static str) -> Problem {
        let after = if what == "the connection" {
            self.connect_timeout
        } else {
            self.command_timeout
        };
        Problem::Timeout {
            addr: self.addr.clone(),
            what,
            after,
        }
    }

    fn refused(&self, what: &'static str, source: redis::RedisError) -> Problem {
        Problem::Refused {
            addr: self.addr.clone(),
            what,
            source,
        }
    }

    fn channel(&self, topic: &str) -> String {
        format!("{}{topic}", self.prefix)
    }

    fn channels<'a>(&self, topics: impl IntoIterator<Item = &'a Arc<str>>) -> Vec<String> {
        topics
            .into_iter()
            .map(|topic| self.channel(topic))
            .collect()
    }
}

/// The publishing half's state.
#[derive(Debug)]
struct Publisher {
    connection: Option<MultiplexedConnection>,
    /// After a failed connection attempt: publishes fail at once until then.
    retry_at: Option<Instant>,
    /// Why the last connection attempt failed.
    cause: String,
    backoff: Backoff,
}

/// Reconnection delays: doubling from [`FIRST_RETRY`] up to a maximum, each spread
/// over its upper half so that processes that lost Redis together do not all come back
/// at the same instant.
#[derive(Debug)]
struct Backoff {
    next: Duration,
    max: Duration,
}

impl Backoff {
    fn new(max: Duration) -> Self {
        Self {
            next: FIRST_RETRY.min(max),
            max,
        }
    }

    fn reset(&mut self) {
        self.next = FIRST_RETRY.min(self.max);
    }

    fn next_delay(&mut self) -> Duration {
        let delay = self.next;
        self.next = (self.next * 2).min(self.max);
        // A random fraction in [0.5, 1): std's hasher keys are random per process.
        let random = RandomState::new().hash_one(Instant::now()) % 1000;
        delay / 2 + delay.mul_f64(random as f64 / 2000.0)
    }
}

/// How a served connection ended.
enum Ended {
    /// Every hub handle is gone: nothing is left to listen for.
    HubDropped,
    /// The connection broke, or stopped answering.
    Lost(String),
}

/// The listening task: one pub/sub connection for the whole process, remade whenever
/// it is lost.
async fn listen(link: Link, topics: Arc<Topics>, mut commands: mpsc::UnboundedReceiver<Command>) {
    let mut backoff = Backoff::new(link.max_retry);
    // Whether messages may have been missed since the last connection: an attempt
    // failed or a connection was lost.
    let mut outage = false;
    loop {
        match connect(&link, &topics).await {
            Ok((sink, stream, subscribed)) => {
                backoff.reset();
                if outage {
                    tracing::info!(redis = %link.addr, "hub: connected to Redis again");
                    topics.notify_all(&Received::Resumed);
                }
                match serve(&link, &topics, sink, stream, subscribed, &mut commands).await {
                    Ended::HubDropped => return,
                    Ended::Lost(why) => {
                        tracing::warn!(redis = %link.addr, "hub: lost Redis ({why}); reconnecting");
                        topics.notify_all(&Received::Interrupted);
                    }
                }
            }
            Err(why) if !outage => {
                tracing::warn!(redis = %link.addr, "hub: cannot reach Redis ({why}); retrying");
            }
            Err(why) => tracing::debug!(redis = %link.addr, "hub: still no Redis ({why})"),
        }
        // Whichever way the connection ended, messages may have been missed.
        outage = true;
        // Subscribes made meanwhile are answered at once: their topics are in `topics`,
        // and the next connection subscribes to them.
        let pause = tokio::time::sleep(backoff.next_delay());
        tokio::pin!(pause);
        loop {
            tokio::select! {
                () = &mut pause => break,
                command = commands.recv() => match command {
                    None => return,
                    Some(Command::Subscribe(_, done)) => {
                        done.send(()).ok();
                    }
                    Some(Command::Unsubscribe(_)) => {}
                },
            }
        }
    }
}

/// A pub/sub connection subscribed to every topic that has subscribers now.
async fn connect(
    link: &Link,
    topics: &Topics,
) -> Result<(PubSubSink, PubSubStream, HashSet<Arc<str>>), String> {
    let pubsub = match timeout(link.connect_timeout, link.client.get_async_pubsub()).await {
        Ok(Ok(pubsub)) => pubsub,
        Ok(Err(e)) => return Err(e.to_string()),
        Err(_) => return Err(format!("no connection within {:?}", link.connect_timeout)),
    };
    let (mut sink, stream) = pubsub.split();
    let names = topics.names();
    if !names.is_empty() {
        command(link, "SUBSCRIBE", sink.subscribe(link.channels(&names))).await?;
    }
    Ok((sink, stream, names.into_iter().collect()))
}

/// Runs a Redis command of the listening connection within the command timeout.
async fn command<T>(
    link: &Link,
    what: &str,
    future: impl Future<Output = redis::RedisResult<T>>,
) -> Result<T, String> {
    match timeout(link.command_timeout, future).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => Err(format!("{what}: {e}")),
        Err(_) => Err(format!(
            "no answer to {what} within {:?}",
            link.command_timeout
        )),
    }
}

/// Hands each message to its topic and carries out subscribes and unsubscribes, until
/// the connection fails or the hub is gone.
async fn serve(
    link: &Link,
    topics: &Topics,
    mut sink: PubSubSink,
    mut stream: PubSubStream,
    mut subscribed: HashSet<Arc<str>>,
    commands: &mut mpsc::UnboundedReceiver<Command>,
) -> Ended {
    let mut ping = tokio::time::interval_at(Instant::now() + PING_INTERVAL, PING_INTERVAL);
    ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            message = stream.next() => {
                let Some(message) = message else {
                    return Ended::Lost("the connection closed".to_owned());
                };
                if let Some(topic) = message.get_channel_name().strip_prefix(&link.prefix) {
                    topics.deliver(topic, Bytes::copy_from_slice(message.get_payload_bytes()));
                }
            }
            command = commands.recv() => {
                let Some(command) = command else {
                    return Ended::HubDropped;
                };
                if let Err(why) = obey(link, topics, &mut sink, &mut subscribed, command).await {
                    return Ended::Lost(why);
                }
            }
            _ = ping.tick() => {
                if let Err(why) = self::command(link, "PING", sink.ping::<redis::Value>()).await {
                    return Ended::Lost(why);
                }
            }
        }
    }
}

/// Carries out a subscribe or an unsubscribe on the listening connection; an error
/// means the connection is lost.
async fn obey(
    link: &Link,
    topics: &Topics,
    sink: &mut PubSubSink,
    subscribed: &mut HashSet<Arc<str>>,
    command: Command,
) -> Result<(), String> {
    match command {
        Command::Subscribe(topic, done) => {
            if !subscribed.contains(&topic) {
                let channel = link.channel(&topic);
                self::command(link, "SUBSCRIBE", sink.subscribe(channel)).await?;
                subscribed.insert(topic);
            }
            done.send(()).ok();
        }
        // A subscriber may have come back since the command was sent.
        Command::Unsubscribe(topic) if !topics.contains(&topic) && subscribed.remove(&topic) => {
            let channel = link.channel(&topic);
            self::command(link, "UNSUBSCRIBE", sink.unsubscribe(channel)).await?;
        }
        Command::Unsubscribe(_) => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_its_cap_and_starts_over_after_a_reset() {
        let mut backoff = Backoff::new(Duration::from_secs(1));
        let delays: Vec<Duration> = (0..8).map(|_| backoff.next_delay()).collect();
        let caps = [100, 200, 400, 800, 1000, 1000, 1000, 1000];
        for (delay, cap) in delays.iter().zip(caps) {
            let cap = Duration::from_millis(cap);
            assert!(
                *delay >= cap / 2 && *delay < cap,
                "{delay:?} against {cap:?}"
            );
        }
        backoff.reset();
        assert!(backoff.next_delay() < Duration::from_millis(100));
    }
}
