//! Connection slots: at most `max_connections` at once (and, if asked, at most so many
//! from one client address), with connections that have no request in flight closed
//! to make room (silent ones first), so that a client opening thousands of idle sockets
//! cannot lock others out.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;

use super::idle::Activity;

/// How often a connection waiting for a slot looks again for an idle one to close.
const RETRY: std::time::Duration = std::time::Duration::from_millis(50);

/// The server's connection slots.
#[derive(Debug)]
pub(super) struct Slots {
    permits: Arc<Semaphore>,
    per_address: Option<usize>,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    next: u64,
    /// The connections hyper serves (not upgraded ones), oldest first: the ones that
    /// may be closed to make room.
    serving: BTreeMap<u64, Serving>,
    /// How many connections each client address holds, for `per_address`.
    addresses: HashMap<IpAddr, usize>,
}

#[derive(Debug)]
struct Serving {
    activity: Arc<Activity>,
    close: CancellationToken,
}

/// What [`Slots::admit`] decided for a new connection.
#[derive(Debug)]
pub(super) enum Admission {
    /// Served now.
    Admitted(Slot),
    /// Every slot is taken and none is idle: wait for [`Slots::wait`].
    Full,
    /// Its address holds as many connections as it may.
    TooManyFromAddress,
}

impl Slots {
    pub(super) fn new(max: usize, per_address: Option<usize>) -> Arc<Self> {
        Arc::new(Self {
            permits: Arc::new(Semaphore::new(max)),
            per_address,
            state: Mutex::default(),
        })
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// A slot for a connection from `ip`, closing the connection idle the longest to
    /// make room if need be.
    pub(super) fn admit(self: &Arc<Self>, ip: IpAddr) -> Admission {
        if let Some(most) = self.per_address
            && self.state().addresses.get(&ip).copied().unwrap_or(0) >= most
        {
            return Admission::TooManyFromAddress;
        }
        match Arc::clone(&self.permits).try_acquire_owned() {
            Ok(permit) => Admission::Admitted(self.slot(permit, ip)),
            Err(_) => {
                self.close_an_idle_one();
                Admission::Full
            }
        }
    }

    /// Waits for a slot for a connection from `ip`: until one closes, or one that was
    /// busy falls idle and is closed to make room (looked for every [`RETRY`]).
    pub(super) async fn wait(self: &Arc<Self>, ip: IpAddr) -> Slot {
        loop {
            tokio::select! {
                Ok(permit) = Arc::clone(&self.permits).acquire_owned() => {
                    return self.slot(permit, ip);
                }
                () = tokio::time::sleep(RETRY) => self.close_an_idle_one(),
            }
        }
    }

    fn slot(self: &Arc<Self>, permit: OwnedSemaphorePermit, ip: IpAddr) -> Slot {
        if self.per_address.is_some() {
            *self.state().addresses.entry(ip).or_default() += 1;
        }
        Slot {
            slots: Arc::clone(self),
            ip,
            _permit: permit,
        }
    }

    /// Makes `activity` a candidate for closing while it is idle; it stays one until
    /// the returned guard is dropped.
    pub(super) fn serving(
        self: &Arc<Self>,
        activity: Arc<Activity>,
        close: CancellationToken,
    ) -> Candidate {
        let mut state = self.state();
        let id = state.next;
        state.next += 1;
        state.serving.insert(id, Serving { activity, close });
        Candidate {
            slots: Arc::clone(self),
            id,
        }
    }

    /// Closes a connection without a request in flight, if there is one: the oldest
    /// that never sent a request (a client that opened it and said nothing), else the
    /// one idle between requests the longest.
    pub(super) fn close_an_idle_one(&self) {
        let mut state = self.state();
        let oldest = |silent: bool| {
            state
                .serving
                .iter()
                .find(|(_, serving)| {
                    !serving.activity.busy() && (!silent || !serving.activity.begun())
                })
                .map(|(id, _)| *id)
        };
        let idle = oldest(true).or_else(|| oldest(false));
        if let Some(serving) = idle.and_then(|id| state.serving.remove(&id)) {
            tracing::debug!(target: "bocata::server", "out of room: closing an idle connection");
            serving.close.cancel();
        }
    }
}

/// A connection's place, held as long as anything of the connection is: its requests,
/// and an upgraded WebSocket.
#[derive(Debug)]
pub(super) struct Slot {
    slots: Arc<Slots>,
    ip: IpAddr,
    _permit: OwnedSemaphorePermit,
}

impl Drop for Slot {
    fn drop(&mut self) {
        if self.slots.per_address.is_some() {
            let mut state = self.slots.state();
            if let Some(count) = state.addresses.get_mut(&self.ip) {
                *count -= 1;
                if *count == 0 {
                    state.addresses.remove(&self.ip);
                }
            }
        }
    }
}

#[cfg(test)]
impl Slot {
    /// A slot of its own, for tests of what holds one.
    pub(super) fn alone() -> Self {
        match Slots::new(1, None).admit(std::net::Ipv4Addr::LOCALHOST.into()) {
            Admission::Admitted(slot) => slot,
            other => unreachable!("a fresh server has room: {other:?}"),
        }
    }
}

/// A connection that may be closed to make room while it is idle; see
/// [`Slots::serving`].
#[derive(Debug)]
pub(super) struct Candidate {
    slots: Arc<Slots>,
    id: u64,
}

impl Drop for Candidate {
    fn drop(&mut self) {
        self.slots.state().serving.remove(&self.id);
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::super::idle::InFlight;
    use super::*;

    const HOME: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
    const AWAY: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));

    fn admitted(admission: Admission) -> Slot {
        match admission {
            Admission::Admitted(slot) => slot,
            other => panic!("not admitted: {other:?}"),
        }
    }

    #[tokio::test]
    async fn when_full_the_oldest_idle_connection_is_closed_and_busy_ones_are_kept() {
        let slots = Slots::new(3, None);
        let mut held = Vec::new();
        let mut closes = Vec::new();
        let mut requests = Vec::new();
        for busy in [true, false, false] {
            let slot = admitted(slots.admit(HOME));
            let activity = Activity::new();
            if busy {
                requests.push(InFlight::begin(Arc::clone(&activity), false));
            }
            let close = CancellationToken::new();
            held.push((slot, slots.serving(activity, close.clone())));
            closes.push(close);
        }
        assert!(matches!(slots.admit(HOME), Admission::Full));
        assert!(
            !closes[0].is_cancelled(),
            "a connection with a request in flight stays"
        );
        assert!(closes[1].is_cancelled(), "the oldest idle one is closed");
        assert!(!closes[2].is_cancelled(), "one at a time");
        // The closed connection lets go of its slot, and the newcomer gets it.
        held.remove(1);
        let _newcomer = slots.wait(HOME).await;
    }

    #[test]
    fn a_connection_that_never_sent_a_request_goes_before_one_idle_between_requests() {
        let slots = Slots::new(2, None);
        let kept_alive = Activity::new();
        drop(InFlight::begin(Arc::clone(&kept_alive), false));
        let (older, newer) = (CancellationToken::new(), CancellationToken::new());
        let _first = (
            admitted(slots.admit(HOME)),
            slots.serving(kept_alive, older.clone()),
        );
        let _second = (
            admitted(slots.admit(HOME)),
            slots.serving(Activity::new(), newer.clone()),
        );
        assert!(matches!(slots.admit(HOME), Admission::Full));
        assert!(newer.is_cancelled(), "the silent one goes");
        assert!(!older.is_cancelled(), "the kept-alive one stays");
    }

    #[tokio::test]
    async fn nothing_idle_means_waiting() {
        let slots = Slots::new(1, None);
        let _slot = admitted(slots.admit(HOME));
        let activity = Activity::new();
        let _request = InFlight::begin(Arc::clone(&activity), false);
        let close = CancellationToken::new();
        let _serving = slots.serving(activity, close.clone());
        assert!(matches!(slots.admit(HOME), Admission::Full));
        assert!(!close.is_cancelled());
    }

    #[test]
    fn a_limit_per_address_counts_each_address_apart() {
        let slots = Slots::new(100, Some(2));
        let first = admitted(slots.admit(HOME));
        let _second = admitted(slots.admit(HOME));
        assert!(matches!(slots.admit(HOME), Admission::TooManyFromAddress));
        let _elsewhere = admitted(slots.admit(AWAY));
        drop(first);
        let _again = admitted(slots.admit(HOME));
    }
}
