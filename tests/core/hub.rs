//! The broadcast hub: in-process delivery and the slow-subscriber policies, and the
//! Redis hub between two servers (two "processes" sharing one real redis-server), over
//! real sockets with SSE and WebSocket clients, through a Redis outage.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bocata::App;
use bocata::hub::{Hub, HubError, Received, SlowSubscriber};
use bocata_tests::redis::Redis;
use bocata_tests::{Running, within};
use futures_util::{SinkExt, StreamExt};
use http_body_util::BodyExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message as WireMessage;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async};

// ANCHOR: imports
use bocata::websocket::{Message, WebSocket};
use bocata::{Error, Event, Request, Res, Result};
// ANCHOR_END: imports

// ANCHOR: sse
/// `GET /events`: everything said in the room from now on, as server-sent events.
async fn events(req: &Request, res: &mut Res) -> Result {
    let hub: &Hub = req.state()?;
    // Subscribed before the response starts: nothing said after the client has the
    // response head is missed.
    let mut room = hub.subscribe("room").await;
    res.sse(bocata::stream! {
        while let Some(received) = room.recv().await {
            yield to_event(received);
        }
    });
    Ok(())
}

/// A message as an event's data; each notice as an event of its own kind.
fn to_event(received: Received) -> Event {
    match received {
        Received::Message(message) => Event::new().data(message.as_text().unwrap_or_default()),
        Received::Lagged(missed) => Event::new()
            .event("lagged")
            .data(format!("{missed} messages were skipped")),
        Received::Interrupted => Event::new()
            .event("interrupted")
            .data("the room lost its connection; reconnecting"),
        Received::Resumed => Event::new()
            .event("resumed")
            .data("back; what was said meanwhile is lost"),
        _ => Event::new().comment("a notice this page does not know"),
    }
}
// ANCHOR_END: sse

// ANCHOR: say
/// `POST /say`: says the request's text in the room, in every process.
async fn say(req: &Request, res: &mut Res) -> Result {
    let hub: &Hub = req.state()?;
    let text = req.text().await?.to_owned();
    if let Err(e) = hub.publish("room", text).await {
        tracing::warn!("cannot publish: {e}");
        return Err(Error::new(
            503,
            "the room is unreachable; try again shortly",
        ));
    }
    res.status(204);
    Ok(())
}
// ANCHOR_END: say

// ANCHOR: websocket
/// `/room` (WebSocket): hears the room and speaks in it.
struct Room;

#[bocata::view]
impl Room {
    async fn on_websocket(&self, req: &Request, ws: WebSocket) -> Result {
        let hub: &Hub = req.state()?;
        let mut room = hub.subscribe("room").await;
        let (mut sender, mut receiver) = ws.split();
        sender.send_text("joined").await?;
        loop {
            tokio::select! {
                received = room.recv() => {
                    let Some(received) = received else { break };
                    let text = match received {
                        Received::Message(message) => message.as_text().unwrap_or_default().to_owned(),
                        Received::Lagged(missed) => format!("(missed {missed} messages)"),
                        Received::Interrupted => "(reconnecting)".to_owned(),
                        Received::Resumed => "(back)".to_owned(),
                        _ => continue,
                    };
                    sender.send_text(text).await?;
                }
                heard = receiver.recv() => match heard {
                    Some(Ok(Message::Text(text))) => {
                        if let Err(e) = hub.publish("room", text.as_str().to_owned()).await {
                            sender.send_text(format!("(not sent: {e})")).await?;
                        }
                    }
                    Some(Ok(_)) => {}
                    Some(Err(_)) | None => break,
                },
            }
        }
        Ok(())
    }
}
// ANCHOR_END: websocket

// ANCHOR: app
/// One process of the chat: its hub, shared by the views as app state.
fn chat(hub: Hub) -> App {
    App::new()
        .state(hub)
        .route("/events", bocata::get(events))
        .route("/say", bocata::post(say))
        .route("/room", Room)
}
// ANCHOR_END: app

fn text_of(received: Option<Received>) -> String {
    match received {
        Some(Received::Message(message)) => message.as_text().expect("text").to_owned(),
        other => panic!("expected a message, got {other:?}"),
    }
}

async fn next(subscription: &mut bocata::hub::Subscription) -> Option<Received> {
    within("an item of the subscription", subscription.recv()).await
}

#[tokio::test]
async fn the_in_process_hub_delivers_every_message_in_order_to_each_subscriber_of_its_topic() {
    let hub = Hub::in_process();
    // Publishing on a topic nobody listens to succeeds and reaches nobody.
    hub.publish("nobody", "lost").await.expect("published");
    let mut first = hub.subscribe("room").await;
    let mut second = hub.clone().subscribe("room").await;
    let mut elsewhere = hub.subscribe("other").await;
    assert_eq!(first.topic(), "room");
    for n in 0..100 {
        hub.publish("room", format!("{n}"))
            .await
            .expect("published");
    }
    hub.publish("other", b"\xff\x00".to_vec())
        .await
        .expect("published");
    for subscription in [&mut first, &mut second] {
        for n in 0..100 {
            assert_eq!(text_of(next(subscription).await), n.to_string());
        }
    }
    match next(&mut elsewhere).await {
        Some(Received::Message(message)) => {
            assert_eq!(message.topic(), "other");
            assert_eq!(message.as_text(), None, "not UTF-8");
            assert_eq!(&message.payload()[..], b"\xff\x00");
        }
        other => panic!("expected the bytes, got {other:?}"),
    }
    // Nothing else arrived: the next item is the next message.
    hub.publish("other", "last").await.expect("published");
    assert_eq!(text_of(next(&mut elsewhere).await), "last");
}

#[tokio::test]
async fn json_messages_round_trip_and_the_wrong_shape_is_a_clear_error() {
    #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
    struct Said {
        name: String,
        text: String,
    }
    let hub = Hub::in_process();
    let mut room = hub.subscribe("room").await;
    let said = Said {
        name: "ana".into(),
        text: "hola".into(),
    };
    hub.publish_json("room", &said).await.expect("published");
    hub.publish("room", "not json").await.expect("published");
    let Some(Received::Message(message)) = next(&mut room).await else {
        panic!("expected the JSON message")
    };
    assert_eq!(message.json::<Said>().expect("JSON"), said);
    let Some(Received::Message(message)) = next(&mut room).await else {
        panic!("expected the text message")
    };
    let error: HubError = message.json::<Said>().expect_err("not JSON");
    assert!(error.is_json() && !error.is_unreachable(), "{error}");
    assert!(
        error
            .to_string()
            .starts_with("the message is not the expected JSON"),
        "{error}"
    );
}

#[tokio::test]
async fn a_slow_subscriber_skips_ahead_with_a_count_of_what_it_missed() {
    let hub = Hub::builder().buffer(4).in_process();
    let mut slow = hub.subscribe("feed").await;
    let mut fast = hub.subscribe("feed").await;
    for n in 0..10 {
        hub.publish("feed", n.to_string()).await.expect("published");
        // The fast reader keeps up and misses nothing.
        assert_eq!(text_of(next(&mut fast).await), n.to_string());
    }
    // The slow one hears how much it missed, then the last four, in order.
    assert!(matches!(next(&mut slow).await, Some(Received::Lagged(6))));
    for n in 6..10 {
        assert_eq!(text_of(next(&mut slow).await), n.to_string());
    }
    // And it is not left behind: what comes next reaches it.
    hub.publish("feed", "next").await.expect("published");
    assert_eq!(text_of(next(&mut slow).await), "next");
    assert_eq!(text_of(next(&mut fast).await), "next");
}

#[tokio::test]
async fn under_the_close_policy_a_slow_subscriber_hears_what_it_missed_then_ends() {
    let hub = Hub::builder()
        .buffer(4)
        .slow_subscriber(SlowSubscriber::Close)
        .in_process();
    let mut slow = hub.subscribe("feed").await;
    hub.publish("feed", "0").await.expect("published");
    assert_eq!(text_of(next(&mut slow).await), "0");
    for n in 1..=5 {
        hub.publish("feed", n.to_string()).await.expect("published");
    }
    assert!(matches!(next(&mut slow).await, Some(Received::Lagged(1))));
    assert!(next(&mut slow).await.is_none(), "the subscription ended");
    // A new subscription starts afresh.
    let mut again = hub.subscribe("feed").await;
    hub.publish("feed", "6").await.expect("published");
    assert_eq!(text_of(next(&mut again).await), "6");
}

/// A hub on `redis` that reconnects quickly.
fn redis_hub(redis: &Redis) -> Hub {
    Hub::builder()
        .max_reconnect_delay(Duration::from_millis(200))
        .redis(&redis.url())
        .expect("a valid URL")
}

/// The events of an SSE response, read over a real connection.
struct SseClient {
    body: hyper::body::Incoming,
    buffer: String,
}

impl SseClient {
    async fn connect(addr: SocketAddr) -> Self {
        let mut http = bocata_tests::connect_http1(addr).await;
        let response = within(
            "the event stream's head",
            http.send_request(bocata_tests::get("/events")),
        )
        .await
        .expect("a response");
        assert_eq!(response.status(), 200);
        Self {
            body: response.into_body(),
            buffer: String::new(),
        }
    }

    /// The next event: its kind (`message` when unnamed) and its data.
    async fn next(&mut self) -> (String, String) {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let (mut kind, mut data) = ("message".to_owned(), String::new());
                for line in block.lines() {
                    if let Some(value) = line.strip_prefix("event: ") {
                        kind = value.to_owned();
                    } else if let Some(value) = line.strip_prefix("data: ") {
                        data = value.to_owned();
                    }
                }
                if block.starts_with(':') {
                    continue;
                }
                return (kind, data);
            }
            let frame = within("an event", self.body.frame())
                .await
                .expect("the stream still open")
                .expect("a frame");
            if let Ok(data) = frame.into_data() {
                self.buffer
                    .push_str(std::str::from_utf8(&data).expect("UTF-8"));
            }
        }
    }
}

type WsClient = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A WebSocket client of `/room`, once the view has joined the room.
async fn join(addr: SocketAddr) -> WsClient {
    let (mut client, _) = within("the handshake", connect_async(format!("ws://{addr}/room")))
        .await
        .expect("accepted");
    assert_eq!(hear(&mut client).await, "joined");
    client
}

async fn hear(client: &mut WsClient) -> String {
    match within("a WebSocket message", client.next()).await {
        Some(Ok(WireMessage::Text(text))) => text.as_str().to_owned(),
        other => panic!("expected a text message, got {other:?}"),
    }
}

async fn post_say(addr: SocketAddr, text: &str) -> (u16, String) {
    let mut http = bocata_tests::connect_http1(addr).await;
    let response = within(
        "POST /say",
        http.send_request(bocata_tests::request("POST", "/say", text.to_owned())),
    )
    .await
    .expect("a response");
    let (parts, body) = bocata_tests::read(response).await;
    (
        parts.status.as_u16(),
        String::from_utf8_lossy(&body).into_owned(),
    )
}

#[tokio::test]
async fn a_message_published_on_one_process_reaches_sse_and_websocket_clients_of_another() {
    let Some(redis) = Redis::start().await else {
        return;
    };
    let a = Running::start(chat(redis_hub(&redis))).await;
    let b = Running::start(chat(redis_hub(&redis))).await;
    let mut sse = SseClient::connect(b.addr).await;
    let mut ws = join(b.addr).await;

    // Through A's HTTP view…
    assert_eq!(post_say(a.addr, "hola from A").await, (204, String::new()));
    assert_eq!(sse.next().await, ("message".into(), "hola from A".into()));
    assert_eq!(hear(&mut ws).await, "hola from A");

    // …and through a WebSocket on A: B's clients hear it, in order, and so does the
    // speaker (its own process's subscribers get it through Redis too).
    let mut speaker = join(a.addr).await;
    for n in 0..20 {
        speaker
            .send(WireMessage::text(format!("line {n}")))
            .await
            .expect("sent");
    }
    for n in 0..20 {
        let line = format!("line {n}");
        assert_eq!(sse.next().await, ("message".into(), line.clone()));
        assert_eq!(hear(&mut ws).await, line);
        assert_eq!(hear(&mut speaker).await, line);
    }
}

#[tokio::test]
async fn while_redis_is_down_publishing_fails_clearly_and_delivery_resumes_when_it_is_back() {
    let Some(mut redis) = Redis::start().await else {
        return;
    };
    let hub_a = redis_hub(&redis);
    let a = Running::start(chat(hub_a.clone())).await;
    let b = Running::start(chat(redis_hub(&redis))).await;
    let mut sse = SseClient::connect(b.addr).await;
    let mut ws = join(b.addr).await;
    assert_eq!(post_say(a.addr, "before").await.0, 204);
    assert_eq!(sse.next().await.1, "before");
    assert_eq!(hear(&mut ws).await, "before");

    redis.kill().await;
    // B's subscribers are told at once.
    assert_eq!(sse.next().await.0, "interrupted");
    assert_eq!(hear(&mut ws).await, "(reconnecting)");
    // Publishing on A fails, promptly, with a message that says why.
    let started = Instant::now();
    let error = hub_a
        .publish("room", "lost")
        .await
        .expect_err("Redis is down");
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "took {:?}",
        started.elapsed()
    );
    assert!(error.is_unreachable(), "{error}");
    let port = redis
        .url()
        .rsplit(':')
        .next()
        .unwrap_or_default()
        .trim_end_matches('/')
        .to_owned();
    let message = error.to_string();
    assert!(
        message.starts_with(&format!("Redis at 127.0.0.1:{port} is unreachable")),
        "{message}"
    );
    // The view turns that into a 503 with a clear message, just as promptly.
    let started = Instant::now();
    let (status, body) = post_say(a.addr, "lost too").await;
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("the room is unreachable"), "{body}");
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "took {:?}",
        started.elapsed()
    );

    redis.start_again().await;
    // B reconnects and subscribes again by itself…
    assert_eq!(sse.next().await.0, "resumed");
    assert_eq!(hear(&mut ws).await, "(back)");
    // …and A publishes again once its backoff has passed (polled: how soon is the
    // backoff's business, bounded by `within`).
    within("A to publish again", async {
        loop {
            match hub_a.publish("room", "after").await {
                Ok(()) => break,
                Err(e) => assert!(e.is_unreachable(), "{e}"),
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    // Nothing published during the outage arrives; what follows does.
    assert_eq!(sse.next().await, ("message".into(), "after".into()));
    assert_eq!(hear(&mut ws).await, "after");
    assert_eq!(post_say(a.addr, "and more").await.0, 204);
    assert_eq!(sse.next().await.1, "and more");
    assert_eq!(hear(&mut ws).await, "and more");
}

/// Sends one command to Redis at `url` and returns its raw reply (a bulk string's
/// contents, an integer's digits, or the lines of an array).
async fn redis_command(url: &str, args: &[&str]) -> String {
    let addr = url
        .trim_start_matches("redis://")
        .trim_end_matches('/')
        .to_owned();
    let mut stream = within("connect to Redis", TcpStream::connect(addr))
        .await
        .expect("Redis is up");
    let mut request = format!("*{}\r\n", args.len());
    for arg in args {
        request.push_str(&format!("${}\r\n{arg}\r\n", arg.len()));
    }
    stream.write_all(request.as_bytes()).await.expect("sent");
    stream.shutdown().await.ok();
    let mut reply = String::new();
    within("Redis's reply", stream.read_to_string(&mut reply))
        .await
        .expect("read");
    reply
}

#[tokio::test]
async fn a_thousand_subscriptions_share_one_redis_connection_and_leave_when_dropped() {
    let Some(redis) = Redis::start().await else {
        return;
    };
    let hub = redis_hub(&redis);
    let mut subscriptions = Vec::new();
    for n in 0..1000 {
        subscriptions.push(hub.subscribe(&format!("topic-{}", n % 10)).await);
    }
    let clients = redis_command(&redis.url(), &["CLIENT", "LIST", "TYPE", "pubsub"]).await;
    assert_eq!(clients.matches("id=").count(), 1, "{clients}");
    let channels = redis_command(&redis.url(), &["PUBSUB", "NUMSUB", "bocata:hub:topic-3"]).await;
    assert!(
        channels.ends_with(":1\r\n"),
        "one subscriber per process: {channels}"
    );
    for topic in 0..10 {
        hub.publish(&format!("topic-{topic}"), format!("to {topic}"))
            .await
            .expect("published");
    }
    for (n, subscription) in subscriptions.iter_mut().enumerate() {
        assert_eq!(text_of(next(subscription).await), format!("to {}", n % 10));
    }
    // Dropping every subscription of a topic leaves its Redis channel.
    subscriptions.retain(|s| s.topic() != "topic-3");
    within("the process to leave the channel", async {
        loop {
            let channels =
                redis_command(&redis.url(), &["PUBSUB", "NUMSUB", "bocata:hub:topic-3"]).await;
            if channels.ends_with(":0\r\n") {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    let channels = redis_command(&redis.url(), &["PUBSUB", "NUMSUB", "bocata:hub:topic-4"]).await;
    assert!(channels.ends_with(":1\r\n"), "the others stay: {channels}");
}

#[tokio::test]
async fn a_redis_that_is_down_or_mute_fails_publishing_promptly_and_never_hangs_subscribing() {
    // Nothing listens on a port the OS handed out and took back.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a port");
    let hub = Hub::redis(&format!("redis://{closed}/")).expect("a valid URL");
    let error = within("a publish", hub.publish("room", "x"))
        .await
        .expect_err("down");
    assert!(error.is_unreachable() && !error.is_timeout(), "{error}");
    // Within the backoff, the next publish fails at once, saying when it retries.
    let error = within("a publish", hub.publish("room", "x"))
        .await
        .expect_err("down");
    assert!(
        error.to_string().contains("next connection attempt in"),
        "{error}"
    );
    // A subscribe returns all the same; its subscription will receive once Redis is up.
    let subscription = within("a subscribe", hub.subscribe("room")).await;
    assert_eq!(subscription.topic(), "room");

    // A server that accepts connections and never answers.
    let mute = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let mute_addr = mute.local_addr().expect("its address");
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = mute.accept().await {
            held.push(stream);
        }
    });
    let hub = Hub::builder()
        .connect_timeout(Duration::from_millis(300))
        .command_timeout(Duration::from_millis(300))
        .redis(&format!("redis://{mute_addr}/"))
        .expect("a valid URL");
    let started = Instant::now();
    let error = within("a publish", hub.publish("room", "x"))
        .await
        .expect_err("mute");
    assert!(error.is_timeout() && error.is_unreachable(), "{error}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(
        error.to_string(),
        format!("Redis at {mute_addr} did not answer the connection within 300ms")
    );
    within("a subscribe", hub.subscribe("room")).await;

    // A URL that is not one.
    let error = Hub::redis("http://example.com/").expect_err("not a Redis URL");
    assert!(
        error.to_string().starts_with("invalid Redis URL"),
        "{error}"
    );
}
