//! Research on a listed case: what kind of note an agency adds.

use crate::coded_enum;

coded_enum! {
    /// What kind of research note.
    pub enum NoteKind {
        /// A fact from the agency's records.
        Fact = ("fact", "Fact"),
        /// A professional opinion.
        Opinion = ("opinion", "Opinion"),
        /// The agency holds information it will not share, and why.
        NotShared = ("not_shared", "Not shared, and why"),
    }
}
