//! Users and what signs them in: second factors, sessions, sign-in failures and API tokens.

use crate::{StoreResult, Ts};
use async_trait::async_trait;
use marac_domain::Role;
use marac_domain::audit::NewAuditEvent;
use marac_domain::policy::Grant;

/// A person who signs in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// The account's id in the database: addresses, links and other records name it by this.
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

pub use marac_domain::session_rules::SessionStage;

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

/// A personal API token: it acts with exactly its user's permissions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    /// The token's id in the database: addresses, links and other records name it by this.
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

/// Users and what signs them in: second factors, sessions, sign-in failures and API tokens.
#[async_trait]
pub trait AccountStore {
    /// All users, by name.
    async fn list_users(&self) -> StoreResult<Vec<User>>;
    /// The users holding any of `roles` for any of `marac_ids` (an installation-wide grant
    /// holds it for every Marac), disabled or not, by name: who a notice may be for, without
    /// reading every user.
    async fn users_holding(&self, roles: &[marac_domain::Role], marac_ids: &[i64]) -> StoreResult<Vec<User>>;
    /// One user.
    async fn get_user(&self, id: i64) -> StoreResult<User>;
    /// One user by normalised e-mail address.
    async fn find_user_by_email(&self, email: &str) -> StoreResult<Option<User>>;
    /// Creates a user with their roles.
    async fn create_user(&self, user: &NewUser, audit: NewAuditEvent) -> StoreResult<i64>;
    /// Changes a user's name, agency and roles.
    async fn update_user(&self, id: i64, changes: &UserChanges, audit: NewAuditEvent) -> StoreResult<()>;
    /// Disables or re-enables an account; disabling ends all its sessions at once.
    async fn set_user_disabled(&self, id: i64, disabled: bool, audit: NewAuditEvent) -> StoreResult<()>;
    /// Replaces a password hash (e.g. when argon2 parameters rise).
    async fn set_password_hash(&self, id: i64, password_hash: &str) -> StoreResult<()>;
    /// Stores a new TOTP secret (encrypted) and recovery-code hashes, replacing old ones.
    async fn set_second_factor(
        &self,
        user_id: i64,
        totp_secret: &str,
        first_step: i64,
        recovery_code_hashes: &[String],
        audit: NewAuditEvent,
    ) -> StoreResult<()>;
    /// Records that a TOTP time step was used. Returns `false` if that step or a later one was
    /// already used: each code works once, even with several servers racing.
    async fn use_totp_step(&self, user_id: i64, step: i64) -> StoreResult<bool>;
    /// Marks an unused recovery code used. Returns `false` if there is no such unused code.
    async fn use_recovery_code(&self, user_id: i64, code_hash: &str, at: Ts) -> StoreResult<bool>;
    /// How many recovery codes are left.
    async fn unused_recovery_codes(&self, user_id: i64) -> StoreResult<i64>;
    /// Stores a new session.
    async fn create_session(&self, session: &Session) -> StoreResult<()>;
    /// Replaces one session with another in one step (rotation at each sign-in stage).
    async fn replace_session(&self, old_id: &str, new: &Session, audit: Option<NewAuditEvent>) -> StoreResult<()>;
    /// One session, if it exists.
    async fn get_session(&self, id: &str) -> StoreResult<Option<Session>>;
    /// Moves a session's last-seen time.
    async fn touch_session(&self, id: &str, at: Ts) -> StoreResult<()>;
    /// Ends a session; with an audit event when a person ended it.
    async fn delete_session(&self, id: &str, audit: Option<NewAuditEvent>) -> StoreResult<()>;
    /// A user's sessions, newest first.
    async fn list_user_sessions(&self, user_id: i64) -> StoreResult<Vec<Session>>;
    /// Records a failed sign-in for the account and the address, with its audit event.
    async fn record_sign_in_failure(
        &self,
        account: &str,
        address: &str,
        at: Ts,
        audit: NewAuditEvent,
    ) -> StoreResult<()>;
    /// Failed sign-ins since `since`, for the account and for the address.
    async fn count_sign_in_failures(&self, account: &str, address: &str, since: Ts) -> StoreResult<(u32, u32)>;
    /// Forgets an account's failures after it signs in.
    async fn clear_sign_in_failures(&self, account: &str) -> StoreResult<()>;
    /// Stores a new token (its hash only).
    async fn create_api_token(
        &self,
        user_id: i64,
        name: &str,
        token_hash: &str,
        audit: NewAuditEvent,
    ) -> StoreResult<i64>;
    /// The live or revoked token with this hash.
    async fn find_api_token(&self, token_hash: &str) -> StoreResult<Option<ApiToken>>;
    /// A user's tokens, newest first.
    async fn list_api_tokens(&self, user_id: i64) -> StoreResult<Vec<ApiToken>>;
    /// Revokes one of a user's tokens; `NotFound` if it is not theirs or already revoked.
    async fn revoke_api_token(&self, id: i64, user_id: i64, at: Ts, audit: NewAuditEvent) -> StoreResult<()>;
}
