//! Workflows of a question about moving a case between Maracs.

use crate::{App, Result, notify};
use marac_domain::Role;
use marac_domain::audit::NewAuditEvent;
use marac_domain::notices::NoticeKind;
use marac_store::{CaseTransfer, Ts};

/// What the notices of a transfer concern: its two Maracs by name.
async fn about(app: &App, t: &CaseTransfer) -> Result<String> {
    let (from, to) = (app.store.get_marac(t.from_marac_id).await?, app.store.get_marac(t.to_marac_id).await?);
    Ok(marac_domain::notices::about_maracs(&[&from.name, &to.name]))
}

/// One side (`side`, a Marac) asks for the case to move; the other side's coordinators are told
/// in the same transaction.
///
/// # Errors
/// The store's.
pub async fn ask(app: &App, t: &CaseTransfer, side: i64, by: i64, mut event: NewAuditEvent) -> Result<()> {
    let other = if side == t.to_marac_id { t.from_marac_id } else { t.to_marac_id };
    let coordinators = app.store.users_holding(&[Role::Coordinator], &[other]).await?;
    let about = about(app, t).await?;
    event.notices =
        notify::case_transfer(&coordinators, NoticeKind::CaseTransferAsked, &[other], (t.id, "asked"), &about);
    app.store.ask_case_transfer(t.id, side, by, Ts::new(app.clock.now()), event).await?;
    Ok(())
}

/// The other side agrees (the case moves) or refuses, with one audit event per side in
/// `events`; the asking side's coordinators are told in the same transaction.
///
/// # Errors
/// The store's.
pub async fn answer(app: &App, t: &CaseTransfer, agree: bool, by: i64, mut events: Vec<NewAuditEvent>) -> Result<()> {
    let asked = t.asked_by_marac.unwrap_or(t.to_marac_id);
    let coordinators = app.store.users_holding(&[Role::Coordinator], &[asked]).await?;
    let about = about(app, t).await?;
    if let Some(first) = events.first_mut() {
        first.notices = notify::case_transfer(
            &coordinators,
            NoticeKind::CaseTransferAnswered,
            &[asked],
            (t.id, "answered"),
            &about,
        );
    }
    app.store.decide_case_transfer(t.id, agree, by, Ts::new(app.clock.now()), events).await?;
    Ok(())
}
