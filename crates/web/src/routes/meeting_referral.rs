//! A listed case's full referral and risk checklist, as the meeting reads it: every answer with
//! who is at risk, its source and comment. The chair's case page links here; the same gates
//! apply (the meeting's confidentiality confirmation, a case on its list, the case's access
//! rule), and every reading is audited.

use crate::AppState;
use crate::error::AppError;
use crate::page::PageContext;
use crate::routes::meeting_case::{listed_case, require_case};
use crate::routes::meetings::standing;
use crate::routes::referrals::checklist_choices;
use crate::routes::referrals::submitting::{SummarySection, summary};
use crate::session::Signed;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use marac_app::casework::{self, Context, Purpose};
use marac_domain::referral_form::FormMap;

#[derive(Template, WebTemplate)]
#[template(path = "meetings/referral.html")]
struct ReferralPage {
    ctx: PageContext,
    meeting_id: i64,
    case_id: i64,
    meeting: String,
    reference: String,
    sections: Vec<SummarySection>,
}

/// `GET /meetings/{id}/cases/{case}/referral`: the referral that listed the case, whole.
///
/// # Errors
/// Refused until the viewer has confirmed confidentiality for the meeting; 404 if the case is
/// not on its list or was listed without a referral.
pub async fn show(
    State(state): State<AppState>,
    me: Signed,
    Path((id, case_id)): Path<(i64, i64)>,
) -> Result<Response, AppError> {
    let st = standing(&state, &me, id).await?;
    require_case(&state, &me, &st, case_id).await?;
    let (listed, _) = listed_case(&state, &st, case_id).await?;
    let sealed = listed.form_sealed.as_ref().ok_or(AppError::NotFound)?;
    let event = me.audit(
        &state,
        "referral.view",
        &format!("referral:{}", listed.referral_id.unwrap_or_default()),
        serde_json::json!({ "page": "meeting", "meeting": id, "case": case_id, "basis": st.basis }),
    );
    state.store.append_audit(event).await?;
    let map: FormMap = casework::open(&state, Purpose::Form, sealed)?;
    let ctx = Context::for_reading(&state, &map).await?;
    let checklists = checklist_choices(&state).await?;
    let reference = listed.reference.clone().unwrap_or_default();
    Ok(ReferralPage {
        ctx: PageContext::new(&state, &me.visitor, format!("Referral {reference}"), "/meetings"),
        meeting_id: id,
        case_id,
        meeting: format!("{}, {}", st.marac.name, crate::routes::display_date(st.meeting.details.held_on)),
        reference,
        sections: summary(None, &map, &ctx, &checklists),
    }
    .into_response())
}
