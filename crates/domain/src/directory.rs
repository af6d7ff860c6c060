//! The agency directory: who a Marac's contacts are.

use crate::coded_enum;

coded_enum! {
    /// What a directory entry is.
    pub enum DirectoryKind {
        /// A Marac's coordinator contact.
        Coordinator = ("coordinator", "Coordinator"),
        /// An agency's Marac representative.
        Representative = ("representative", "Representative"),
        /// Their deputy.
        Deputy = ("deputy", "Deputy"),
    }
}
