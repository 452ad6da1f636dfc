//! The fan-out inside one process: a bounded broadcast channel per topic that has
//! subscribers, shared by the in-process hub and the Redis one (whose single
//! connection hands each message it hears to the topic here).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use bytes::Bytes;
use tokio::sync::broadcast;

use super::{Message, Received};

/// The topics with at least one subscriber in this process, each with its channel.
#[derive(Debug)]
pub(super) struct Topics {
    channels: Mutex<HashMap<Arc<str>, broadcast::Sender<Received>>>,
    buffer: usize,
}

impl Topics {
    /// No topics yet; each new topic's channel keeps `buffer` items for its slowest
    /// subscriber.
    pub(super) fn new(buffer: usize) -> Self {
        Self {
            channels: Mutex::new(HashMap::new()),
            buffer,
        }
    }

    fn channels(&self) -> MutexGuard<'_, HashMap<Arc<str>, broadcast::Sender<Received>>> {
        // Nothing here can panic while the lock is held; a poisoned map is still whole.
        self.channels.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A new receiver on `topic`'s channel, made if it is the topic's first subscriber.
    /// Returns the topic's shared name too.
    pub(super) fn subscribe(&self, topic: &str) -> (Arc<str>, broadcast::Receiver<Received>) {
        let mut channels = self.channels();
        if let Some((name, sender)) = channels.get_key_value(topic) {
            return (name.clone(), sender.subscribe());
        }
        let name: Arc<str> = Arc::from(topic);
        let (sender, receiver) = broadcast::channel(self.buffer);
        channels.insert(name.clone(), sender);
        (name, receiver)
    }

    /// Hands `payload` to every subscriber of `topic` in this process, in the order of
    /// the calls (the lock orders them). A topic without subscribers drops it.
    pub(super) fn deliver(&self, topic: &str, payload: Bytes) {
        let channels = self.channels();
        if let Some((name, sender)) = channels.get_key_value(topic) {
            let message = Message {
                topic: name.clone(),
                payload,
            };
            // An error means no receiver is left; the last one's drop removes the topic.
            sender.send(Received::Message(message)).ok();
        }
    }

    /// Sends `notice` to every subscriber of every topic.
    #[cfg(feature = "redis")]
    pub(super) fn notify_all(&self, notice: &Received) {
        for sender in self.channels().values() {
            sender.send(notice.clone()).ok();
        }
    }

    /// Forgets `topic` if its last subscriber has gone; returns whether it did.
    pub(super) fn release(&self, topic: &str) -> bool {
        let mut channels = self.channels();
        match channels.get(topic) {
            Some(sender) if sender.receiver_count() == 0 => {
                channels.remove(topic);
                true
            }
            _ => false,
        }
    }

    /// Whether `topic` has a subscriber in this process.
    #[cfg(feature = "redis")]
    pub(super) fn contains(&self, topic: &str) -> bool {
        self.channels().contains_key(topic)
    }

    /// The topics that have subscribers.
    #[cfg(feature = "redis")]
    pub(super) fn names(&self) -> Vec<Arc<str>> {
        self.channels().keys().cloned().collect()
    }

    /// How many topics have subscribers.
    pub(super) fn len(&self) -> usize {
        self.channels().len()
    }
}
