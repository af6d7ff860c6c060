//! The formats of what is sealed in the database: each is serialised to JSON and sealed under
//! its own [`crate::casework::Purpose`], so the pages, the API and the demo read and write the
//! same shapes.

use marac_domain::matching::PersonDetails;
use serde::{Deserialize, Serialize};
use time::Date;

/// A known person as stored (sealed).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct StoredPerson {
    /// Given name.
    pub given_name: String,
    /// Family name.
    pub family_name: String,
    /// Aliases.
    pub aliases: Vec<String>,
    /// Date of birth.
    pub date_of_birth: Option<Date>,
    /// Estimated year of birth.
    pub estimated_birth_year: Option<i32>,
    /// Postcode.
    pub postcode: Option<String>,
}

impl StoredPerson {
    /// Given and family name, as people read them.
    #[must_use]
    pub fn full_name(&self) -> String {
        format!("{} {}", self.given_name, self.family_name).trim().to_owned()
    }
}

impl From<&PersonDetails> for StoredPerson {
    fn from(p: &PersonDetails) -> Self {
        StoredPerson {
            given_name: p.given_name.clone(),
            family_name: p.family_name.clone(),
            aliases: p.aliases.clone(),
            date_of_birth: p.date_of_birth,
            estimated_birth_year: p.estimated_birth_year,
            postcode: p.postcode.clone(),
        }
    }
}

impl From<StoredPerson> for PersonDetails {
    fn from(p: StoredPerson) -> Self {
        PersonDetails {
            given_name: p.given_name,
            family_name: p.family_name,
            aliases: p.aliases,
            date_of_birth: p.date_of_birth,
            estimated_birth_year: p.estimated_birth_year,
            postcode: p.postcode,
        }
    }
}

/// What the meeting recorded about a case.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Discussion {
    /// Information the agencies shared.
    pub information: String,
    /// The victim's voice, usually through the Idva.
    pub victim_voice: String,
    /// The child's voice, where sought.
    pub child_voice: String,
    /// Risks identified.
    pub risks: String,
    /// Other notes.
    pub notes: String,
    /// Why the case was deferred.
    pub deferred_reason: String,
}

impl Discussion {
    /// The text of one of the discussion's boxes, by its field name.
    #[must_use]
    pub fn get(&self, field: &str) -> &str {
        match field {
            "information" => &self.information,
            "victim_voice" => &self.victim_voice,
            "child_voice" => &self.child_voice,
            "risks" => &self.risks,
            "notes" => &self.notes,
            _ => &self.deferred_reason,
        }
    }

    /// This discussion with the boxes a form `sent` replaced: an autosave sends only the boxes
    /// that changed, so the others keep what was saved.
    #[must_use]
    pub fn overlay(&self, sent: &[(String, String)]) -> Self {
        let t = |k: &str, saved: &str| match sent.iter().find(|(name, _)| name == k) {
            Some((_, value)) => value.trim().to_owned(),
            None => saved.to_owned(),
        };
        Discussion {
            information: t("information", &self.information),
            victim_voice: t("victim_voice", &self.victim_voice),
            child_voice: t("child_voice", &self.child_voice),
            risks: t("risks", &self.risks),
            notes: t("notes", &self.notes),
            deferred_reason: t("deferred_reason", &self.deferred_reason),
        }
    }
}

/// An action's text.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ActionText {
    /// What is to be done.
    pub description: String,
    /// For an action about a child: which child.
    pub child: String,
}
