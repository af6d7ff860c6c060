//! Audit events the application writes on its own account.

use crate::App;
use marac_domain::audit::NewAuditEvent;

/// An event by the system itself (the worker, a batch), not by a person.
#[must_use]
pub fn system_event(app: &App, action: &str, target: &str) -> NewAuditEvent {
    NewAuditEvent {
        at: app.clock.now(),
        actor_user_id: None,
        actor_label: "system".to_owned(),
        action: action.to_owned(),
        target: target.to_owned(),
        outcome: "success".to_owned(),
        ip: String::new(),
        detail: "{}".to_owned(),
        idempotency: None,
        notices: Vec::new(),
    }
}
