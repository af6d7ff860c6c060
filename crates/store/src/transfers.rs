//! A case moving from one Marac to another inside this installation: opened when a referral
//! names the people of a case another Marac holds, asked for by one Marac's coordinator and
//! agreed (or refused) by the other's.

use crate::{StoreResult, Ts};
use async_trait::async_trait;
use marac_domain::audit::NewAuditEvent;

pub use marac_domain::transfer::TransferOutcome;

/// A transfer question between the Marac holding a case and the Marac a referral was made to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseTransfer {
    /// The transfer question's id in the database: addresses, links and other records name it by this.
    pub id: i64,
    /// The case.
    pub case_id: i64,
    /// The referral that named its people.
    pub referral_id: i64,
    /// The Marac holding the case.
    pub from_marac_id: i64,
    /// The Marac the referral was made to.
    pub to_marac_id: i64,
    /// Which Marac asked for the move, if one has.
    pub asked_by_marac: Option<i64>,
    /// Who asked.
    pub asked_by: Option<i64>,
    /// When.
    pub asked_at: Option<Ts>,
    /// Who agreed or refused.
    pub decided_by: Option<i64>,
    /// When.
    pub decided_at: Option<Ts>,
    /// How it ended, once it has.
    pub outcome: Option<TransferOutcome>,
    /// When the question was opened.
    pub created_at: Ts,
}

impl CaseTransfer {
    /// Whether it is still to be answered.
    #[must_use]
    pub fn open(&self) -> bool {
        self.outcome.is_none()
    }

    /// The Marac whose coordinator answers an ask: the one that did not ask.
    #[must_use]
    pub fn answered_by(&self) -> Option<i64> {
        match self.asked_by_marac {
            Some(m) if m == self.from_marac_id => Some(self.to_marac_id),
            Some(_) => Some(self.from_marac_id),
            None => None,
        }
    }
}

/// Cases moving between Maracs: the question asked and its answer.
#[async_trait]
pub trait TransferStore {
    /// One transfer question.
    async fn get_case_transfer(&self, id: i64) -> StoreResult<CaseTransfer>;
    /// The transfer question a referral opened, if it did.
    async fn case_transfer_for_referral(&self, referral_id: i64) -> StoreResult<Option<CaseTransfer>>;
    /// Every transfer question about one case, oldest first.
    async fn case_transfers(&self, case_id: i64) -> StoreResult<Vec<CaseTransfer>>;
    /// Transfer questions involving these Maracs, newest first.
    async fn list_case_transfers(
        &self,
        marac_ids: &[i64],
        open_only: bool,
        limit: i64,
    ) -> StoreResult<Vec<CaseTransfer>>;
    /// One side (`marac_id`, one of the two) asks for the case to move.
    async fn ask_case_transfer(&self, id: i64, marac_id: i64, by: i64, at: Ts, audit: NewAuditEvent)
    -> StoreResult<()>;
    /// The other side agrees (the case moves, with its flags, actions and notes, and the
    /// receiving Marac's waiting referrals join it) or refuses; one audit event for each side.
    async fn decide_case_transfer(
        &self,
        id: i64,
        agree: bool,
        by: i64,
        at: Ts,
        audit: Vec<NewAuditEvent>,
    ) -> StoreResult<()>;
}
