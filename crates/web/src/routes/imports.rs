//! The upload page for a Marac's history: the documented CSV template, the upload, and either
//! every problem with its line or what was imported. Coordinators only, for their own Maracs.

use crate::AppState;
use crate::error::AppError;
use crate::page::PageContext;
use crate::session::Signed;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Multipart, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use marac_app::import::{self, MAX_FILE_BYTES};
use marac_app::store::ImportCount;
use marac_domain::import::{COLUMNS, Column, Problems, template_header};
use marac_domain::policy::Action;
use marac_domain::referral_form::ETHNICITIES;

#[derive(Template, WebTemplate)]
#[template(path = "returns/import.html")]
struct ImportPage {
    ctx: PageContext,
    columns: &'static [Column],
    ethnicities: Vec<(&'static str, &'static str)>,
    errors: Problems,
    done: Option<ImportCount>,
    file_name: String,
}

/// Coordinators of at least one Marac import; anyone else is refused (and audited).
async fn coordinator(state: &AppState, me: &Signed) -> Result<(), AppError> {
    let marac = me
        .user
        .grants
        .iter()
        .filter_map(|g| g.marac_id)
        .find(|m| marac_domain::policy::authorise(&me.actor(), Action::ManageMeetings { marac_id: *m }).is_ok());
    me.authorise(state, Action::ManageMeetings { marac_id: marac.unwrap_or(0) }, "returns/import").await?;
    Ok(())
}

fn page(state: &AppState, me: &Signed, errors: Problems, done: Option<ImportCount>, file_name: String) -> Response {
    ImportPage {
        ctx: PageContext::new(state, &me.visitor, "Import a Marac's history", "/returns"),
        columns: COLUMNS,
        ethnicities: ETHNICITIES.to_vec(),
        errors,
        done,
        file_name,
    }
    .into_response()
}

/// `GET /returns/import`: the template and the upload form.
///
/// # Errors
/// Refused to anyone who coordinates no Marac.
pub async fn form(State(state): State<AppState>, me: Signed) -> Result<Response, AppError> {
    coordinator(&state, &me).await?;
    Ok(page(&state, &me, Problems::default(), None, String::new()))
}

/// `GET /returns/import/template.csv`: the template's header line.
///
/// # Errors
/// Refused to anyone who coordinates no Marac.
pub async fn template(State(state): State<AppState>, me: Signed) -> Result<Response, AppError> {
    coordinator(&state, &me).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"marac-history-template.csv\""),
        ],
        format!("{}\n", template_header()),
    )
        .into_response())
}

/// `POST /returns/import`: checks the uploaded file and, if every row is good, imports it.
///
/// # Errors
/// Refused to anyone who coordinates no Marac; 400 for a request that is not an upload.
pub async fn upload(State(state): State<AppState>, me: Signed, mut multipart: Multipart) -> Result<Response, AppError> {
    coordinator(&state, &me).await?;
    let mut file = None;
    while let Some(field) = multipart.next_field().await.map_err(|_| AppError::BadRequest)? {
        if field.name() == Some("file") {
            let name = field.file_name().unwrap_or("").to_owned();
            let bytes = field.bytes().await.map_err(|e| AppError::unreadable_body(&e))?;
            file = Some((name, bytes));
        }
    }
    let Some((name, bytes)) = file.filter(|(_, b)| !b.is_empty()) else {
        let none = Problems::one(0, "", "Choose a CSV file to import");
        return Ok(page(&state, &me, none, None, String::new()));
    };
    if bytes.len() > MAX_FILE_BYTES {
        return Err(AppError::TooLarge);
    }
    Ok(match import::import(&state, &me.user, &me.actor(), &bytes).await? {
        Ok(count) => page(&state, &me, Problems::default(), Some(count), name),
        Err(errors) => page(&state, &me, errors, None, name),
    })
}
