//! Server-sent events: `text/event-stream` bodies.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_util::Stream;
use serde::Serialize;

use super::stream::ChunkStream;
use crate::error::BoxError;

/// One server-sent event: data, and optionally an event type, an id, a reconnection
/// delay and comments. Build it with the chained setters and send a stream of them with
/// [`Res::sse`](crate::Res::sse).
///
/// ```
/// use std::time::Duration;
/// use bocata::Event;
///
/// let event = Event::new()
///     .event("price")
///     .id("42")
///     .data("line one\nline two")
///     .retry(Duration::from_secs(5));
/// assert_eq!(
///     event.to_string(),
///     "event: price\nid: 42\nretry: 5000\ndata: line one\ndata: line two\n\n"
/// );
/// ```
///
/// Values cannot inject fields: data and comments spanning several lines become several
/// `data:` (or `:`) lines, and CR, LF and NUL are removed from the event type and id.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Event {
    comment: Option<String>,
    event: Option<String>,
    id: Option<String>,
    retry: Option<Duration>,
    data: Option<String>,
}

impl Event {
    /// An empty event; set at least its data.
    pub fn new() -> Self {
        Self::default()
    }

    /// The event's data; several lines become several `data:` lines, which the client
    /// joins back with `\n`.
    #[must_use]
    pub fn data(mut self, data: impl Into<String>) -> Self {
        self.data = Some(data.into());
        self
    }

    /// The event's data, serialized as JSON.
    ///
    /// # Errors
    ///
    /// When `value` fails to serialize.
    pub fn json_data<T: Serialize + ?Sized>(self, value: &T) -> Result<Self, serde_json::Error> {
        Ok(self.data(serde_json::to_string(value)?))
    }

    /// The event type (`event:`), which the browser dispatches to
    /// `addEventListener(type, …)`; without one it is a `message`.
    #[must_use]
    pub fn event(mut self, event: impl Into<String>) -> Self {
        self.event = Some(single_line(event.into()));
        self
    }

    /// The event id (`id:`). A reconnecting browser sends the last one back in the
    /// `Last-Event-ID` header ([`Request::last_event_id`](crate::Request::last_event_id)).
    #[must_use]
    pub fn id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(single_line(id.into()));
        self
    }

    /// How long the browser waits before reconnecting (`retry:`, in milliseconds).
    #[must_use]
    pub fn retry(mut self, delay: Duration) -> Self {
        self.retry = Some(delay);
        self
    }

    /// A comment (`: text`), ignored by the browser.
    #[must_use]
    pub fn comment(mut self, comment: impl Into<String>) -> Self {
        self.comment = Some(comment.into());
        self
    }
}

impl std::fmt::Display for Event {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(comment) = &self.comment {
            for line in lines(comment) {
                writeln!(f, ":{}{line}", if line.is_empty() { "" } else { " " })?;
            }
        }
        if let Some(event) = &self.event {
            writeln!(f, "event: {event}")?;
        }
        if let Some(id) = &self.id {
            writeln!(f, "id: {id}")?;
        }
        if let Some(retry) = self.retry {
            writeln!(f, "retry: {}", retry.as_millis())?;
        }
        if let Some(data) = &self.data {
            for line in lines(data) {
                writeln!(f, "data: {line}")?;
            }
        }
        writeln!(f)
    }
}

/// Lines as the event-stream format splits them: at CRLF, CR or LF.
fn lines(text: &str) -> impl Iterator<Item = &str> {
    text.split("\r\n").flat_map(|l| l.split(['\r', '\n']))
}

/// `value` without CR, LF or NUL, which would end the field or void the id.
fn single_line(mut value: String) -> String {
    value.retain(|c| !matches!(c, '\r' | '\n' | '\0'));
    value
}

/// An item of an event stream: an [`Event`], or a `Result` of one whose error ends the
/// response abnormally.
pub trait IntoEvent: Send + 'static {
    /// The event, or the error that ends the stream.
    ///
    /// # Errors
    ///
    /// When the item is an `Err`.
    fn into_event(self) -> Result<Event, BoxError>;
}

impl IntoEvent for Event {
    fn into_event(self) -> Result<Event, BoxError> {
        Ok(self)
    }
}

impl<E: Into<BoxError> + Send + 'static> IntoEvent for Result<Event, E> {
    fn into_event(self) -> Result<Event, BoxError> {
        self.map_err(Into::into)
    }
}

/// Encodes `events` for the wire.
pub(super) fn encode<S>(events: S) -> ChunkStream
where
    S: Stream + Send + 'static,
    S::Item: IntoEvent,
{
    Box::pin(futures_util::StreamExt::map(events, |item| {
        item.into_event()
            .map(|event| Bytes::from(event.to_string()))
    }))
}

/// Adds a `:` comment to `stream` after every `every` without a chunk. The comment is
/// only made when the connection asks for more, so a client that is not reading is not
/// sent a backlog of them.
pub(super) fn keep_alive(stream: ChunkStream, every: Duration) -> ChunkStream {
    Box::pin(KeepAlive {
        inner: stream,
        every,
        timer: Box::pin(tokio::time::sleep(every)),
    })
}

struct KeepAlive {
    inner: ChunkStream,
    every: Duration,
    timer: Pin<Box<tokio::time::Sleep>>,
}

impl Stream for KeepAlive {
    type Item = Result<Bytes, BoxError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if let Poll::Ready(item) = this.inner.as_mut().poll_next(cx) {
            this.timer
                .as_mut()
                .reset(tokio::time::Instant::now() + this.every);
            return Poll::Ready(item);
        }
        if this.timer.as_mut().poll(cx).is_ready() {
            this.timer
                .as_mut()
                .reset(tokio::time::Instant::now() + this.every);
            return Poll::Ready(Some(Ok(Bytes::from_static(b":\n\n"))));
        }
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt;

    #[test]
    fn wire_format_table() {
        let cases = [
            (Event::new().data("hi"), "data: hi\n\n"),
            (Event::new().data(""), "data: \n\n"),
            (
                Event::new().data("a\nb\r\nc\rd"),
                "data: a\ndata: b\ndata: c\ndata: d\n\n",
            ),
            (
                Event::new().data("trailing\n"),
                "data: trailing\ndata: \n\n",
            ),
            (Event::new().comment("ping"), ": ping\n\n"),
            (Event::new().comment("two\nlines"), ": two\n: lines\n\n"),
            (
                Event::new().event("up\ndata: injected").data("x"),
                "event: updata: injected\ndata: x\n\n",
            ),
            (Event::new().id("1\r\n2\0").data("x"), "id: 12\ndata: x\n\n"),
            (
                Event::new().retry(Duration::from_millis(1500)),
                "retry: 1500\n\n",
            ),
        ];
        for (event, wire) in cases {
            assert_eq!(event.to_string(), wire, "{event:?}");
        }
        let json = Event::new()
            .json_data(&serde_json::json!({"a": "b\nc"}))
            .unwrap();
        assert_eq!(json.to_string(), "data: {\"a\":\"b\\nc\"}\n\n");
    }

    #[tokio::test(start_paused = true)]
    async fn keep_alive_comments_fill_silences_only() {
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Event>(4);
        let events = futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx));
        let mut wire = keep_alive(encode(events), Duration::from_secs(10));
        let mut next = async || wire.next().await.expect("an item").expect("no error");

        let start = tokio::time::Instant::now();
        assert_eq!(next().await, ":\n\n");
        assert_eq!(start.elapsed(), Duration::from_secs(10));

        tokio::time::sleep(Duration::from_secs(5)).await;
        tx.send(Event::new().data("x")).await.expect("send");
        assert_eq!(next().await, "data: x\n\n");
        let after_event = tokio::time::Instant::now();
        assert_eq!(next().await, ":\n\n");
        assert_eq!(
            after_event.elapsed(),
            Duration::from_secs(10),
            "the event reset the timer"
        );

        drop(tx);
        assert!(wire.next().await.is_none());
    }
}
