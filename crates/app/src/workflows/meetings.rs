//! Workflows of a meeting's list.

use crate::{App, Result, notify};
use marac_domain::Role;
use marac_domain::audit::NewAuditEvent;
use marac_store::{Meeting, Publication, Ts};

/// Why a meeting's list cannot be published yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unready {
    /// The Marac has no confidentiality statement for the invited to confirm.
    NoStatement,
    /// The list has no cases.
    EmptyList,
}

impl Unready {
    /// The part of the meeting's page the problem is about.
    #[must_use]
    pub const fn field(self) -> &'static str {
        match self {
            Unready::NoStatement => "statement",
            Unready::EmptyList => "list",
        }
    }

    /// What to do about it, as the coordinator reads it.
    #[must_use]
    pub const fn message(self) -> &'static str {
        match self {
            Unready::NoStatement => "Set the Marac's confidentiality statement before publishing a list",
            Unready::EmptyList => "Add at least one case to the list before publishing it",
        }
    }
}

/// Who a publication would invite: the Marac's regulars (the meeting's invited agencies) and
/// every agency that referred a listed case. `Ok(Err(..))` says why the list cannot be
/// published yet. The coordinator is shown this before confirming, and [`publish`] invites
/// exactly these.
///
/// # Errors
/// The store's failures.
pub async fn invitation(app: &App, meeting: &Meeting) -> Result<Result<Vec<i64>, Vec<Unready>>> {
    let mut unready = Vec::new();
    if app.store.current_statement(meeting.details.marac_id).await?.is_none() {
        unready.push(Unready::NoStatement);
    }
    if meeting.listed == 0 {
        unready.push(Unready::EmptyList);
    }
    if !unready.is_empty() {
        return Ok(Err(unready));
    }
    let mut invited = meeting.details.invited_agency_ids.clone();
    for case in app.store.meeting_cases(meeting.id).await? {
        if let Some(agency) = case.referring_agency_id
            && !invited.contains(&agency)
        {
            invited.push(agency);
        }
    }
    Ok(Ok(invited))
}

/// Publishes a planned meeting's list: invites the agencies [`invitation`] names, opens
/// research, and tells the invited agencies' representatives and Idvas, in one transaction
/// with `event` (whose detail is filled here). `Ok(Err(..))` says why it cannot be published
/// yet.
///
/// # Errors
/// [`crate::Error::Store`] with a conflict when the meeting is no longer planned; the store's
/// failures.
pub async fn publish(app: &App, meeting: &Meeting, mut event: NewAuditEvent) -> Result<Result<(), Vec<Unready>>> {
    let marac_id = meeting.details.marac_id;
    let invited_agency_ids = match invitation(app, meeting).await? {
        Ok(invited) => invited,
        Err(unready) => return Ok(Err(unready)),
    };
    let mut invited = meeting.clone();
    invited.details.invited_agency_ids.clone_from(&invited_agency_ids);
    let readers = app.store.users_holding(&[Role::AgencyRep, Role::Idva], &[marac_id]).await?;
    let marac = app.store.get_marac(marac_id).await?;
    event.notices = notify::list_published(&readers, &invited, &marac.name);
    let publication = Publication { invited_agency_ids };
    event.detail =
        serde_json::json!({ "cases": meeting.listed, "invited": publication.invited_agency_ids }).to_string();
    app.store.publish_meeting(meeting.id, &publication, Ts::new(app.clock.now()), event).await?;
    Ok(Ok(()))
}
