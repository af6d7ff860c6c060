//! Workflows of people's accounts.

use crate::{App, Result, notify};
use marac_domain::Role;
use marac_domain::audit::NewAuditEvent;
use marac_domain::policy::same_grants;
use marac_store::{User, UserChanges};

/// Saves an administrator's changes to `user`; when their roles change, they hear of it, and
/// so do the coordinators of every Marac in which a role was given or taken away, in the same
/// transaction.
///
/// # Errors
/// The store's.
pub async fn update_user(app: &App, user: &User, changes: &UserChanges, mut event: NewAuditEvent) -> Result<()> {
    let maracs = notify::maracs_changed(&user.grants, &changes.grants);
    if !same_grants(&user.grants, &changes.grants) {
        let mut told = app.store.users_holding(&[Role::Coordinator], &maracs).await?;
        told.retain(|u| u.id != user.id);
        told.push(user.clone());
        event.notices = notify::roles_changed(&told, user.id, &user.grants, &changes.grants, app.clock.now());
    }
    app.store.update_user(user.id, changes, event).await?;
    Ok(())
}
