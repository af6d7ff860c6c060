//! Known people, and the records behind the duplicates queue: Maracs' people with the
//! referrals naming them, merges to make or undo, and pairs said to be different people. Names stay sealed; the
//! caller opens and compares them.
use crate::{StoreResult, Ts};
use async_trait::async_trait;
use marac_domain::audit::NewAuditEvent;

/// A person named on one of a Marac's cases, as the victim or a person causing harm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaracPerson {
    /// Their record (id, sealed details, merged into).
    pub person: crate::PersonRecord,
    /// The Maracs (of those asked about) whose cases name them.
    pub marac_ids: Vec<i64>,
    /// References of the referrals naming them, oldest first.
    pub references: Vec<String>,
}

/// Merging one record into another, or undoing it, from a Marac's duplicates queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonMerge {
    /// The record merged (or un-merged).
    pub person_id: i64,
    /// The person it is merged into; ignored when undoing.
    pub into_id: i64,
    /// The Maracs whose referrals' repeat flags are worked out again, each with its repeat
    /// window in months.
    pub maracs: Vec<(i64, u32)>,
    /// Who decided.
    pub by: i64,
}

/// A known person's encrypted details.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonRecord {
    /// The person record's id in the database: addresses, links and other records name it by this.
    pub id: i64,
    /// Encrypted details.
    pub details_sealed: String,
    /// The person this one was merged into (confirmed to be), if any.
    pub merged_into: Option<i64>,
}

impl PersonRecord {
    /// The person this record counts as: the one it was merged into, or itself.
    #[must_use]
    pub fn counted_as(&self) -> i64 {
        self.merged_into.unwrap_or(self.id)
    }
}

/// Known people: filing, finding, and the duplicates queue (merges and distinct pairs).
#[async_trait]
pub trait PeopleStore {
    /// Known people of a partnership filed under any of `keys`, at most `limit`: those sharing
    /// the most keys first, then those sharing the rarest (a date of birth before a common
    /// name), so a cap on candidates drops the least telling ones. The keys are the
    /// partnership's own (keyed per partnership by the caller): the cap is applied before
    /// anyone of another partnership is left out.
    async fn find_people(&self, partnership_id: i64, keys: &[String], limit: i64) -> StoreResult<Vec<PersonRecord>>;
    /// How many people a partnership knows.
    async fn count_people(&self, partnership_id: i64) -> StoreResult<i64>;
    /// People still filed under a set of blocking keys older than `version`, each with their
    /// partnership, lowest id first, at most `limit`.
    async fn people_to_file_again(&self, version: i64, limit: i64) -> StoreResult<Vec<(i64, PersonRecord)>>;
    /// Files each person again under their new keys, in place of their old ones, and marks them
    /// filed under `version`; with one audit event for the batch.
    async fn file_people_again(
        &self,
        version: i64,
        people: &[(i64, Vec<String>)],
        audit: NewAuditEvent,
    ) -> StoreResult<()>;
    /// One known person.
    async fn get_person(&self, id: i64) -> StoreResult<PersonRecord>;
    /// The known people with these ids, in one reading; ids with no person are left out.
    async fn get_people(&self, ids: &[i64]) -> StoreResult<Vec<PersonRecord>>;
    /// The people named on these Maracs' cases (victims and people causing harm), with the
    /// Maracs and the references of the referrals naming them, for the duplicates queue.
    async fn marac_people(&self, marac_ids: &[i64]) -> StoreResult<Vec<MaracPerson>>;
    /// Every pair of records said to be different people, smaller id first.
    async fn distinct_people(&self) -> StoreResult<Vec<(i64, i64)>>;
    /// Records that two records are different people; the queue stops offering them.
    async fn mark_distinct(&self, a: i64, b: i64, by: i64, at: Ts, audit: NewAuditEvent) -> StoreResult<()>;
    /// Merges a record (and any merged into it) into the person `into_id` counts as, and works
    /// out again whether the given Maracs' referrals naming them are repeats. `Conflict` if they are
    /// already one person.
    async fn merge_people(&self, merge: &PersonMerge, audit: NewAuditEvent) -> StoreResult<()>;
    /// Undoes a record's merge (and a coordinator's confirmation that made it), and works out
    /// the repeats again. `NotFound` if it is not merged.
    async fn unmerge_person(&self, merge: &PersonMerge, at: Ts, audit: NewAuditEvent) -> StoreResult<()>;
    /// Files many people at once (synthetic data and benchmarks), with one audit event.
    async fn import_people(
        &self,
        partnership_id: i64,
        people: &[(String, Vec<String>)],
        at: Ts,
        audit: NewAuditEvent,
    ) -> StoreResult<u64>;
}
