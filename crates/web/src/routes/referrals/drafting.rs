//! Writing a referral: the task list, each section's questions, and adding and removing the
//! people it names.

use super::submitting::{AnswerRow, display};
use super::triage::view;
use super::{audit_view, checklist_choices, editable, id_of, load_editable, page_errors};
use crate::AppState;
use crate::error::AppError;
use crate::forms::{Errors, FormData, Params};
use crate::page::PageContext;
use crate::session::Signed;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use marac_app::casework::{self, Context, Purpose};
use marac_app::store::{ReferralStatus, Ts};
use marac_domain::checklist::Checklist;
use marac_domain::policy::Basis;
use marac_domain::referral_form::field;
use marac_domain::referral_form::{self as form, FieldError, FieldSpec, FormMap, Kind, Section, Status};
use marac_domain::referral_rules::Criterion;

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
    /// A follow-up: the name of the radio question that calls for it and the answer that does.
    /// With JavaScript it is hidden until then; without, it is always shown.
    pub follows: Option<(String, &'static str)>,
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
pub(super) struct SectionPage {
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
pub(super) struct TaskListPage {
    ctx: PageContext,
    referral_id: i64,
    victim: String,
    tasks: Vec<TaskView>,
    completed: usize,
    question: Option<String>,
}

pub(super) fn field_view(
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
        follows: spec.follows.map(|(name, answer)| {
            (key.rsplit_once('.').map_or_else(String::new, |(prefix, _)| format!("{prefix}.{name}")), answer)
        }),
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

pub(super) fn criteria_views(map: &FormMap, ctx: &Context) -> Vec<CriterionView> {
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

pub(super) fn checklist_view(
    checklist: &Checklist,
    map: &FormMap,
    errors: &[FieldError],
    threshold: u32,
) -> ChecklistView {
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

pub(super) async fn section_page(
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

/// "Person causing harm 2": how the form names person `index` of a group.
pub(super) fn group_legend(noun: &str, index: usize) -> String {
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
pub(super) struct RemovePersonPage {
    ctx: PageContext,
    referral_id: i64,
    slug: &'static str,
    index: usize,
    legend: String,
    /// What the referrer typed for them, so they know whom they are removing.
    details: Vec<AnswerRow>,
}

/// The group section and person a removal names, or 404.
pub(super) fn group_member(map: &FormMap, slug: &str, index: usize) -> Result<(Section, &'static str), AppError> {
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
pub(super) fn merge(map: &mut FormMap, section: Section, posted: &FormData) {
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
    let checklist_before = map.get(field::CHECKLIST_VERSION).cloned().unwrap_or_default();
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
    } else if section == Section::Checklist
        && map.get(field::CHECKLIST_VERSION).is_some_and(|chosen| !chosen.is_empty() && *chosen != checklist_before)
    {
        // A checklist just chosen (or changed) has not been answered yet: its questions are
        // shown to answer, not a message for each that it is unanswered, until it is saved.
        map.remove(&form::saved_key(section));
        stay = Some(format!("{here}#questions"));
    } else {
        map.insert(form::saved_key(section), "1".into());
    }
    let marac_id = map.get(field::REFERRAL_MARAC).and_then(|m| m.parse().ok()).unwrap_or(r.marac_id);
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

/// `GET /referrals/{id}`: the task list while writing; afterwards the referral itself.
///
/// # Errors
/// Refused to anyone but the referrer and the Marac's coordinators and chairs.
pub async fn show(State(state): State<AppState>, me: Signed, Path(id): Path<i64>) -> Result<Response, AppError> {
    let r = state.store.get_referral(id).await?;
    let writing = r.status.is_editable() && r.referrer_user_id == me.user.id;
    if !writing {
        return view(&state, &me, r, Errors::default(), String::new(), String::new(), "").await;
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
