//! The background worker each `marac serve` runs: every round it adds the reminders and
//! escalations now due, deletes the rows of other agencies' lists whose time is up, then sends
//! what the outbox holds.
//!
//! Safe on many servers at once. Adding notices is idempotent (one per reader and event), and
//! e-mail is claimed before it is sent (see `Store::claim_outbox`), so two servers sharing a
//! PostgreSQL database never send the same message twice. A server that stops mid-send leaves
//! its claims to lapse after [`LEASE`]; another then sends those messages. A message the SMTP
//! server refuses is tried again with back-off ([`marac_domain::notices::retry_after`]) and
//! given up after [`marac_domain::notices::MAX_EMAIL_ATTEMPTS`].

use crate::App;
use crate::mailer::Mailer;
use crate::notify;
use marac_domain::notices::retry_after;
use marac_store::{Delivery, StoreResult, Ts};
use std::time::Duration;

/// How long a claimed e-mail is this worker's alone.
pub const LEASE: time::Duration = time::Duration::minutes(5);
/// E-mails claimed per round.
const BATCH: i64 = 50;
/// Batches of people filed again per round, after the blocking keys changed: 10,000 people a
/// round (about three seconds' work), so 500,000 are filed again within the first half hour at
/// the default 30 seconds.
const FILE_AGAIN_BATCHES: usize = 40;

/// What one round did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Round {
    /// Reminders and escalations added.
    pub notices: u64,
    /// E-mails accepted by the SMTP server.
    pub sent: usize,
    /// E-mails that failed this time.
    pub failed: usize,
    /// Other agencies' lists whose rows were deleted.
    pub lists_deleted: usize,
    /// People filed again under changed blocking keys.
    pub people_filed_again: usize,
    /// Idempotency keys (and the responses kept with them) forgotten after their lifetime.
    pub keys_forgotten: u64,
    /// Searches removed once no session that could have made them is still alive.
    pub searches_removed: u64,
}

/// A background worker.
#[derive(Clone)]
pub struct Worker {
    state: App,
    mailer: Option<Mailer>,
    public_url: String,
    id: String,
}

impl Worker {
    /// A worker sending through `mailer` (none: notices stay in the inbox and the outbox
    /// waits) with links to `public_url`.
    #[must_use]
    pub fn new(state: App, mailer: Option<Mailer>, public_url: &str) -> Self {
        // An id unique to this process, so its claims are told apart from another server's.
        let nonce = crate::crypto::random_bytes::<6>().map(hex::encode).unwrap_or_default();
        let id = format!("{}-{nonce}", std::process::id());
        Worker { state, mailer, public_url: public_url.trim_end_matches('/').to_owned(), id }
    }

    /// Runs rounds every `every` until the task is dropped. Failures are logged and the next
    /// round tries again.
    pub async fn run(self, every: Duration) {
        if self.mailer.is_none() {
            tracing::warn!("MARAC_SMTP_URL is not set: notices go to the inbox only and e-mail waits in the outbox");
        }
        let mut ticker = tokio::time::interval(every);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            match self.round().await {
                Ok(r) if r != Round::default() => {
                    tracing::info!(
                        notices = r.notices,
                        sent = r.sent,
                        failed = r.failed,
                        lists_deleted = r.lists_deleted,
                        people_filed_again = r.people_filed_again,
                        keys_forgotten = r.keys_forgotten,
                        searches_removed = r.searches_removed,
                        "worker round"
                    );
                }
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "worker round failed"),
            }
        }
    }

    /// One round: due notices, expired lists and idempotency keys, the outbox until it holds
    /// nothing due, then batches of people to file again under changed blocking keys.
    ///
    /// # Errors
    /// When the store fails.
    pub async fn round(&self) -> StoreResult<Round> {
        let mut round = Round {
            notices: notify::sweep_actions(&self.state).await?,
            lists_deleted: crate::cross_reference::delete_expired(&self.state).await?,
            keys_forgotten: {
                let before = self.state.clock.now() - marac_domain::idempotency::KEY_LIFETIME;
                self.state.store.forget_idempotency(marac_store::Ts::new(before)).await?
            },
            searches_removed: {
                let before = self.state.clock.now() - marac_domain::session_rules::ABSOLUTE_TIMEOUT;
                self.state.store.remove_searches_before(marac_store::Ts::new(before)).await?
            },
            ..Round::default()
        };
        if self.mailer.is_some() {
            loop {
                let (sent, failed, claimed) = self.deliver().await?;
                round.sent += sent;
                round.failed += failed;
                if claimed < usize::try_from(BATCH).unwrap_or(usize::MAX) {
                    break;
                }
            }
        }
        round.people_filed_again = self.file_people_again().await;
        Ok(round)
    }

    /// Up to [`FILE_AGAIN_BATCHES`] batches of people filed again; a failure is logged (it
    /// needs mending by hand) without holding up notices and e-mail.
    async fn file_people_again(&self) -> usize {
        // Everyone is filed under the current keys from then on: new people are filed so.
        if self.state.people_all_filed() {
            return 0;
        }
        let mut filed = 0;
        for _ in 0..FILE_AGAIN_BATCHES {
            match crate::casework::file_people_again(&self.state).await {
                Ok(n) => {
                    filed += n;
                    if n < crate::casework::FILE_AGAIN_BATCH {
                        break;
                    }
                }
                Err(e) => {
                    tracing::error!(error = %e, "filing people under the new blocking keys failed");
                    break;
                }
            }
        }
        filed
    }

    /// Claims a batch and sends it; returns (sent, failed, claimed).
    async fn deliver(&self) -> StoreResult<(usize, usize, usize)> {
        let Some(mailer) = &self.mailer else { return Ok((0, 0, 0)) };
        let now = self.state.clock.now();
        let batch = self.state.store.claim_outbox(&self.id, Ts::new(now), Ts::new(now + LEASE), BATCH).await?;
        let (mut sent, mut failed) = (0, 0);
        for message in &batch {
            let link = format!("{}/inbox/{}", self.public_url, message.notice_id);
            let outcome = mailer
                .send(&message.to_address, message.kind.subject(), message.kind.email_body(&message.about, &link))
                .await;
            let at = self.state.clock.now();
            let delivery = match outcome {
                Ok(()) => {
                    sent += 1;
                    Delivery::Sent
                }
                Err(error) => {
                    failed += 1;
                    tracing::warn!(outbox_id = message.id, attempts = message.attempts, error = %error, "e-mail not sent");
                    match retry_after(message.attempts) {
                        Some(wait) => Delivery::Retry { at: Ts::new(at + wait), error },
                        None => Delivery::GiveUp { error },
                    }
                }
            };
            self.state.store.finish_outbox(message.id, &self.id, &delivery, Ts::new(at)).await?;
        }
        Ok((sent, failed, batch.len()))
    }
}
