//! The records behind the duplicates queue: Maracs' people with the referrals naming them,
//! merges to make or undo, and pairs said to be different people. Names stay sealed; the
//! caller opens and compares them.

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
