//! Moving a case between Maracs: how a question about it ends.

use crate::coded_enum;

coded_enum! {
    /// How a transfer question ended.
    pub enum TransferOutcome {
        /// The case moved to the referral's Marac.
        Moved = ("moved", "Moved"),
        /// The other Marac refused.
        Refused = ("refused", "Refused"),
        /// The referral was declined before anything was agreed.
        Withdrawn = ("withdrawn", "Withdrawn"),
    }
}
