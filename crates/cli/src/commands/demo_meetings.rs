//! The demo's meetings: every Marac's schedule over the months the demo referrals cover, each
//! past meeting listed, confirmed, attended, discussed, minuted and closed, with actions in
//! every state (done, not done for either reason, carried forward, open and overdue, and open
//! and due in the next few days so reminders fall due at once); and the next meeting with its
//! list published, so a newcomer can confirm confidentiality and rehearse a meeting.
//!
//! Everything goes through the store as the pages would write it, text sealed by `casework`.

use super::cli_event;
use super::demo_referrals::Rng;
use marac_app::App;
use marac_app::casework::{self, Purpose};
use marac_app::payloads::{ActionText, Discussion};
use marac_domain::AgencyCategory;
use marac_domain::flags::{self, FlagKind};
use marac_domain::meeting_rules::{
    self, ActionKind, ActionStatus, ActionSubject, AttendanceKind, CaseOutcome, DelayReason, ListCandidate,
    MeetingFormat, MeetingKind, PerpetratorApproach,
};
use marac_store::{
    ActionEvent, Agency, AttendanceEntry, DiscussionRecord, Marac, NewAction, NewFlag, NewMeeting, Publication, Store,
    Ts, User, WaitingCase,
};
use time::{Date, Duration, OffsetDateTime};

/// The statement every demo Marac reads out.
const STATEMENT: &str = "Information shared at this Marac is confidential. It is shared only to keep the \
victim and any children safe, under the information-sharing agreement, and is not to be passed on \
except to carry out an agreed action. Minutes are OFFICIAL-SENSITIVE.";

/// An action each kind of agency typically takes: whom it is about, the approach for the
/// person causing harm, and what is to be done.
fn typical_action(category: AgencyCategory) -> (ActionSubject, Option<PerpetratorApproach>, &'static str) {
    use AgencyCategory as C;
    match category {
        C::Police => (
            ActionSubject::Perpetrator,
            Some(PerpetratorApproach::Disruption),
            "Place an urgent-response marker on the address and review the bail conditions",
        ),
        C::Idva => {
            (ActionSubject::Victim, None, "Agree a safety plan with the victim and discuss a non-molestation order")
        }
        C::ChildrensSocialCare => {
            (ActionSubject::Child, None, "Visit the family and decide whether a strategy discussion is needed")
        }
        C::Education => (ActionSubject::Child, None, "Tell the designated safeguarding lead and monitor attendance"),
        C::Housing => (ActionSubject::Victim, None, "Arrange a sanctuary scheme assessment of the property"),
        C::Probation => (
            ActionSubject::Perpetrator,
            Some(PerpetratorApproach::Management),
            "Review the licence conditions and share any breach with the police the same day",
        ),
        C::SubstanceMisuse => (
            ActionSubject::Perpetrator,
            Some(PerpetratorApproach::Diversion),
            "Offer the person causing harm a place on the recovery programme",
        ),
        C::MentalHealth => (ActionSubject::Victim, None, "Offer an assessment with the community mental health team"),
        _ => (ActionSubject::Victim, None, "Flag the records and offer the victim a private appointment"),
    }
}

/// Some agencies' actions are the kinds the partnership counts: early help from children's
/// social care and education, the Right to Know from the police, MAPPA from probation.
fn action_kind(category: AgencyCategory, rng: &mut Rng) -> ActionKind {
    match category {
        AgencyCategory::ChildrensSocialCare | AgencyCategory::Education if rng.chance(40) => ActionKind::EarlyHelp,
        AgencyCategory::ChildrensSocialCare if rng.chance(20) => ActionKind::ChildProtectionConference,
        AgencyCategory::Police if rng.chance(30) => ActionKind::RightToKnow,
        AgencyCategory::Probation if rng.chance(40) => ActionKind::Mappa,
        _ => ActionKind::General,
    }
}

const REPRESENTATIVES: &[&str] =
    &["Sam Okafor", "Jade Lin", "Ruth Bell", "Omar Aziz", "Kate Hughes", "Dev Mistry", "Tom Price", "Ellie Ward"];

struct Seeder<'a> {
    store: &'a dyn Store,
    state: App,
    rng: Rng,
    today: Date,
    users: Vec<User>,
    agencies: Vec<Agency>,
}

/// Seeds the demo meetings unless there are some already; returns how many it made.
///
/// # Errors
/// Store failures.
pub async fn seed(state: App, marac_codes: &[&str], since: Date) -> anyhow::Result<usize> {
    let store = state.store.clone();
    let maracs: Vec<Marac> =
        store.list_maracs().await?.into_iter().filter(|m| marac_codes.contains(&m.code.as_str())).collect();
    let ids: Vec<i64> = maracs.iter().map(|m| m.id).collect();
    if !store.list_meetings(&ids, None, 1).await?.is_empty() {
        return Ok(0);
    }
    let mut s = Seeder {
        store: store.as_ref(),
        state: state.clone(),
        rng: Rng(0x2026_0505_cafe_f00d),
        today: OffsetDateTime::now_utc().date(),
        users: store.list_users().await?,
        agencies: store.list_agencies().await?,
    };
    let mut made = 0;
    for marac in &maracs {
        made += s.marac(marac, since).await?;
    }
    Ok(made)
}

fn at(day: Date, hour: u8) -> Ts {
    Ts::new(day.with_hms(hour, 0, 0).map_or_else(|_| OffsetDateTime::now_utc(), time::PrimitiveDateTime::assume_utc))
}

impl Seeder<'_> {
    fn holders(&self, marac_id: i64) -> Vec<&User> {
        self.users
            .iter()
            .filter(|u| u.grants.iter().any(|g| g.role.is_per_marac() && g.marac_id == Some(marac_id)))
            .filter(|u| {
                u.grants.iter().any(|g| {
                    matches!(
                        g.role,
                        marac_domain::Role::Chair
                            | marac_domain::Role::Coordinator
                            | marac_domain::Role::AgencyRep
                            | marac_domain::Role::Idva
                    )
                })
            })
            .collect()
    }

    fn coordinator(&self, marac_id: i64) -> Option<&User> {
        let holders: Vec<i64> = self.holders(marac_id).iter().map(|u| u.id).collect();
        self.users.iter().find(|u| u.has_role(marac_domain::Role::Coordinator) && holders.contains(&u.id))
    }

    async fn marac(&mut self, marac: &Marac, since: Date) -> anyhow::Result<usize> {
        let by = self.coordinator(marac.id).map(|u| u.id);
        // `add_statement` gives the version; confirmations name the statement's id.
        self.store
            .add_statement(marac.id, STATEMENT, by, at(since, 9), cli_event("statement.add", "", serde_json::json!({})))
            .await?;
        let statement_id = self
            .store
            .current_statement(marac.id)
            .await?
            .map(|s| s.id)
            .ok_or_else(|| anyhow::anyhow!("the statement just added to {} is not there", marac.code))?;
        let invited: Vec<i64> =
            self.agencies.iter().filter(|a| a.marac_ids.contains(&marac.id)).map(|a| a.id).collect();
        let dates = meeting_rules::schedule(marac.cadence, since + Duration::days(21), self.today + Duration::days(35));
        let meetings: Vec<NewMeeting> = dates
            .iter()
            .map(|d| NewMeeting {
                marac_id: marac.id,
                kind: MeetingKind::Regular,
                format: if self.rng.chance(30) { MeetingFormat::Virtual } else { MeetingFormat::InPerson },
                held_on: *d,
                starts_at: "10:00".into(),
                closing_on: None,
                location: "Civic Centre, Room 2".into(),
                chair_user_id: None,
                capacity: marac.rules.meeting_capacity,
                list_cutoff_on: Some(meeting_rules::list_cutoff(*d, marac.rules.list_cutoff_days)),
                invited_agency_ids: invited.clone(),
            })
            .collect();
        let ids = self
            .store
            .create_meetings(&meetings, at(since, 9), cli_event("meeting.schedule", "", serde_json::json!({})))
            .await?;
        let mut upcoming_published = false;
        for (id, meeting) in ids.iter().zip(&meetings) {
            if meeting.held_on < self.today {
                self.past(marac, *id, meeting, statement_id).await?;
            } else if !upcoming_published {
                upcoming_published = true;
                // The next meeting's list goes out as a coordinator's would: through the
                // workflow, with its notices to the invited agencies.
                self.list(marac, *id, meeting.held_on, meeting.capacity).await?;
                let planned = self.store.get_meeting(*id).await?;
                let event = cli_event("meeting.publish", &format!("meeting:{id}"), serde_json::json!({}));
                // A list with no cases waiting stays planned.
                let _unready = marac_app::workflows::meetings::publish(&self.state, &planned, event).await?;
            }
        }
        Ok(ids.len())
    }

    /// Lists the waiting cases accepted by the cut-off (for the next meeting, by today),
    /// children first.
    async fn list(&mut self, marac: &Marac, id: i64, held_on: Date, capacity: u32) -> anyhow::Result<Vec<(i64, i64)>> {
        let cutoff = if held_on >= self.today {
            self.today
        } else {
            meeting_rules::list_cutoff(held_on, marac.rules.list_cutoff_days)
        };
        let waiting: Vec<_> = self
            .store
            .waiting_cases(marac.id)
            .await?
            .into_iter()
            .filter(|w| w.accepted_at.0.date() <= cutoff)
            .collect();
        let candidates: Vec<ListCandidate> = waiting.iter().map(WaitingCase::as_candidate).collect();
        let chosen = meeting_rules::propose(&candidates, usize::try_from(capacity).unwrap_or(16));
        let list: Vec<(i64, i64)> = chosen
            .iter()
            .filter_map(|c| waiting.iter().find(|w| w.case_id == *c).map(|w| (w.case_id, w.referral_id)))
            .collect();
        if list.is_empty() {
            return Ok(list);
        }
        let event = || cli_event("meeting.list", &format!("meeting:{id}"), serde_json::json!({ "demo": true }));
        self.store.set_meeting_list(id, &list, at(cutoff, 12), event()).await?;
        Ok(list)
    }

    async fn past(&mut self, marac: &Marac, id: i64, meeting: &NewMeeting, statement_id: i64) -> anyhow::Result<()> {
        let list = self.list(marac, id, meeting.held_on, meeting.capacity).await?;
        if list.is_empty() {
            return Ok(());
        }
        // Published on the day the list closed, long ago: no one is told now.
        let cutoff = meeting_rules::list_cutoff(meeting.held_on, marac.rules.list_cutoff_days);
        let publication = Publication { invited_agency_ids: meeting.invited_agency_ids.clone() };
        let event = cli_event("meeting.publish", &format!("meeting:{id}"), serde_json::json!({ "demo": true }));
        self.store.publish_meeting(id, &publication, at(cutoff, 16), event).await?;
        let day = meeting.held_on;
        let event = |what: &str| cli_event(what, &format!("meeting:{id}"), serde_json::json!({ "demo": true }));
        let attendees: Vec<i64> = self.holders(marac.id).iter().map(|u| u.id).collect();
        for user in &attendees {
            self.store
                .confirm_confidentiality(
                    id,
                    Some(*user),
                    None,
                    statement_id,
                    at(day, 9),
                    event("confidentiality.confirm"),
                )
                .await?;
        }
        let observer = self.rng.chance(25).then_some("Student social worker");
        if let Some(name) = observer {
            self.store
                .confirm_confidentiality(
                    id,
                    None,
                    Some(name),
                    statement_id,
                    at(day, 9),
                    event("confidentiality.confirm"),
                )
                .await?;
        }
        let mut entries: Vec<AttendanceEntry> = meeting
            .invited_agency_ids
            .iter()
            .map(|a| {
                let apologies = self.rng.chance(15);
                AttendanceEntry {
                    agency_id: Some(*a),
                    person_name: self.rng.pick(REPRESENTATIVES).to_string(),
                    kind: if apologies { AttendanceKind::Apologies } else { AttendanceKind::Present },
                    information_sent: apologies && self.rng.chance(70),
                }
            })
            .collect();
        if let Some(name) = observer {
            entries.push(AttendanceEntry {
                agency_id: None,
                person_name: name.into(),
                kind: AttendanceKind::Observer,
                information_sent: false,
            });
        }
        let chair = attendees.first().copied().unwrap_or(0);
        self.store.set_attendance(id, &entries, chair, at(day, 10), event("meeting.attendance")).await?;
        for (case_id, _) in &list {
            self.case(marac, id, day, *case_id, chair).await?;
        }
        self.store.close_meeting(id, at(day, 13), event("meeting.close")).await?;
        Ok(())
    }

    async fn case(&mut self, marac: &Marac, id: i64, day: Date, case_id: i64, chair: i64) -> anyhow::Result<()> {
        let deferred = self.rng.chance(4);
        let discussion = Discussion {
            information: "Police: two call-outs since the referral, the last for a breach of bail. Health: \
                attended the emergency department with an injury to her arm. Housing: on the transfer list."
                .into(),
            victim_voice: "Through the Idva: she wants to stay in the home and for the children to keep their school."
                .into(),
            child_voice: if self.rng.chance(40) {
                "The eldest told the school she is frightened when he comes to the house.".into()
            } else {
                String::new()
            },
            risks: "Escalating violence since separation; non-fatal strangulation; child contact used to reach her."
                .into(),
            notes: String::new(),
            deferred_reason: if deferred { "The police research was not ready.".into() } else { String::new() },
        };
        let record = DiscussionRecord {
            sealed: casework::seal(&self.state, Purpose::Discussion, &discussion)
                .map_err(|e| anyhow::anyhow!("{e}"))?,
            child_voice_recorded: !discussion.child_voice.is_empty(),
            saved_version: None,
        };
        let outcome = if deferred { CaseOutcome::Deferred } else { CaseOutcome::Heard };
        let event = |what: &str| cli_event(what, &format!("case:{case_id}"), serde_json::json!({ "demo": true }));
        self.store
            .save_discussion((id, case_id), &record, outcome, chair, at(day, 11), event("meeting.case.save"))
            .await?;
        if deferred {
            return Ok(());
        }
        let owners: Vec<Agency> = self.agencies.iter().filter(|a| a.marac_ids.contains(&marac.id)).cloned().collect();
        // About a third of heard cases get a police safety marker on the address for the
        // Marac's usual time; those from about a year ago come up as running out.
        if self.rng.chance(35)
            && let Some(police) = owners.iter().find(|a| a.category == AgencyCategory::Police)
        {
            let flag = NewFlag {
                case_id,
                meeting_id: Some(id),
                agency_id: police.id,
                kind: FlagKind::AddressSafetyMarker,
                note_sealed: casework::seal(&self.state, Purpose::Flag, &"Urgent response to any call to the address")
                    .map_err(|e| anyhow::anyhow!("{e}"))?,
                set_on: day,
                expires_on: flags::expiry(day, marac.rules.flag_months),
                set_by: chair,
                set_at: at(day, 11),
            };
            self.store.add_flag(&flag, event("flag.create")).await?;
        }
        let count = 2 + self.rng.below(2);
        let mut used = Vec::new();
        for n in 0..count {
            let recent = self.today - day < Duration::days(14);
            let rep_agency = self
                .holders(marac.id)
                .iter()
                .find(|u| u.has_role(marac_domain::Role::AgencyRep))
                .and_then(|u| u.agency_id);
            let agency = match n {
                0 => owners.iter().find(|a| a.category == AgencyCategory::Idva).cloned(),
                // At the latest meeting the demo representative's agency takes an action, so
                // signing in as them shows a reminder.
                1 if recent && rep_agency.is_some() => owners.iter().find(|a| Some(a.id) == rep_agency).cloned(),
                _ => Some(self.rng.pick(&owners).clone()),
            };
            let Some(agency) = agency.filter(|a| !used.contains(&a.id)) else { continue };
            used.push(agency.id);
            let (subject, approach, what) = if n == 0 {
                (ActionSubject::Victim, None, meeting_rules::TELL_VICTIM_OUTCOME)
            } else {
                typical_action(agency.category)
            };
            let holders: Vec<i64> = self.holders(marac.id).iter().map(|u| u.id).collect();
            let owner = self
                .users
                .iter()
                .find(|u| u.agency_id == Some(agency.id) && holders.contains(&u.id))
                .map_or_else(|| self.rng.pick(REPRESENTATIVES).to_string(), |u| u.name.clone());
            let child = if subject == ActionSubject::Child { "The eldest child" } else { "" };
            let text = ActionText { description: what.into(), child: child.into() };
            let due_on = match n {
                0 => day + Duration::days(meeting_rules::TELL_VICTIM_WITHIN_DAYS),
                // The latest meeting's second action falls due in two days, so reminders are due.
                1 if recent => self.today + Duration::days(2),
                _ => day + Duration::days(7 * (1 + i64::try_from(self.rng.below(4)).unwrap_or(0))),
            };
            let action = NewAction {
                case_id,
                meeting_id: id,
                agency_id: agency.id,
                owner_name: owner,
                subject,
                approach,
                description_sealed: casework::seal(&self.state, Purpose::Action, &text)
                    .map_err(|e| anyhow::anyhow!("{e}"))?,
                due_on,
                kind: action_kind(agency.category, &mut self.rng),
            };
            let action_id = self.store.add_action(&action, chair, at(day, 11), event("action.create")).await?;
            self.progress(action_id, due_on).await?;
        }
        Ok(())
    }

    /// Reports progress as agencies would have by now: most actions due long ago are done,
    /// some not done or carried forward; recent ones partly open and overdue; future ones open.
    async fn progress(&mut self, action_id: i64, due_on: Date) -> anyhow::Result<()> {
        let days_past = (self.today - due_on).whole_days();
        let roll = self.rng.below(100);
        let (status, reason) = if days_past < 0 {
            return Ok(());
        } else if days_past > 28 {
            match roll {
                0..80 => (ActionStatus::Done, None),
                80..87 => (ActionStatus::NotDoneCircumstances, Some(DelayReason::CircumstancesChanged)),
                87..92 => (ActionStatus::NotDoneByAgency, Some(DelayReason::AgencyCapacity)),
                92..96 => (ActionStatus::CarriedForward, Some(DelayReason::AwaitingAnotherAgency)),
                _ => return Ok(()),
            }
        } else if roll < 60 {
            (ActionStatus::Done, None)
        } else {
            return Ok(());
        };
        let reported = due_on - Duration::days(i64::try_from(self.rng.below(3)).unwrap_or(0));
        let note = casework::seal(&self.state, Purpose::Action, &"Reported by the agency.")
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let event = ActionEvent {
            status,
            reason,
            note_sealed: Some(note),
            by_user_id: None,
            at: at(reported.min(self.today), 15),
        };
        self.store
            .report_action(action_id, &event, cli_event("action.report", "", serde_json::json!({ "demo": true })))
            .await?;
        Ok(())
    }
}
