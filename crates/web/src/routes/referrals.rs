//! The referral form (task list, question pages, check answers, confirmation), the
//! referrer's own list, and one referral's page with the coordinator's triage decision.

use crate::AppState;
use crate::casework::{self, Context, Purpose};
use crate::error::AppError;
use crate::forms::{Errors, FormData, Params};
use crate::page::PageContext;
use crate::session::Signed;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use marac_domain::checklist::Checklist;
use marac_domain::policy::{Action, Basis};
use marac_domain::referral_form::{self as form, FieldError, FieldSpec, FormMap, Kind, Section, Status};
use marac_domain::referral_rules::Criterion;
use marac_store::{Decision, Referral, ReferralFilter, ReferralStatus, Ts};

/// One question as the page shows it.
pub struct FieldView {
    /// Element id (the key with dots as dashes).
    pub id: String,
    /// Form field name (the key).
    pub name: String,
    /// The question.
    pub label: String,
    /// Guidance.
    pub hint: String,
    /// `text`, `textarea`, `radios` or `select`.
    pub control: &'static str,
    /// Input type for text controls.
    pub input_type: &'static str,
    /// Width class suffix.
    pub width: &'static str,
    /// What is there now.
    pub value: String,
    /// The problem, if any.
    pub error: Option<String>,
    /// Choices: value, label, selected.
    pub options: Vec<(String, String, bool)>,
    /// Radios side by side.
    pub inline: bool,
    /// Takes focus when the page opens (the first field of a person just added).
    pub autofocus: bool,
}

/// A person in a repeated group.
pub struct GroupView {
    /// "Person causing harm 1".
    pub legend: String,
    /// Index in the group.
    pub index: usize,
    /// Their fields.
    pub fields: Vec<FieldView>,
}

/// One checklist question.
pub struct QuestionView {
    /// 1-based number.
    pub number: usize,
    /// The question's id in its checklist, which the form's fields are named by.
    pub id: String,
    /// Text.
    pub text: String,
    /// Help.
    pub help: String,
    /// Marked high-risk factor.
    pub high_risk: bool,
    /// Current answer.
    pub answer: String,
    /// "Who" choices: value, checked.
    pub who: Vec<(String, bool)>,
    /// Source of the information.
    pub source: String,
    /// Comment.
    pub comment: String,
    /// Problem.
    pub error: Option<String>,
}

/// A checklist section.
pub struct ChecklistSectionView {
    /// Heading.
    pub title: String,
    /// Questions.
    pub questions: Vec<QuestionView>,
}

/// The checklist as the page shows it.
pub struct ChecklistView {
    /// Title and version.
    pub title: String,
    /// "Yes" answers so far.
    pub score: u32,
    /// Questions.
    pub total: usize,
    /// The Marac's threshold.
    pub threshold: u32,
    /// Sections.
    pub sections: Vec<ChecklistSectionView>,
}

/// A criterion with whether it is met and why.
pub struct CriterionView {
    /// Name.
    pub label: &'static str,
    /// Met.
    pub met: bool,
    /// Explanation.
    pub why: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "referrals/section.html")]
struct SectionPage {
    ctx: PageContext,
    referral_id: i64,
    slug: &'static str,
    heading: &'static str,
    fields: Vec<FieldView>,
    groups: Vec<GroupView>,
    group_noun: &'static str,
    /// "Person causing harm 2", when the page opens after removing them.
    removed: Option<String>,
    checklist: Option<ChecklistView>,
    criteria: Vec<CriterionView>,
    errors: Errors,
}

/// One task on the task list.
pub struct TaskView {
    /// Title.
    pub title: &'static str,
    /// Link.
    pub href: String,
    /// Status words.
    pub status: &'static str,
    /// Finished.
    pub done: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "referrals/task_list.html")]
struct TaskListPage {
    ctx: PageContext,
    referral_id: i64,
    victim: String,
    tasks: Vec<TaskView>,
    completed: usize,
    question: Option<String>,
}

/// One answer on a summary.
pub struct AnswerRow {
    /// Question.
    pub label: String,
    /// Answer as shown.
    pub value: String,
}

/// One section of a summary.
pub struct SummarySection {
    /// Heading.
    pub title: &'static str,
    /// Change link.
    pub href: String,
    /// Answers.
    pub rows: Vec<AnswerRow>,
    /// Still to finish.
    pub incomplete: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "referrals/check_answers.html")]
struct CheckAnswersPage {
    ctx: PageContext,
    referral_id: i64,
    sections: Vec<SummarySection>,
    criteria: Vec<CriterionView>,
    score: u32,
    errors: Errors,
}

#[derive(Template, WebTemplate)]
#[template(path = "referrals/confirmation.html")]
struct ConfirmationPage {
    ctx: PageContext,
    reference: String,
    criteria: Vec<&'static str>,
    is_repeat: bool,
    score: i64,
}

/// A referral in a list.
pub struct ListRow {
    /// Link.
    pub href: String,
    /// Reference or "Draft".
    pub reference: String,
    /// Victim.
    pub victim: String,
    /// Marac code.
    pub marac: String,
    /// Status words.
    pub status: &'static str,
    /// Sent back.
    pub returned: bool,
    /// Last change.
    pub updated: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "referrals/list.html")]
struct ListPage {
    ctx: PageContext,
    rows: Vec<ListRow>,
    can_refer: bool,
}

/// A candidate match on the referral page.
pub struct MatchView {
    /// Victim or person causing harm N.
    pub subject: String,
    /// Their name on the earlier record.
    pub name: String,
    /// Score.
    pub score: i64,
    /// Treated as the same person.
    pub certain: bool,
    /// Why.
    pub reasons: Vec<String>,
    /// `victim` or `perpetrator:N`, for the answer form.
    pub subject_code: String,
    /// The known person, for the answer form.
    pub person_id: i64,
    /// The coordinator's answer so far.
    pub confirmed: Option<bool>,
    /// Whether the coordinator may answer it here.
    pub can_answer: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "referrals/view.html")]
struct ViewPage {
    ctx: PageContext,
    referral: Referral,
    marac: String,
    agency: String,
    status: &'static str,
    sections: Vec<SummarySection>,
    criteria: Vec<&'static str>,
    flags: Vec<&'static str>,
    matches: Vec<MatchView>,
    note: Option<String>,
    can_triage: bool,
    /// A case another Marac holds for these people, as the coordinators may know of it.
    held_elsewhere: Option<crate::routes::transfers::HeldElsewhere>,
    errors: Errors,
    decision: String,
    /// What was typed for the decision chosen, kept when the page comes back with a problem.
    send_back_note: String,
    decline_note: String,
}

fn id_of(key: &str) -> String {
    key.replace('.', "-")
}

fn page_errors(errors: &[FieldError]) -> Errors {
    Errors(errors.iter().map(|e| (id_of(&e.key), e.message.clone())).collect())
}

fn field_view(
    spec: &FieldSpec,
    key: String,
    map: &FormMap,
    errors: &[FieldError],
    ctx: &Context,
    checklists: &[(String, String)],
) -> FieldView {
    let value = map.get(&key).cloned().unwrap_or_default();
    let opts = |list: Vec<(String, String)>| -> Vec<(String, String, bool)> {
        list.into_iter().map(|(v, l)| (v.clone(), l, v == value)).collect()
    };
    let statics = |o: &[form::Opt]| o.iter().map(|(v, l)| ((*v).to_owned(), (*l).to_owned())).collect::<Vec<_>>();
    let (control, input_type, width, options) = match spec.kind {
        Kind::Text => ("text", "text", "", Vec::new()),
        Kind::Textarea => ("textarea", "", "", Vec::new()),
        Kind::Date => ("text", "text", "10", Vec::new()),
        Kind::Number => ("text", "text", "3", Vec::new()),
        Kind::Email => ("text", "email", "", Vec::new()),
        Kind::Tel => ("text", "tel", "20", Vec::new()),
        Kind::Postcode => ("text", "text", "10", Vec::new()),
        Kind::Radios(o) => ("radios", "", "", opts(statics(o))),
        Kind::Select(o) => ("select", "", "", opts(statics(o))),
        Kind::Marac => (
            "select",
            "",
            "",
            opts(ctx.maracs.iter().map(|m| (m.id.to_string(), format!("{} ({})", m.name, m.code))).collect()),
        ),
        Kind::Agency => {
            ("select", "", "", opts(ctx.agencies.iter().map(|a| (a.id.to_string(), a.name.clone())).collect()))
        }
        Kind::Checklist => ("select", "", "", opts(checklists.to_vec())),
    };
    FieldView {
        id: id_of(&key),
        error: errors.iter().find(|e| e.key == key).map(|e| e.message.clone()),
        inline: options.len() <= 3 && control == "radios",
        autofocus: false,
        name: key,
        label: spec.label.to_owned(),
        hint: spec.hint.to_owned(),
        control,
        input_type,
        width,
        value,
        options,
    }
}

/// Loads a referral its referrer is still writing.
async fn load_editable(state: &AppState, me: &Signed, id: i64) -> Result<(Referral, FormMap), AppError> {
    editable(state, me, state.store.get_referral(id).await?).await
}

/// Checks a loaded referral is its referrer's to change and opens its form.
async fn editable(state: &AppState, me: &Signed, r: Referral) -> Result<(Referral, FormMap), AppError> {
    let id = r.id;
    me.authorise(state, Action::EditReferral { referrer_user_id: r.referrer_user_id }, &format!("referral:{id}"))
        .await?;
    if !r.status.is_editable() {
        return Err(AppError::NotFound);
    }
    let map: FormMap = casework::open(state, Purpose::Form, &r.form_sealed)?;
    Ok((r, map))
}

async fn audit_view(state: &AppState, me: &Signed, target: &str, page: &str, basis: Basis) -> Result<(), AppError> {
    let event = me.audit(state, "referral.view", target, serde_json::json!({ "page": page, "basis": basis }));
    Ok(state.store.append_audit(event).await?)
}

async fn checklist_choices(state: &AppState) -> Result<Vec<(String, String)>, AppError> {
    Ok(state
        .store
        .list_checklists()
        .await?
        .into_iter()
        .map(|c| (format!("{}@{}", c.checklist_id, c.version), format!("{} (version {})", c.title, c.version)))
        .collect())
}

fn criteria_views(map: &FormMap, ctx: &Context) -> Vec<CriterionView> {
    let rules = ctx.marac(map).map(|m| m.rules).unwrap_or_default();
    let score = form::score(map);
    let assessed = form::assess(map, &rules, ctx.today, None).ok();
    let met = |c: Criterion| assessed.as_ref().is_some_and(|a| a.criteria.contains(&c));
    let facts = form::facts(map, ctx.today, None);
    vec![
        CriterionView {
            label: Criterion::VisibleHighRisk.label(),
            met: met(Criterion::VisibleHighRisk),
            why: format!("{score} \"yes\" answers; this Marac's threshold is {}", rules.high_risk_threshold),
        },
        CriterionView {
            label: Criterion::ProfessionalJudgement.label(),
            met: met(Criterion::ProfessionalJudgement),
            why: "Your judgement, with your reason below".into(),
        },
        CriterionView {
            label: Criterion::PotentialEscalation.label(),
            met: met(Criterion::PotentialEscalation),
            why: format!(
                "{} police-reported incidents given; {} in {} months are needed",
                facts.police_incidents.len(),
                rules.escalation_incidents,
                rules.escalation_months
            ),
        },
        CriterionView {
            label: Criterion::Repeat.label(),
            met: false,
            why: format!(
                "Checked when you submit: a referral within {} months of the last one for the same people",
                rules.repeat_months
            ),
        },
    ]
}

fn checklist_view(checklist: &Checklist, map: &FormMap, errors: &[FieldError], threshold: u32) -> ChecklistView {
    let mut number = 0;
    let sections = checklist
        .sections
        .iter()
        .map(|s| ChecklistSectionView {
            title: s.title.clone(),
            questions: s
                .questions
                .iter()
                .map(|q| {
                    number += 1;
                    let get = |part: &str| map.get(&format!("checklist.{part}.{}", q.id)).cloned().unwrap_or_default();
                    let who = get("who");
                    QuestionView {
                        number,
                        id: q.id.clone(),
                        text: q.text.clone(),
                        help: q.help.clone().unwrap_or_default(),
                        high_risk: q.high_risk_factor,
                        answer: get("answer"),
                        who: q.who.iter().map(|w| (w.clone(), who.split(',').any(|x| x.trim() == w))).collect(),
                        source: get("source"),
                        comment: get("comment"),
                        error: errors
                            .iter()
                            .find(|e| e.key == format!("checklist.answer.{}", q.id))
                            .map(|e| e.message.clone()),
                    }
                })
                .collect(),
        })
        .collect();
    ChecklistView {
        title: format!("{} (version {})", checklist.title, checklist.version),
        score: form::score(map),
        total: checklist.questions().count(),
        threshold,
        sections,
    }
}

async fn section_page(
    state: &AppState,
    me: &Signed,
    id: i64,
    section: Section,
    map: &FormMap,
    errors: &[FieldError],
) -> Result<SectionPage, AppError> {
    let ctx = Context::load(state, &me.user, map).await?;
    let checklists = if section == Section::Checklist { checklist_choices(state).await? } else { Vec::new() };
    let fields = section
        .fields()
        .iter()
        .map(|spec| field_view(spec, form::key(section, spec.name), map, errors, &ctx, &checklists))
        .collect();
    let (group_noun, count) = match section.group_noun() {
        Some(noun) => (noun, form::group_count(map, section).max(1)),
        None => ("", 0),
    };
    let groups = (0..count)
        .map(|i| GroupView {
            legend: group_legend(group_noun, i),
            index: i,
            fields: section
                .group_fields()
                .iter()
                .map(|spec| field_view(spec, form::group_key(section, i, spec.name), map, errors, &ctx, &checklists))
                .collect(),
        })
        .collect();
    let threshold = ctx.marac(map).map_or(14, |m| m.rules.high_risk_threshold);
    let checklist = match (section, &ctx.checklist) {
        (Section::Checklist, Some(c)) => Some(checklist_view(c, map, errors, threshold)),
        _ => None,
    };
    let criteria = if section == Section::Reason { criteria_views(map, &ctx) } else { Vec::new() };
    Ok(SectionPage {
        ctx: PageContext::new(state, &me.visitor, section.title(), "/referrals"),
        referral_id: id,
        slug: section.slug(),
        heading: section.title(),
        fields,
        groups,
        group_noun,
        removed: None,
        checklist,
        criteria,
        errors: page_errors(errors),
    })
}

/// `GET /referrals`: the signed-in user's own referrals.
///
/// # Errors
/// Store failures.
pub async fn list(State(state): State<AppState>, me: Signed) -> Result<Response, AppError> {
    me.authorise(&state, Action::ViewHome, "referrals").await?;
    let mine = state
        .store
        .list_referrals(&ReferralFilter { referrer_user_id: Some(me.user.id), limit: 200, ..Default::default() })
        .await?;
    let maracs = state.store.list_maracs().await?;
    let mut rows = Vec::new();
    for r in &mine {
        let map: FormMap = casework::open(&state, Purpose::Form, &r.form_sealed)?;
        rows.push(ListRow {
            href: format!("/referrals/{}", r.id),
            reference: r.reference.clone().unwrap_or_else(|| "Not submitted".into()),
            victim: casework::victim_name(&map),
            marac: maracs.iter().find(|m| m.id == r.marac_id).map(|m| m.code.clone()).unwrap_or_default(),
            status: r.status.label(),
            returned: r.status == ReferralStatus::Returned,
            updated: crate::routes::display_date(r.updated_at.0.date()),
        });
    }
    if !mine.is_empty() {
        let ids: Vec<i64> = mine.iter().map(|r| r.id).collect();
        let event = me.audit(&state, "referral.list", "referrals:own", serde_json::json!({ "referrals": ids }));
        state.store.append_audit(event).await?;
    }
    let can_refer = !casework::referable_maracs(&state, &me.actor()).await?.is_empty();
    Ok(ListPage { ctx: PageContext::new(&state, &me.visitor, "Your referrals", "/referrals"), rows, can_refer }
        .into_response())
}

/// `POST /referrals/new`: starts a draft and opens its task list.
///
/// # Errors
/// Refused to anyone who may not refer to any Marac.
pub async fn start(State(state): State<AppState>, me: Signed) -> Result<Response, AppError> {
    let maracs = casework::referable_maracs(&state, &me.actor()).await?;
    let (Some(first), Some(agency)) = (maracs.first(), me.user.agency_id) else {
        me.authorise(&state, Action::CreateReferral { marac_id: 0 }, "referral:new").await?;
        return Err(me.refuse(&state, "referral:new", "no agency to refer from").await);
    };
    let mut map = FormMap::new();
    if maracs.len() == 1 {
        map.insert("referral.marac".into(), first.id.to_string());
    }
    let draft = marac_store::NewDraft {
        marac_id: first.id,
        referrer_user_id: me.user.id,
        referring_agency_id: agency,
        form_sealed: casework::seal(&state, Purpose::Form, &map)?,
    };
    let id =
        state.store.create_draft(&draft, me.audit(&state, "referral.draft.create", "", serde_json::json!({}))).await?;
    Ok(Redirect::to(&format!("/referrals/{id}")).into_response())
}

/// `GET /referrals/{id}`: the task list while writing; afterwards the referral itself.
///
/// # Errors
/// Refused to anyone but the referrer and the Marac's coordinators and chairs.
pub async fn show(State(state): State<AppState>, me: Signed, Path(id): Path<i64>) -> Result<Response, AppError> {
    let r = state.store.get_referral(id).await?;
    let writing = r.status.is_editable() && r.referrer_user_id == me.user.id;
    if !writing {
        return view(&state, &me, r, Errors::default(), String::new(), String::new()).await;
    }
    let (r, map) = editable(&state, &me, r).await?;
    audit_view(&state, &me, &format!("referral:{id}"), "task-list", Basis::OwnReferral).await?;
    let ctx = Context::load(&state, &me.user, &map).await?;
    let tasks: Vec<TaskView> = Section::ALL
        .into_iter()
        .map(|s| {
            let status = form::status(s, &map, &ctx.form());
            TaskView {
                title: s.title(),
                href: format!("/referrals/{id}/{}", s.slug()),
                status: match status {
                    Status::NotStarted => "Not started",
                    Status::InProgress => "In progress",
                    Status::Completed => "Completed",
                },
                done: status == Status::Completed,
            }
        })
        .collect();
    let question = match &r.decision_note_sealed {
        Some(n) if r.status == ReferralStatus::Returned => {
            Some(casework::open::<String>(&state, Purpose::Decision, n)?)
        }
        _ => None,
    };
    Ok(TaskListPage {
        ctx: PageContext::new(&state, &me.visitor, "Make a referral", "/referrals"),
        referral_id: id,
        victim: casework::victim_name(&map),
        completed: tasks.iter().filter(|t| t.done).count(),
        tasks,
        question,
    }
    .into_response())
}

/// "Person causing harm 2": how the form names person `index` of a group.
fn group_legend(noun: &str, index: usize) -> String {
    let mut chars = noun.chars();
    let first = chars.next().map(|c| c.to_uppercase().collect::<String>()).unwrap_or_default();
    format!("{first}{} {}", chars.as_str(), index + 1)
}

/// What a question page opens with after "Add another" or a removal.
#[derive(serde::Deserialize, Default)]
pub struct SectionQuery {
    /// The person just added, whose first field takes focus.
    added: Option<usize>,
    /// The person just removed, for the banner that says so.
    removed: Option<usize>,
}

/// `GET /referrals/{id}/{section}`: one question page.
///
/// # Errors
/// Refused to anyone but the referrer; 404 once submitted.
pub async fn section_form(
    State(state): State<AppState>,
    me: Signed,
    Path((id, slug)): Path<(i64, String)>,
    Params(q): Params<SectionQuery>,
) -> Result<Response, AppError> {
    let section = Section::from_slug(&slug).ok_or(AppError::NotFound)?;
    let (_, map) = load_editable(&state, &me, id).await?;
    audit_view(&state, &me, &format!("referral:{id}"), section.slug(), Basis::OwnReferral).await?;
    // A section saved before shows its problems again, so a return visit says what is left;
    // not just after "Add another", where the summary would take focus from the new person
    // and list their empty fields.
    let errors = if map.contains_key(&form::saved_key(section)) && q.added.is_none() {
        let ctx = Context::load(&state, &me.user, &map).await?;
        form::validate(section, &map, &ctx.form())
    } else {
        Vec::new()
    };
    let mut page = section_page(&state, &me, id, section, &map, &errors).await?;
    if let Some(field) = q.added.and_then(|i| page.groups.get_mut(i)).and_then(|g| g.fields.first_mut()) {
        field.autofocus = true;
    }
    page.removed = q.removed.zip(section.group_noun()).map(|(i, noun)| group_legend(noun, i));
    Ok(page.into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "referrals/remove_person.html")]
struct RemovePersonPage {
    ctx: PageContext,
    referral_id: i64,
    slug: &'static str,
    index: usize,
    legend: String,
    /// What the referrer typed for them, so they know whom they are removing.
    details: Vec<AnswerRow>,
}

/// The group section and person a removal names, or 404.
fn group_member(map: &FormMap, slug: &str, index: usize) -> Result<(Section, &'static str), AppError> {
    let section = Section::from_slug(slug).ok_or(AppError::NotFound)?;
    let noun = section.group_noun().ok_or(AppError::NotFound)?;
    if index >= form::group_count(map, section) {
        return Err(AppError::NotFound);
    }
    Ok((section, noun))
}

/// `GET /referrals/{id}/{section}/remove/{index}`: asks before removing a person who has
/// details typed in, since a removal cannot be undone.
///
/// # Errors
/// Refused to anyone but the referrer; 404 once submitted or for a person not on the form.
pub async fn remove_person_form(
    State(state): State<AppState>,
    me: Signed,
    Path((id, slug, index)): Path<(i64, String, usize)>,
) -> Result<Response, AppError> {
    let (_, map) = load_editable(&state, &me, id).await?;
    let (section, noun) = group_member(&map, &slug, index)?;
    audit_view(&state, &me, &format!("referral:{id}"), section.slug(), Basis::OwnReferral).await?;
    let ctx = Context::load(&state, &me.user, &map).await?;
    let details = section
        .group_fields()
        .iter()
        .filter_map(|spec| {
            let value = map.get(&form::group_key(section, index, spec.name)).map_or("", |v| v.trim());
            (!value.is_empty())
                .then(|| AnswerRow { label: spec.label.to_owned(), value: display(spec, value, &ctx, &[]) })
        })
        .collect();
    let legend = group_legend(noun, index);
    Ok(RemovePersonPage {
        ctx: PageContext::new(&state, &me.visitor, format!("Remove {}", legend.to_lowercase()), "/referrals"),
        referral_id: id,
        slug: section.slug(),
        index,
        legend,
        details,
    }
    .into_response())
}

/// `POST /referrals/{id}/{section}/remove/{index}`: removes the person; the later ones move up.
///
/// # Errors
/// Refused to anyone but the referrer; 404 once submitted or for a person not on the form.
pub async fn remove_person(
    State(state): State<AppState>,
    me: Signed,
    Path((id, slug, index)): Path<(i64, String, usize)>,
) -> Result<Response, AppError> {
    let (r, mut map) = load_editable(&state, &me, id).await?;
    let (section, _) = group_member(&map, &slug, index)?;
    form::remove_from_group(&mut map, section, index);
    let event = me.audit(
        &state,
        "referral.draft.save",
        &format!("referral:{id}"),
        serde_json::json!({ "section": section.slug(), "removed": index }),
    );
    state
        .store
        .save_draft(id, r.marac_id, &casework::seal(&state, Purpose::Form, &map)?, Ts::new(state.clock.now()), event)
        .await?;
    Ok(Redirect::to(&format!("/referrals/{id}/{}?removed={index}", section.slug())).into_response())
}

/// Puts a page's answers into the form, replacing what the section held: a radio left
/// unticked or a person removed must not come back from the old draft.
fn merge(map: &mut FormMap, section: Section, posted: &FormData) {
    let prefix = format!("{}.", section.prefix());
    map.retain(|k, _| !k.starts_with(&prefix));
    for (k, v) in &posted.0 {
        if !k.starts_with(&prefix) || !form::is_known_key(k) {
            continue;
        }
        map.entry(k.clone())
            .and_modify(|existing| {
                existing.push(',');
                existing.push_str(v);
            })
            .or_insert_with(|| v.clone());
    }
}

/// `POST /referrals/{id}/{section}`: saves the page (always), then adds or removes a person,
/// or checks the page and returns to the task list.
///
/// # Errors
/// Refused to anyone but the referrer; 404 once submitted.
pub async fn section_save(
    State(state): State<AppState>,
    me: Signed,
    Path((id, slug)): Path<(i64, String)>,
    posted: FormData,
) -> Result<Response, AppError> {
    let section = Section::from_slug(&slug).ok_or(AppError::NotFound)?;
    let (r, mut map) = load_editable(&state, &me, id).await?;
    merge(&mut map, section, &posted);
    let action = posted.get("_action");
    // Where to go after saving when the page is not being finished: the new person's first
    // field, the question whether to remove someone who has details, or the page again.
    let mut stay: Option<String> = None;
    let here = format!("/referrals/{id}/{}", section.slug());
    if action == "add" {
        stay = Some(match form::add_to_group(&mut map, section) {
            Some(i) => format!("{here}?added={i}"),
            None => here.clone(),
        });
    } else if let Some(i) = action.strip_prefix("remove-").and_then(|i| i.parse::<usize>().ok()) {
        // Someone with nothing typed in goes at once; anyone else only once the referrer says so.
        stay = Some(if form::group_member_is_empty(&map, section, i) {
            form::remove_from_group(&mut map, section, i);
            here.clone()
        } else {
            format!("{here}/remove/{i}")
        });
    } else {
        map.insert(form::saved_key(section), "1".into());
    }
    let marac_id = map.get("referral.marac").and_then(|m| m.parse().ok()).unwrap_or(r.marac_id);
    let ctx = Context::load(&state, &me.user, &map).await?;
    // Only a Marac the referrer may refer to is kept on the record.
    let marac_id = if ctx.maracs.iter().any(|m| m.id == marac_id) { marac_id } else { r.marac_id };
    let event = me.audit(
        &state,
        "referral.draft.save",
        &format!("referral:{id}"),
        serde_json::json!({ "section": section.slug() }),
    );
    state
        .store
        .save_draft(id, marac_id, &casework::seal(&state, Purpose::Form, &map)?, Ts::new(state.clock.now()), event)
        .await?;
    if let Some(to) = stay {
        return Ok(Redirect::to(&to).into_response());
    }
    let errors = form::validate(section, &map, &ctx.form());
    if errors.is_empty() {
        return Ok(Redirect::to(&format!("/referrals/{id}")).into_response());
    }
    Ok(section_page(&state, &me, id, section, &map, &errors).await?.into_response())
}

fn display(spec: &FieldSpec, value: &str, ctx: &Context, checklists: &[(String, String)]) -> String {
    match spec.kind {
        Kind::Radios(o) | Kind::Select(o) => form::choice_label(o, value),
        Kind::Marac => {
            ctx.maracs.iter().find(|m| m.id.to_string() == value).map_or_else(|| value.to_owned(), |m| m.name.clone())
        }
        Kind::Agency => {
            ctx.agencies.iter().find(|a| a.id.to_string() == value).map_or_else(|| value.to_owned(), |a| a.name.clone())
        }
        Kind::Checklist => {
            checklists.iter().find(|(v, _)| v == value).map_or_else(|| value.to_owned(), |(_, l)| l.clone())
        }
        _ => value.to_owned(),
    }
}

fn summary(id: Option<i64>, map: &FormMap, ctx: &Context, checklists: &[(String, String)]) -> Vec<SummarySection> {
    Section::ALL
        .into_iter()
        .map(|s| {
            let mut rows = Vec::new();
            let mut push = |spec: &FieldSpec, key: String, prefix: &str| {
                let value = map.get(&key).map_or("", |v| v.trim());
                if !value.is_empty() {
                    rows.push(AnswerRow {
                        label: format!("{prefix}{}", spec.label),
                        value: display(spec, value, ctx, checklists),
                    });
                }
            };
            for spec in s.fields() {
                push(spec, form::key(s, spec.name), "");
            }
            for i in 0..form::group_count(map, s) {
                for spec in s.group_fields() {
                    push(
                        spec,
                        form::group_key(s, i, spec.name),
                        &format!(
                            "{} {}: ",
                            if s == Section::Children { "Household member" } else { "Person causing harm" },
                            i + 1
                        ),
                    );
                }
            }
            if s == Section::Checklist
                && let Some(c) = &ctx.checklist
            {
                for (n, q) in c.questions().enumerate() {
                    let answer = map.get(&format!("checklist.answer.{}", q.id)).map_or("", String::as_str);
                    let shown = match answer {
                        "yes" => "Yes",
                        "no" => "No",
                        "dont_know" => "Don't know",
                        _ => "Not answered",
                    };
                    rows.push(AnswerRow { label: format!("{}. {}", n + 1, q.text), value: shown.to_owned() });
                }
            }
            SummarySection {
                title: s.title(),
                href: id.map(|id| format!("/referrals/{id}/{}", s.slug())).unwrap_or_default(),
                incomplete: !form::validate(s, map, &ctx.form()).is_empty(),
                rows,
            }
        })
        .collect()
}

async fn check_page(
    state: &AppState,
    me: &Signed,
    id: i64,
    map: &FormMap,
    errors: &[FieldError],
) -> Result<Response, AppError> {
    let ctx = Context::load(state, &me.user, map).await?;
    let checklists = checklist_choices(state).await?;
    Ok(CheckAnswersPage {
        ctx: PageContext::new(state, &me.visitor, "Check your answers before sending your referral", "/referrals"),
        referral_id: id,
        sections: summary(Some(id), map, &ctx, &checklists),
        criteria: criteria_views(map, &ctx),
        score: form::score(map),
        errors: Errors(errors.iter().map(|e| (id_of(&e.key), e.message.clone())).collect()),
    }
    .into_response())
}

/// `GET /referrals/{id}/check`.
///
/// # Errors
/// Refused to anyone but the referrer; 404 once submitted.
pub async fn check(State(state): State<AppState>, me: Signed, Path(id): Path<i64>) -> Result<Response, AppError> {
    let (_, map) = load_editable(&state, &me, id).await?;
    audit_view(&state, &me, &format!("referral:{id}"), "check-answers", Basis::OwnReferral).await?;
    check_page(&state, &me, id, &map, &[]).await
}

/// `POST /referrals/{id}/check`: submits the referral.
///
/// # Errors
/// Refused to anyone but the referrer; 404 once submitted.
pub async fn submit(State(state): State<AppState>, me: Signed, Path(id): Path<i64>) -> Result<Response, AppError> {
    let (_, map) = load_editable(&state, &me, id).await?;
    me.authorise(
        &state,
        Action::CreateReferral { marac_id: map.get("referral.marac").and_then(|m| m.parse().ok()).unwrap_or(0) },
        &format!("referral:{id}"),
    )
    .await?;
    let prepared = match casework::prepare(&state, &me.user, &map, Some(id)).await? {
        Ok(p) => p,
        Err(errors) => return check_page(&state, &me, id, &map, &errors).await,
    };
    let detail = serde_json::json!({ "criteria": prepared.assessment.criteria, "score": prepared.submission.score });
    let event = me.audit(&state, "referral.submit", "", detail);
    let done = state.store.submit_referral(&prepared.submission, Ts::new(state.clock.now()), event).await?;
    casework::notify_held_elsewhere(&state, &done).await?;
    Ok(Redirect::to(&format!("/referrals/{id}/submitted")).into_response())
}

/// `GET /referrals/{id}/submitted`: the confirmation with the reference.
///
/// # Errors
/// Refused to anyone but the referrer.
pub async fn submitted(State(state): State<AppState>, me: Signed, Path(id): Path<i64>) -> Result<Response, AppError> {
    let r = state.store.get_referral(id).await?;
    let basis = me
        .authorise(&state, Action::EditReferral { referrer_user_id: r.referrer_user_id }, &format!("referral:{id}"))
        .await?;
    let Some(reference) = r.reference.clone() else { return Err(AppError::NotFound) };
    audit_view(&state, &me, &format!("referral:{id}"), "confirmation", basis).await?;
    Ok(ConfirmationPage {
        ctx: PageContext::new(&state, &me.visitor, "Referral sent", "/referrals"),
        reference,
        criteria: r.criteria.iter().map(|c| c.label()).collect(),
        is_repeat: r.is_repeat,
        score: r.score.unwrap_or(0),
    }
    .into_response())
}

async fn view(
    state: &AppState,
    me: &Signed,
    r: Referral,
    errors: Errors,
    decision: String,
    decision_note: String,
) -> Result<Response, AppError> {
    let target = format!("referral:{}", r.id);
    let basis = me
        .authorise(state, Action::ReadReferral { marac_id: r.marac_id, referrer_user_id: r.referrer_user_id }, &target)
        .await?;
    audit_view(state, me, &target, "referral", basis).await?;
    let map: FormMap = casework::open(state, Purpose::Form, &r.form_sealed)?;
    let can_triage = r.status == ReferralStatus::Submitted
        && marac_domain::policy::authorise(&me.actor(), Action::TriageReferrals { marac_id: r.marac_id }).is_ok();
    let checklists = checklist_choices(state).await?;
    let ctx = Context::for_reading(state, &map).await?;
    let mut matches = Vec::new();
    if marac_domain::policy::authorise(&me.actor(), Action::TriageReferrals { marac_id: r.marac_id }).is_ok() {
        for m in state.store.referral_matches(r.id).await? {
            let can_answer = m.decidable && !m.certain;
            let person: casework::StoredPerson =
                casework::open(state, Purpose::Person, &state.store.get_person(m.person_id).await?.details_sealed)?;
            matches.push(MatchView {
                subject: match m.subject.strip_prefix("perpetrator:") {
                    Some(n) => format!("Person causing harm {n}"),
                    None => "Victim".into(),
                },
                name: format!("{} {}", person.given_name, person.family_name),
                score: m.score,
                certain: m.certain,
                reasons: casework::open(state, Purpose::MatchReasons, &m.reasons_sealed)?,
                subject_code: m.subject,
                person_id: m.person_id,
                confirmed: m.confirmed,
                can_answer,
            });
        }
    }
    let note = match &r.decision_note_sealed {
        Some(n) => Some(casework::open::<String>(state, Purpose::Decision, n)?),
        None => None,
    };
    let coordinates =
        marac_domain::policy::authorise(&me.actor(), Action::TriageReferrals { marac_id: r.marac_id }).is_ok();
    let held_elsewhere = match state.store.case_transfer_for_referral(r.id).await? {
        Some(t) if coordinates => Some(crate::routes::transfers::held_elsewhere(state, &t).await?),
        _ => None,
    };
    let marac = state.store.get_marac(r.marac_id).await?.name;
    let agency = state.store.get_agency(r.referring_agency_id).await?.name;
    Ok(ViewPage {
        ctx: PageContext::new(
            state,
            &me.visitor,
            format!("Referral {}", r.reference.clone().unwrap_or_default()),
            "/referrals",
        ),
        marac,
        agency,
        status: r.status.label(),
        sections: summary(None, &map, &ctx, &checklists),
        criteria: r.criteria.iter().map(|c| c.label()).collect(),
        flags: r.age_flags.iter().map(|f| f.label()).collect(),
        matches,
        note,
        can_triage,
        held_elsewhere,
        errors,
        send_back_note: if decision == "send_back" { decision_note.clone() } else { String::new() },
        decline_note: if decision == "decline" { decision_note } else { String::new() },
        decision,
        referral: r,
    }
    .into_response())
}

/// `POST /referrals/{id}/matches`: the coordinator's answer to one candidate: the same person
/// (the referral's record is merged into the known person, so repeats count them as one) or
/// not (undoing an earlier confirmation). The referral's repeat criterion is worked out again.
///
/// # Errors
/// Refused to anyone but the Marac's coordinators; 404 for a candidate the referral does not
/// have; 409 for a referral submitted before answers were recorded.
pub async fn answer_match(
    State(state): State<AppState>,
    me: Signed,
    Path(id): Path<i64>,
    posted: FormData,
) -> Result<Response, AppError> {
    let r = state.store.get_referral(id).await?;
    let target = format!("referral:{id}");
    me.authorise(&state, Action::TriageReferrals { marac_id: r.marac_id }, &target).await?;
    let confirm = match posted.get("answer") {
        "same" => true,
        "different" => false,
        _ => return Err(AppError::BadRequest),
    };
    let person_id: i64 = posted.get("person").trim().parse().map_err(|_| AppError::BadRequest)?;
    let subject = posted.get("subject").to_owned();
    let repeat_months = state.store.get_marac(r.marac_id).await?.rules.repeat_months;
    let event = me.audit(
        &state,
        if confirm { "referral.match_confirm" } else { "referral.match_reject" },
        &target,
        serde_json::json!({ "subject": subject, "person": person_id }),
    );
    let decision =
        marac_store::MatchDecision { referral_id: id, subject, person_id, confirm, repeat_months, by: me.user.id };
    state.store.decide_match(&decision, Ts::new(state.clock.now()), event).await?;
    Ok(Redirect::to(&format!("/referrals/{id}#matches")).into_response())
}

/// `POST /referrals/{id}/decision`: accept, send back with a question, or decline with a reason.
///
/// # Errors
/// Refused to anyone but the Marac's coordinators; 404 when it is not waiting for triage.
pub async fn decide(
    State(state): State<AppState>,
    me: Signed,
    Path(id): Path<i64>,
    posted: FormData,
) -> Result<Response, AppError> {
    let r = state.store.get_referral(id).await?;
    me.authorise(&state, Action::TriageReferrals { marac_id: r.marac_id }, &format!("referral:{id}")).await?;
    let decision = posted.get("decision").to_owned();
    let note = posted.get(&format!("{decision}_note")).trim().to_owned();
    let mut errors = Errors::default();
    let chosen = match decision.as_str() {
        // A referral joins a case of its own Marac: one held by another waits for the move.
        "accept" if r.case_id.is_none() && r.known_case_id.is_some() => {
            errors.add("decision", "Another Marac holds this case: ask for it to move here, or decline the referral");
            None
        }
        "accept" => Some(Decision::Accept),
        "send_back" if note.chars().count() >= 5 => {
            Some(Decision::SendBack(casework::seal(&state, Purpose::Decision, &note)?))
        }
        "send_back" => {
            errors.add("send_back_note", "Write the question for the referrer");
            None
        }
        "decline" if note.chars().count() >= 5 => {
            Some(Decision::Decline(casework::seal(&state, Purpose::Decision, &note)?))
        }
        "decline" => {
            errors.add("decline_note", "Give the reason for declining; it is kept and counted as screened out");
            None
        }
        _ => {
            errors.add("decision", "Select what to do with this referral");
            None
        }
    };
    let Some(chosen) = chosen else {
        return view(&state, &me, r, errors, decision, note).await;
    };
    let action = match chosen {
        Decision::Accept => "referral.accept",
        Decision::SendBack(_) => "referral.send_back",
        Decision::Decline(_) => "referral.decline",
    };
    let event = me.audit(&state, action, &format!("referral:{id}"), serde_json::json!({}));
    let at = Ts::new(state.clock.now());
    state.store.decide_referral(id, &chosen, me.user.id, at, event).await?;
    if matches!(chosen, Decision::SendBack(_)) {
        let users = state.store.list_users().await?;
        crate::notify::send(&state, crate::notify::referral_returned(&users, id, r.referrer_user_id, at)).await;
    }
    Ok(Redirect::to("/triage").into_response())
}
