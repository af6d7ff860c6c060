//! The audit trail's tamper evidence: each event carries the hash of the one before it.
//!
//! `hash = HMAC-SHA256(audit key, prev_hash ‖ canonical(event))`. The key lives outside the
//! database, so someone who can edit the database cannot recompute the chain after changing,
//! removing or inserting an event. A one-row head (last sequence number and hash) kept beside
//! the events makes removing the newest events detectable too.

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::fmt;
use time::OffsetDateTime;

/// The hash before the first event.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What an event is about, before it is numbered and chained.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewAuditEvent {
    /// When it happened, truncated to microseconds so both databases store it exactly.
    pub at: OffsetDateTime,
    /// The user who acted, if known.
    pub actor_user_id: Option<i64>,
    /// Who acted, as shown to auditors: the e-mail address at the time, or "system".
    pub actor_label: String,
    /// What happened, a stable dotted code such as `sign_in.failure`.
    pub action: String,
    /// What it happened to, such as `user:12`; empty if nothing in particular.
    pub target: String,
    /// `success`, `failure` or `denied`.
    pub outcome: String,
    /// The client address.
    pub ip: String,
    /// Further facts as JSON text. Never case content, passwords or tokens.
    pub detail: String,
    /// The idempotent request this event's change belongs to, if any: not part of the event
    /// (neither stored nor chained), but what lets the store record the request's outcome in
    /// the same transaction as the change (see [`crate::idempotency`]).
    #[serde(skip)]
    pub idempotency: Option<crate::idempotency::IdempotencyMark>,
    /// The notices the change sends: not part of the event either, but written by the store in
    /// the change's own transaction, so a change is never saved without telling the people it
    /// concerns, nor anyone told of a change that was not saved.
    #[serde(skip)]
    pub notices: Vec<crate::notices::NewNotice>,
}

/// An event as stored: numbered and chained.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEvent {
    /// Position in the chain, from 1.
    pub seq: i64,
    /// The event.
    #[serde(flatten)]
    pub event: NewAuditEvent,
    /// Hash of the previous event, or [`GENESIS_HASH`].
    pub prev_hash: String,
    /// This event's hash.
    pub hash: String,
}

/// Truncates a time to whole microseconds, the precision both databases keep.
#[must_use]
pub fn to_micros(t: OffsetDateTime) -> OffsetDateTime {
    let nanos = t.nanosecond();
    t.replace_nanosecond(nanos - nanos % 1_000).unwrap_or(t)
}

fn canonical(seq: i64, e: &NewAuditEvent) -> String {
    let micros = to_micros(e.at).unix_timestamp_nanos() / 1_000;
    serde_json::json!([
        seq,
        micros.to_string(),
        e.actor_user_id,
        e.actor_label,
        e.action,
        e.target,
        e.outcome,
        e.ip,
        e.detail
    ])
    .to_string()
}

/// Computes the hash of event `seq` following `prev_hash`.
#[must_use]
pub fn chain_hash(key: &[u8], prev_hash: &str, seq: i64, event: &NewAuditEvent) -> String {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|_| unreachable_hmac());
    mac.update(prev_hash.as_bytes());
    mac.update(b"\n");
    mac.update(canonical(seq, event).as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

#[expect(clippy::panic, reason = "HMAC-SHA256 accepts every key length")]
fn unreachable_hmac() -> Hmac<Sha256> {
    panic!("HMAC-SHA256 rejected a key")
}

/// Numbers and chains a new event after the head `(seq, hash)`.
#[must_use]
pub fn seal(key: &[u8], head_seq: i64, head_hash: &str, event: NewAuditEvent) -> AuditEvent {
    let seq = head_seq + 1;
    let hash = chain_hash(key, head_hash, seq, &event);
    AuditEvent { seq, event, prev_hash: head_hash.to_owned(), hash }
}

/// The first thing wrong with a chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainProblem {
    /// The event's content no longer matches its hash.
    Altered {
        /// Its sequence number.
        seq: i64,
    },
    /// Events are missing.
    Removed {
        /// First missing sequence number.
        first: i64,
        /// Last missing sequence number.
        last: i64,
    },
    /// An event was added that the application did not write.
    Inserted {
        /// Its sequence number.
        seq: i64,
    },
    /// The event does not follow the one stored before it.
    BrokenLink {
        /// Its sequence number.
        seq: i64,
    },
}

impl fmt::Display for ChainProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChainProblem::Altered { seq } => write!(f, "event {seq} was altered: its content does not match its hash"),
            ChainProblem::Removed { first, last } if first == last => write!(f, "event {first} was removed"),
            ChainProblem::Removed { first, last } => write!(f, "events {first} to {last} were removed"),
            ChainProblem::Inserted { seq } => write!(f, "event {seq} was inserted: the application did not write it"),
            ChainProblem::BrokenLink { seq } => write!(
                f,
                "event {seq} does not follow the event stored before it: an earlier event was altered, removed or inserted"
            ),
        }
    }
}

/// Checks a chain event by event, in sequence order, using constant memory.
#[derive(Debug)]
pub struct ChainVerifier<'k> {
    key: &'k [u8],
    last_seq: i64,
    last_hash: String,
    suspect: Option<AuditEvent>,
    checked: u64,
}

impl<'k> ChainVerifier<'k> {
    /// Starts at the beginning of the chain.
    #[must_use]
    pub fn new(key: &'k [u8]) -> Self {
        ChainVerifier { key, last_seq: 0, last_hash: GENESIS_HASH.to_owned(), suspect: None, checked: 0 }
    }

    fn valid_at(&self, ev: &AuditEvent, seq: i64) -> bool {
        chain_hash(self.key, &ev.prev_hash, seq, &ev.event) == ev.hash
    }

    /// Checks the next event.
    ///
    /// # Errors
    /// The first problem found.
    pub fn push(&mut self, ev: AuditEvent) -> Result<(), ChainProblem> {
        if let Some(suspect) = self.suspect.take() {
            // The suspect's hash failed. If this event only verifies one place earlier, the
            // suspect was slipped in and everything after it renumbered.
            return Err(if ev.prev_hash == self.last_hash && self.valid_at(&ev, ev.seq - 1) {
                ChainProblem::Inserted { seq: suspect.seq }
            } else {
                ChainProblem::Altered { seq: suspect.seq }
            });
        }
        let expected = self.last_seq + 1;
        if ev.seq <= self.last_seq {
            return Err(ChainProblem::Inserted { seq: ev.seq });
        }
        if ev.seq > expected {
            return Err(ChainProblem::Removed { first: expected, last: ev.seq - 1 });
        }
        if !self.valid_at(&ev, ev.seq) {
            self.suspect = Some(ev);
            return Ok(());
        }
        if ev.prev_hash != self.last_hash {
            return Err(ChainProblem::BrokenLink { seq: ev.seq });
        }
        self.last_seq = ev.seq;
        self.last_hash = ev.hash;
        self.checked += 1;
        Ok(())
    }

    /// Finishes, checking the end of the chain against the stored head.
    ///
    /// # Errors
    /// The first problem found.
    pub fn finish(mut self, head_seq: i64, head_hash: &str) -> Result<u64, ChainProblem> {
        if let Some(suspect) = self.suspect.take() {
            return Err(if suspect.seq > head_seq {
                ChainProblem::Inserted { seq: suspect.seq }
            } else {
                ChainProblem::Altered { seq: suspect.seq }
            });
        }
        if head_seq > self.last_seq {
            return Err(ChainProblem::Removed { first: self.last_seq + 1, last: head_seq });
        }
        if head_seq < self.last_seq {
            return Err(ChainProblem::Inserted { seq: head_seq + 1 });
        }
        if head_hash != self.last_hash {
            return Err(ChainProblem::Altered { seq: self.last_seq });
        }
        Ok(self.checked)
    }
}

/// Whether `key` is the key these events were chained under: `None` when there are none to
/// tell by, `Some(true)` when any of them verifies. One event that verifies proves the key; an
/// altered event among them is a matter for `marac audit verify`, not a sign of a wrong key.
#[must_use]
pub fn chained_under(key: &[u8], events: &[AuditEvent]) -> Option<bool> {
    if events.is_empty() {
        return None;
    }
    Some(events.iter().any(|ev| chain_hash(key, &ev.prev_hash, ev.seq, &ev.event) == ev.hash))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const KEY: &[u8] = b"test audit key, thirty-two bytes";

    fn event(n: i64) -> NewAuditEvent {
        NewAuditEvent {
            at: datetime!(2026-11-23 09:00 UTC) + time::Duration::seconds(n),
            actor_user_id: Some(n),
            actor_label: format!("user{n}@example.org"),
            action: "sign_in.success".into(),
            target: format!("user:{n}"),
            outcome: "success".into(),
            ip: "127.0.0.1".into(),
            detail: "{}".into(),
            idempotency: None,
            notices: Vec::new(),
        }
    }

    fn chain(n: i64) -> Vec<AuditEvent> {
        let mut out: Vec<AuditEvent> = Vec::new();
        for i in 1..=n {
            let (seq, hash) = out.last().map_or((0, GENESIS_HASH.to_owned()), |e| (e.seq, e.hash.clone()));
            out.push(seal(KEY, seq, &hash, event(i)));
        }
        out
    }

    fn verify(events: Vec<AuditEvent>, head: (i64, &str)) -> Result<u64, ChainProblem> {
        let mut v = ChainVerifier::new(KEY);
        for e in events {
            v.push(e)?;
        }
        v.finish(head.0, head.1)
    }

    #[test]
    fn the_chain_tells_its_own_key_from_another() {
        let mut c = chain(3);
        assert_eq!(chained_under(KEY, &c), Some(true));
        assert_eq!(chained_under(b"another key, also thirty-two b!!", &c), Some(false));
        assert_eq!(chained_under(KEY, &[]), None);
        // One altered event does not make the right key look wrong.
        c[2].event.actor_label = "someone else".into();
        assert_eq!(chained_under(KEY, &c), Some(true));
    }

    #[test]
    fn an_intact_chain_verifies() {
        let c = chain(5);
        let head = (5, c[4].hash.clone());
        assert_eq!(verify(c, (head.0, &head.1)), Ok(5));
        assert_eq!(verify(vec![], (0, GENESIS_HASH)), Ok(0));
    }

    #[test]
    fn an_edit_is_found() {
        let mut c = chain(5);
        let head = c[4].hash.clone();
        c[2].event.outcome = "failure".into();
        assert_eq!(verify(c, (5, &head)), Err(ChainProblem::Altered { seq: 3 }));
    }

    #[test]
    fn a_removal_is_found_in_the_middle_and_at_the_end() {
        let c = chain(5);
        let head = c[4].hash.clone();
        let mut middle = c.clone();
        middle.remove(1);
        assert_eq!(verify(middle, (5, &head)), Err(ChainProblem::Removed { first: 2, last: 2 }));
        let mut end = c;
        end.pop();
        assert_eq!(verify(end, (5, &head)), Err(ChainProblem::Removed { first: 5, last: 5 }));
    }

    #[test]
    fn an_insertion_is_found_in_the_middle_and_at_the_end() {
        let c = chain(5);
        let head = c[4].hash.clone();
        // Slip a forged event in at 3 and renumber the rest.
        let mut middle = c.clone();
        let forged = AuditEvent { seq: 3, event: event(99), prev_hash: c[1].hash.clone(), hash: "f".repeat(64) };
        for e in middle.iter_mut().skip(2) {
            e.seq += 1;
        }
        middle.insert(2, forged);
        assert_eq!(verify(middle, (5, &head)), Err(ChainProblem::Inserted { seq: 3 }));

        let mut end = c.clone();
        end.push(AuditEvent { seq: 6, event: event(6), prev_hash: head.clone(), hash: "0".repeat(64) });
        assert_eq!(verify(end, (5, &head)), Err(ChainProblem::Inserted { seq: 6 }));
    }

    #[test]
    fn the_key_matters() {
        let c = chain(2);
        let other = chain_hash(b"another key", GENESIS_HASH, 1, &c[0].event);
        assert_ne!(other, c[0].hash);
    }

    #[test]
    fn times_keep_microseconds_only() {
        let t = datetime!(2026-11-23 09:00:00.123456789 UTC);
        assert_eq!(to_micros(t).nanosecond(), 123_456_000);
    }
}
