//! Building audit events from a request.

use crate::AppState;
use crate::session::Visitor;
use marac_domain::audit::NewAuditEvent;

/// An event by whoever made the request (the signed-in user, or "anonymous").
#[must_use]
pub fn event(
    state: &AppState,
    visitor: &Visitor,
    action: &str,
    target: &str,
    outcome: &str,
    detail: serde_json::Value,
) -> NewAuditEvent {
    let (id, label) = match &visitor.session {
        Some(s) => (Some(s.user.id), s.user.email.clone()),
        None => (None, "anonymous".to_owned()),
    };
    NewAuditEvent {
        at: state.clock.now(),
        actor_user_id: id,
        actor_label: label,
        action: action.to_owned(),
        target: target.to_owned(),
        outcome: outcome.to_owned(),
        ip: visitor.ip.clone(),
        detail: detail.to_string(),
        idempotency: visitor.idempotency.clone(),
        notices: Vec::new(),
    }
}

/// Proof that a refusal was written to the audit trail as `access.denied`.
///
/// A 403 ([`crate::error::AppError::Forbidden`], [`crate::api::problem::Problem::forbidden`])
/// can only be built from one, and one can only be had from [`refuse`], so no handler can
/// answer 403 without the refusal being recorded.
#[derive(Debug)]
pub struct Refused(());

/// Records `event` as a refusal (`access.denied`, outcome `denied`) and gives the proof a 403
/// needs.
///
/// # Errors
/// The store's failure to record it; then nothing is answered but that failure.
pub async fn refuse(state: &AppState, mut event: NewAuditEvent) -> Result<Refused, marac_app::store::StoreError> {
    "access.denied".clone_into(&mut event.action);
    "denied".clone_into(&mut event.outcome);
    state.store.append_audit(event).await?;
    Ok(Refused(()))
}
