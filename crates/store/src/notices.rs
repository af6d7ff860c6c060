//! The records of notifications: the inbox each person reads and the outbox of e-mail the
//! background worker sends. Neither holds case detail; a notice is a kind and a link.

use crate::{StoreResult, Ts};
use async_trait::async_trait;
use marac_domain::notices::NoticeKind;

pub use marac_domain::notices::NewNotice;

/// A notice in someone's inbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// The notice's id in the database: addresses, links and other records name it by this.
    pub id: i64,
    /// The reader.
    pub user_id: i64,
    /// What it is about.
    pub kind: NoticeKind,
    /// The page it opens.
    pub link: String,
    /// What it concerns: the Marac and a day, never a case.
    pub about: String,
    /// When it was made.
    pub created_at: Ts,
    /// When the reader opened it.
    pub read_at: Option<Ts>,
}

/// An e-mail in the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxMessage {
    /// The message's id in the database: addresses, links and other records name it by this.
    pub id: i64,
    /// The notice it carries.
    pub notice_id: i64,
    /// What it is about, for the subject and body.
    pub kind: NoticeKind,
    /// What it concerns (the Marac and a day), for the body.
    pub about: String,
    /// The recipient.
    pub to_address: String,
    /// Attempts made, including the one in hand after a claim.
    pub attempts: i64,
    /// When it was sent.
    pub sent_at: Option<Ts>,
    /// When it was given up.
    pub failed_at: Option<Ts>,
    /// The last delivery error (the server's reply; never case detail).
    pub last_error: Option<String>,
}

/// How a claimed e-mail's delivery went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// The server accepted it.
    Sent,
    /// It failed; try again at this time.
    Retry {
        /// When.
        at: Ts,
        /// The error.
        error: String,
    },
    /// It failed too often; stop.
    GiveUp {
        /// The error.
        error: String,
    },
}

/// Notices to users and the e-mail outbox.
#[async_trait]
pub trait NoticeStore {
    /// Adds notices (and their e-mails) not already made for the same reader and event;
    /// returns how many are new. Safe to call from any number of servers at once.
    async fn add_notices(&self, notices: &[NewNotice], at: Ts) -> StoreResult<u64>;
    /// A reader's notices, newest first.
    async fn list_notices(&self, user_id: i64, limit: i64) -> StoreResult<Vec<Notice>>;
    /// Marks a reader's notice read and returns it; `NotFound` if it is not theirs.
    async fn open_notice(&self, id: i64, user_id: i64, at: Ts) -> StoreResult<Notice>;
    /// How many of a reader's notices are unread.
    async fn count_unread(&self, user_id: i64) -> StoreResult<i64>;
    /// Claims up to `limit` e-mails due for sending for `worker` until `lease_until`; no two
    /// workers hold the same message.
    async fn claim_outbox(&self, worker: &str, now: Ts, lease_until: Ts, limit: i64)
    -> StoreResult<Vec<OutboxMessage>>;
    /// Records how a claimed e-mail's delivery went.
    async fn finish_outbox(&self, id: i64, worker: &str, delivery: &Delivery, at: Ts) -> StoreResult<()>;
    /// The outbox, newest first.
    async fn list_outbox(&self, limit: i64) -> StoreResult<Vec<OutboxMessage>>;
}
