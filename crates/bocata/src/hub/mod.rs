//! A broadcast hub for views: topics that SSE and WebSocket views publish on and
//! subscribe to, inside one process by default, and across every process of a
//! deployment through Redis pub/sub (feature `redis`).
//!
//! ```
//! use bocata::hub::{Hub, Received};
//! use bocata::{App, Event, Request, Res, Result};
//!
//! /// `GET /news`: every headline published from now on, as server-sent events.
//! async fn news(req: &Request, res: &mut Res) -> Result {
//!     let hub: &Hub = req.state()?;
//!     let mut headlines = hub.subscribe("news").await;
//!     res.sse(bocata::stream! {
//!         while let Some(received) = headlines.recv().await {
//!             match received {
//!                 Received::Message(m) => yield Event::new().data(m.as_text().unwrap_or("")),
//!                 other => yield Event::new().event("notice").data(format!("{other:?}")),
//!             }
//!         }
//!     });
//!     Ok(())
//! }
//!
//! /// `POST /news`: publishes the request's body.
//! async fn publish(req: &Request, res: &mut Res) -> Result {
//!     let hub: &Hub = req.state()?;
//!     hub.publish("news", req.text().await?.to_owned()).await?;
//!     res.status(204);
//!     Ok(())
//! }
//!
//! let app = App::new()
//!     .state(Hub::in_process()) // or Hub::redis(url)? with feature `redis`
//!     .route("/news", bocata::get(news).post(publish));
//! ```
//!
//! What the hub promises, in each mode:
//!
//! - **Order**: the messages one publisher publishes on a topic (each `publish`
//!   awaited before the next) reach every subscriber in that order.
//! - **From when**: once `subscribe` has returned, every message published on the topic
//!   afterwards reaches the subscription, from any process (while Redis is reachable).
//! - **Slow subscribers**: each subscription may fall at most
//!   [`buffer`](HubBuilder::buffer) messages behind; past that, what happens is the
//!   [`SlowSubscriber`] policy: by default it skips ahead and is told how many messages
//!   it missed ([`Received::Lagged`]). A slow subscriber never slows the publisher or
//!   the other subscribers.
//! - **Redis down** (feature `redis`): `publish` fails with a [`HubError`] that
//!   [`is_unreachable`](HubError::is_unreachable), within the connect timeout plus the
//!   command timeout, never waiting longer; subscriptions stay open, are told
//!   ([`Received::Interrupted`]), and receive again once the hub has reconnected (with
//!   a backoff capped at `HubBuilder::max_reconnect_delay`) and
//!   resubscribed ([`Received::Resumed`]). Redis pub/sub keeps nothing: what is
//!   published while a process is disconnected never reaches that process's
//!   subscribers.
//! - **Connections**: one Redis pub/sub connection per process, whatever the number of
//!   subscriptions and topics, plus one multiplexed connection for publishing.
//!
//! The book's "Scaling out" chapter shows the hub in SSE and WebSocket views and in a
//! deployment of several processes.

mod error;
#[cfg(feature = "redis")]
mod remote;
mod topics;

use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::broadcast::error::RecvError;

pub use error::HubError;
use error::Problem;
use topics::Topics;

/// A broadcast hub: publish messages on topics, subscribe to topics. Cheap to clone
/// (clones share one hub); give it to views as app state
/// ([`App::state`](crate::App::state)) or as a field.
///
/// [`Hub::in_process`] reaches the subscribers of this process; `Hub::redis`
/// (feature `redis`) those of every process connected to the same Redis.
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use bocata::hub::{Hub, Received};
///
/// let hub = Hub::in_process();
/// let mut room = hub.subscribe("room").await;
/// hub.publish("room", "hello").await?;
/// match room.recv().await {
///     Some(Received::Message(message)) => assert_eq!(message.as_text(), Some("hello")),
///     other => panic!("expected the message, got {other:?}"),
/// }
/// # Ok::<(), bocata::hub::HubError>(())
/// # }).unwrap();
/// ```
#[derive(Clone)]
pub struct Hub {
    inner: Arc<Inner>,
}

struct Inner {
    topics: Arc<Topics>,
    slow_subscriber: SlowSubscriber,
    #[cfg(feature = "redis")]
    redis: Option<remote::RedisLink>,
}

impl Hub {
    /// A hub inside this process, with the default settings ([`HubBuilder`]).
    pub fn in_process() -> Self {
        Self::builder().in_process()
    }

    /// A hub across every process connected to the Redis server at `url`
    /// (`redis://[:password@]host[:port][/db]`, or `rediss://` … with TLS if the redis
    /// crate's TLS feature is on, or `unix://` …), with the default settings
    /// ([`HubBuilder`]).
    ///
    /// Nothing connects yet: the first publish and the first subscribe do, so an app
    /// starts even while Redis is down. Fails only on a URL that does not parse.
    #[cfg(feature = "redis")]
    pub fn redis(url: &str) -> Result<Self, HubError> {
        Self::builder().redis(url)
    }

    /// A builder, to change the defaults.
    pub fn builder() -> HubBuilder {
        HubBuilder::default()
    }

    /// Subscribes to `topic` (any string; topics need no declaring). The subscription
    /// receives every message published on `topic` after this returns, until it is
    /// dropped.
    ///
    /// With Redis, this waits until Redis confirms the subscription of this process to
    /// the topic (at once when another subscription here already has it), or, while
    /// Redis is unreachable, for at most one connection attempt: the subscription is
    /// returned all the same and receives once the hub has reconnected.
    pub async fn subscribe(&self, topic: &str) -> Subscription {
        let (topic, receiver) = self.inner.topics.subscribe(topic);
        let close = self.inner.slow_subscriber == SlowSubscriber::Close;
        let items = async_stream::stream! {
            let mut receiver = receiver;
            loop {
                match receiver.recv().await {
                    Ok(item) => yield item,
                    Err(RecvError::Lagged(missed)) => {
                        yield Received::Lagged(missed);
                        if close {
                            break;
                        }
                    }
                    Err(RecvError::Closed) => break,
                }
            }
        };
        // Made before the wait below, so that a subscribe given up halfway cleans up.
        let subscription = Subscription {
            items: Box::pin(items),
            release: Release {
                hub: self.inner.clone(),
                topic,
            },
        };
        #[cfg(feature = "redis")]
        if let Some(redis) = &self.inner.redis {
            let topic = subscription.release.topic.clone();
            redis.confirm(topic, &self.inner.topics).await;
        }
        subscription
    }

    /// Publishes `message` (a `String`, `&'static str`, `Vec<u8>` or [`Bytes`]) on
    /// `topic`, for every current subscriber of the topic.
    ///
    /// The in-process hub never fails. With Redis, the message goes through Redis even
    /// to this process's own subscribers (so that every subscriber sees one order), and
    /// this fails when Redis is unreachable or does not answer in time
    /// ([`HubError::is_unreachable`]), within the connect timeout plus the command
    /// timeout. A publish that fails because the connection broke while it was sent may
    /// still have been delivered: delivery is at most once, never twice.
    pub async fn publish(&self, topic: &str, message: impl Into<Bytes>) -> Result<(), HubError> {
        let payload = message.into();
        #[cfg(feature = "redis")]
        if let Some(redis) = &self.inner.redis {
            return redis.publish(topic, payload).await;
        }
        self.inner.topics.deliver(topic, payload);
        Ok(())
    }

    /// Publishes `value` as JSON on `topic`; read it with [`Message::json`]. Fails as
    /// [`publish`](Self::publish) does, or when `value` cannot be serialized
    /// ([`HubError::is_json`]).
    pub async fn publish_json<T: Serialize + ?Sized>(
        &self,
        topic: &str,
        value: &T,
    ) -> Result<(), HubError> {
        let json = serde_json::to_vec(value).map_err(Problem::Json)?;
        self.publish(topic, json).await
    }
}

impl fmt::Debug for Hub {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_struct("Hub");
        #[cfg(feature = "redis")]
        if let Some(redis) = &self.inner.redis {
            debug.field("redis", &redis.addr());
        }
        debug
            .field("topics", &self.inner.topics.len())
            .field("slow_subscriber", &self.inner.slow_subscriber)
            .finish_non_exhaustive()
    }
}

/// Settings of a [`Hub`], each with its default; [`in_process`](Self::in_process) or
/// `redis` (feature `redis`) makes the hub.
///
/// ```
/// use std::time::Duration;
/// use bocata::hub::{Hub, SlowSubscriber};
///
/// let hub = Hub::builder()
///     .buffer(1024)
///     .slow_subscriber(SlowSubscriber::Close)
///     .in_process();
/// ```
#[derive(Clone, Debug)]
pub struct HubBuilder {
    buffer: usize,
    slow_subscriber: SlowSubscriber,
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    connect_timeout: Duration,
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    command_timeout: Duration,
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    max_reconnect_delay: Duration,
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    redis_prefix: String,
}

/// The largest [`HubBuilder::buffer`].
const MAX_BUFFER: usize = 1 << 20;

impl Default for HubBuilder {
    fn default() -> Self {
        Self {
            buffer: 256,
            slow_subscriber: SlowSubscriber::SkipAhead,
            connect_timeout: Duration::from_secs(5),
            command_timeout: Duration::from_secs(2),
            max_reconnect_delay: Duration::from_secs(5),
            redis_prefix: "bocata:hub:".to_owned(),
        }
    }
}

impl HubBuilder {
    /// How many messages a subscription may fall behind before the
    /// [`slow_subscriber`](Self::slow_subscriber) policy applies. The messages are kept
    /// once per topic (not per subscription), rounded up to a power of two, between 1
    /// and 2^20. Default: 256.
    #[must_use]
    pub fn buffer(mut self, messages: usize) -> Self {
        self.buffer = messages.clamp(1, MAX_BUFFER);
        self
    }

    /// What happens to a subscription that falls more than
    /// [`buffer`](Self::buffer) messages behind. Default:
    /// [`SlowSubscriber::SkipAhead`].
    #[must_use]
    pub fn slow_subscriber(mut self, policy: SlowSubscriber) -> Self {
        self.slow_subscriber = policy;
        self
    }

    /// How long a connection attempt to Redis may take. Default: 5 seconds.
    #[cfg(feature = "redis")]
    #[must_use]
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How long Redis may take to answer a command (`PUBLISH`, `SUBSCRIBE`, the
    /// listening connection's `PING`). A command without an answer counts as a lost
    /// connection. Default: 2 seconds.
    #[cfg(feature = "redis")]
    #[must_use]
    pub fn command_timeout(mut self, timeout: Duration) -> Self {
        self.command_timeout = timeout;
        self
    }

    /// The longest wait between two attempts to reconnect to Redis. The first wait is
    /// at most 100 ms, and each failed attempt doubles it up to this (each wait is
    /// spread randomly over its upper half). Default: 5 seconds.
    #[cfg(feature = "redis")]
    #[must_use]
    pub fn max_reconnect_delay(mut self, delay: Duration) -> Self {
        self.max_reconnect_delay = delay;
        self
    }

    /// What the Redis channel names start with, before the topic: apps that share a
    /// Redis server keep apart by giving each its own. Default: `bocata:hub:`.
    #[cfg(feature = "redis")]
    #[must_use]
    pub fn redis_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.redis_prefix = prefix.into();
        self
    }

    /// The hub, inside this process.
    pub fn in_process(self) -> Hub {
        self.build(
            #[cfg(feature = "redis")]
            None,
        )
    }

    /// The hub, across every process connected to the Redis server at `url` (see
    /// [`Hub::redis`]). Fails only on a URL that does not parse.
    #[cfg(feature = "redis")]
    pub fn redis(self, url: &str) -> Result<Hub, HubError> {
        let link = remote::RedisLink::new(url, &self)?;
        Ok(self.build(Some(link)))
    }

    fn build(self, #[cfg(feature = "redis")] redis: Option<remote::RedisLink>) -> Hub {
        Hub {
            inner: Arc::new(Inner {
                topics: Arc::new(Topics::new(self.buffer)),
                slow_subscriber: self.slow_subscriber,
                #[cfg(feature = "redis")]
                redis,
            }),
        }
    }
}

/// What happens to a subscription that falls more than
/// [`HubBuilder::buffer`] messages behind its topic (its reader is slower than the
/// publishers: a client on a slow network, a view that waits on something else).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SlowSubscriber {
    /// It receives [`Received::Lagged`] with the number of messages it missed, then
    /// carries on from the oldest message still kept. Suits a chat or a live feed,
    /// where the latest messages matter most.
    SkipAhead,
    /// It receives [`Received::Lagged`], then ends (its stream returns `None`). Suits
    /// consumers that must see every message or none: they resynchronize from
    /// elsewhere and subscribe again.
    Close,
}

/// A subscription to one topic: a [`Stream`] of what it [`Received`], in order. Read it
/// with [`recv`](Self::recv) or as a stream (`res.sse(subscription.map(…))`).
/// Dropping it unsubscribes; with Redis, the process leaves the Redis channel when its
/// last subscription to the topic is dropped.
pub struct Subscription {
    items: Pin<Box<dyn Stream<Item = Received> + Send>>,
    release: Release,
}

impl Subscription {
    /// The next item, or `None` once the subscription has ended (only under
    /// [`SlowSubscriber::Close`]). Cancel-safe: an item is never lost by giving up the
    /// wait (in `tokio::select!`).
    pub async fn recv(&mut self) -> Option<Received> {
        self.items.next().await
    }

    /// The topic subscribed to.
    pub fn topic(&self) -> &str {
        &self.release.topic
    }
}

impl Stream for Subscription {
    type Item = Received;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Received>> {
        self.items.as_mut().poll_next(cx)
    }
}

impl fmt::Debug for Subscription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subscription")
            .field("topic", &self.topic())
            .finish_non_exhaustive()
    }
}

/// Forgets a topic whose last subscription was dropped. A field of [`Subscription`],
/// after its receiver, so that the receiver is gone when this runs.
struct Release {
    hub: Arc<Inner>,
    topic: Arc<str>,
}

impl Drop for Release {
    fn drop(&mut self) {
        if self.hub.topics.release(&self.topic) {
            #[cfg(feature = "redis")]
            if let Some(redis) = &self.hub.redis {
                redis.release(self.topic.clone());
            }
        }
    }
}

/// An item of a [`Subscription`]: a message, or a notice of what it missed.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Received {
    /// A message published on the topic.
    Message(Message),
    /// The subscription fell behind (see [`SlowSubscriber`]): this many messages were
    /// dropped for it, between the item before this one and the one after.
    Lagged(u64),
    /// The hub lost its connection to Redis: until [`Resumed`](Self::Resumed), nothing
    /// published (in any process) reaches this subscription.
    Interrupted,
    /// The hub is connected to Redis again, after an outage (or after Redis was
    /// unreachable when this subscription was made): what was published in between did
    /// not reach this subscription, and will not. A page may reload what it shows.
    Resumed,
}

/// A message published on a topic: bytes, which are often UTF-8 text or JSON.
#[derive(Clone, PartialEq, Eq)]
pub struct Message {
    topic: Arc<str>,
    payload: Bytes,
}

impl Message {
    /// The topic it was published on.
    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// Its bytes.
    pub fn payload(&self) -> &Bytes {
        &self.payload
    }

    /// Its bytes, without a copy.
    pub fn into_payload(self) -> Bytes {
        self.payload
    }

    /// Its text, if it is UTF-8.
    pub fn as_text(&self) -> Option<&str> {
        std::str::from_utf8(&self.payload).ok()
    }

    /// Its JSON, read as a `T` (published with [`Hub::publish_json`], say). Fails with
    /// an error that [`is_json`](HubError::is_json) when it is not JSON of that shape.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, HubError> {
        serde_json::from_slice(&self.payload).map_err(|e| Problem::Json(e).into())
    }
}

impl fmt::Debug for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_struct("Message");
        debug.field("topic", &self.topic);
        match self.as_text() {
            Some(text) => debug.field("text", &text),
            None => debug.field("bytes", &self.payload.len()),
        };
        debug.finish()
    }
}
