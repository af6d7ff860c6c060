//! The records the store reads and writes.

use crate::Ts;
use marac_domain::policy::Grant;
use marac_domain::{AgencyCategory, MaracRules, MeetingCadence, Role};

/// A domestic abuse partnership: runs one or more Maracs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partnership {
    /// Id.
    pub id: i64,
    /// Short code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Synthetic data made by `marac demo`.
    pub is_demo: bool,
}

/// What is needed to create or change a partnership.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartnershipInput {
    /// Short code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Synthetic data made by `marac demo`.
    pub is_demo: bool,
}

/// A Marac and the rules it applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Marac {
    /// Id.
    pub id: i64,
    /// The partnership running it.
    pub partnership_id: i64,
    /// Short code.
    pub code: String,
    /// Name.
    pub name: String,
    /// The area it covers.
    pub area: String,
    /// Women aged 16 and over in the area, for the recommended volume.
    pub adult_female_population: i64,
    /// How often it meets.
    pub cadence: MeetingCadence,
    /// Thresholds and windows.
    pub rules: MaracRules,
}

/// What is needed to create or change a Marac.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaracInput {
    /// The partnership running it.
    pub partnership_id: i64,
    /// Short code.
    pub code: String,
    /// Name.
    pub name: String,
    /// The area it covers.
    pub area: String,
    /// Women aged 16 and over in the area.
    pub adult_female_population: i64,
    /// How often it meets.
    pub cadence: MeetingCadence,
    /// Thresholds and windows.
    pub rules: MaracRules,
}

/// A partner agency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agency {
    /// Id.
    pub id: i64,
    /// The partnership it belongs to.
    pub partnership_id: i64,
    /// Short code.
    pub code: String,
    /// Name.
    pub name: String,
    /// SafeLives referral-source category.
    pub category: AgencyCategory,
    /// The Maracs it attends.
    pub marac_ids: Vec<i64>,
}

/// What is needed to create or change an agency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgencyInput {
    /// The partnership it belongs to.
    pub partnership_id: i64,
    /// Short code.
    pub code: String,
    /// Name.
    pub name: String,
    /// SafeLives referral-source category.
    pub category: AgencyCategory,
    /// The Maracs it attends.
    pub marac_ids: Vec<i64>,
}

/// A person who signs in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// Id.
    pub id: i64,
    /// Normalised e-mail address.
    pub email: String,
    /// Full name.
    pub name: String,
    /// Their agency, if any.
    pub agency_id: Option<i64>,
    /// PHC string of the argon2id hash.
    pub password_hash: String,
    /// Disabled accounts cannot sign in.
    pub disabled: bool,
    /// The TOTP secret, encrypted; `None` until they set up a second factor.
    pub totp_secret: Option<String>,
    /// Made by `marac demo`.
    pub is_demo: bool,
    /// Roles held.
    pub grants: Vec<Grant>,
}

impl User {
    /// Whether they hold `role` anywhere.
    #[must_use]
    pub fn has_role(&self, role: Role) -> bool {
        self.grants.iter().any(|g| g.role == role)
    }
}

/// What is needed to create a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUser {
    /// Normalised e-mail address.
    pub email: String,
    /// Full name.
    pub name: String,
    /// Their agency, if any.
    pub agency_id: Option<i64>,
    /// PHC string of the argon2id hash.
    pub password_hash: String,
    /// Made by `marac demo`.
    pub is_demo: bool,
    /// Roles held.
    pub grants: Vec<Grant>,
}

/// What an administrator may change about a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserChanges {
    /// Full name.
    pub name: String,
    /// Their agency, if any.
    pub agency_id: Option<i64>,
    /// Roles held.
    pub grants: Vec<Grant>,
}

/// How far a session has got through signing in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionStage {
    /// Password accepted; the second factor is still to come.
    SecondFactor,
    /// Password accepted; a second factor must be set up before going further.
    Enrol,
    /// Fully signed in.
    Full,
}

impl SessionStage {
    /// The code stored in the database.
    #[must_use]
    pub const fn code(self) -> &'static str {
        match self {
            SessionStage::SecondFactor => "second_factor",
            SessionStage::Enrol => "enrol",
            SessionStage::Full => "full",
        }
    }

    pub(crate) fn from_code(s: &str) -> Option<Self> {
        [SessionStage::SecondFactor, SessionStage::Enrol, SessionStage::Full].into_iter().find(|st| st.code() == s)
    }
}

/// A session held in the database, so every server sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// SHA-256 of the token, hex. The token itself is never stored.
    pub id: String,
    /// Whose it is.
    pub user_id: i64,
    /// How far sign-in has got.
    pub stage: SessionStage,
    /// When it began.
    pub created_at: Ts,
    /// When it was last used (to within the touch interval).
    pub last_seen_at: Ts,
    /// Address it began from.
    pub ip: String,
    /// Browser it began in.
    pub user_agent: String,
}

/// Filter for the auditor's list of events.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// Action code prefix, e.g. `sign_in`.
    pub action_prefix: Option<String>,
    /// Actor label (e-mail) contains this.
    pub actor_contains: Option<String>,
    /// Only `success`, `failure` or `denied`.
    pub outcome: Option<String>,
    /// Not before this time.
    pub from: Option<Ts>,
    /// Before this time.
    pub to: Option<Ts>,
    /// Only events with a sequence number below this (for paging back in time).
    pub before_seq: Option<i64>,
    /// At most this many.
    pub limit: i64,
}

/// A risk checklist as loaded into the database: its definition is the file it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChecklistRecord {
    /// Checklist id, e.g. `safelives-dash`.
    pub checklist_id: String,
    /// Version.
    pub version: String,
    /// Title.
    pub title: String,
    /// `shipped` with the product, or `imported` by an area.
    pub source: String,
    /// Number of questions.
    pub question_count: i64,
    /// The TOML definition.
    pub definition: String,
}

/// A personal API token: it acts with exactly its user's permissions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    /// Id.
    pub id: i64,
    /// Whose it is.
    pub user_id: i64,
    /// What the user called it.
    pub name: String,
    /// When it was made.
    pub created_at: Ts,
    /// When it was revoked, if it was.
    pub revoked_at: Option<Ts>,
}

impl ChecklistRecord {
    /// The record for a checked checklist and the file text it was read from.
    #[must_use]
    pub fn new(checklist: &marac_domain::checklist::Checklist, definition: String, source: &str) -> Self {
        ChecklistRecord {
            checklist_id: checklist.id.clone(),
            version: checklist.version.clone(),
            title: checklist.title.clone(),
            source: source.to_owned(),
            question_count: i64::try_from(checklist.questions().count()).unwrap_or(i64::MAX),
            definition,
        }
    }
}
