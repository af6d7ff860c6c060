// A whole meeting in the browser, with axe on every page: the coordinator schedules it and
// publishes a list; a representative confirms confidentiality and only then sees the cases;
// the chair records attendance, the information shared and actions for two cases; the
// representative marks an action done; the minutes show it all.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { start, check, shots } from './harness.mjs'
import { steps } from './steps.mjs'

let env
before(async () => { env = await start() })
after(async () => { await env?.stop() })

const { as, refer, listOnNewMeeting } = steps(() => env)

async function accept (coordinator, victim) {
  await coordinator.goto(`${env.base}/triage`)
  await coordinator.locator('tr', { hasText: victim }).locator('a').click()
  await coordinator.check('[name="decision"][value="accept"]')
  await coordinator.click('button:has-text("Save decision")')
  await coordinator.waitForURL(/\/triage(\?|$)/)
}

test('a whole meeting: list, confidentiality, attendance, two cases with actions, an action done, minutes', { timeout: 300_000 }, async () => {
  const referrer = await as('Referrer')
  const references = []
  for (const [given, family, dob] of [['Hana', 'Sole', '9/9/1991'], ['Iris', 'Penn', '3/3/1983']]) {
    await refer(referrer, { given, family, dob, yes: 15 })
    references.push((await referrer.textContent('.govuk-panel')).match(/NSN-\d{4}-\d{5}/)[0])
  }
  const coordinator = await as('Coordinator')
  await accept(coordinator, 'Hana Sole')
  await accept(coordinator, 'Iris Penn')
  const meeting = await listOnNewMeeting(coordinator, references, true)
  await check(coordinator, 'meeting-published')

  // The representative is told in the inbox (no case detail) and the notice opens the meeting,
  // but no case until confirming.
  const rep = await as('Agency representative')
  await rep.goto(`${env.base}/inbox`)
  await check(rep, 'inbox')
  assert.doesNotMatch(await rep.textContent('main'), /Hana|Sole|Iris|Penn/)
  await rep.locator('a:has-text("Open")').first().click()
  assert.equal(new URL(rep.url()).pathname, meeting, 'the newest notice is this list')
  await rep.goto(env.base + meeting)
  await check(rep, 'meeting-confirm')
  assert.doesNotMatch(await rep.textContent('main'), /Hana Sole/)
  const refused = await rep.goto(`${env.base}${meeting}/minutes`)
  assert.equal(refused.status(), 403)
  await rep.goto(env.base + meeting)
  await rep.click('button:has-text("Confirm and see the cases")')
  assert.match(await rep.textContent('.govuk-error-summary'), /Confirm that you will keep/)
  await rep.check('#agree-box')
  await rep.click('button:has-text("Confirm and see the cases")')
  assert.match(await rep.textContent('main'), /Hana Sole/)
  await check(rep, 'meeting-list')

  // The chair confirms, records attendance, then runs both cases.
  const chair = await as('Chair')
  await chair.goto(env.base + meeting)
  await chair.check('#agree-box')
  await chair.click('button:has-text("Confirm and see the cases")')
  await chair.click('a:has-text("Attendance")')
  await check(chair, 'meeting-attendance')
  const acute = chair.locator('fieldset', { hasText: 'Northshire Hospitals Trust' })
  await acute.locator('input[value="present"]').check()
  await acute.locator('input[type="text"]').fill('Priya Shah')
  const police = chair.locator('fieldset', { hasText: 'Northshire Police' })
  await police.locator('input[value="apologies"]').check()
  await police.locator('input[type="text"]').fill('DS Kerr')
  await police.locator('input[type="checkbox"]').check()
  await chair.fill('#observers', 'Student social worker')
  await chair.click('button:has-text("Save attendance")')

  await chair.click(`a:has-text("${references[0]}")`)
  await check(chair, 'meeting-case')
  await chair.fill('#information', 'Hospital: two A&E attendances in October with facial injuries.')
  await chair.fill('#victim_voice', 'She wants to stay in the home with the locks changed.')
  await chair.check('[name="outcome"][value="heard"]')
  await chair.click('button:has-text("Save")')
  const due = new Date(Date.now() + 14 * 86_400_000)
  const dueText = `${due.getDate()}/${due.getMonth() + 1}/${due.getFullYear()}`
  async function addAction (agency, owner, subject, description, approach) {
    await chair.selectOption('#agency', { label: agency })
    await chair.fill('#owner', owner)
    await chair.check(`[name="subject"][value="${subject}"]`)
    if (approach) await chair.selectOption('#approach', approach)
    await chair.fill('#description', description)
    await chair.fill('#due', dueText)
    await chair.click('button:has-text("Add action")')
  }
  await addAction('Northshire Hospitals Trust', 'Priya Shah', 'victim', 'Flag the records so A&E staff ask about safety at every attendance.')
  assert.match(await chair.textContent('#actions ~ .app-table-scroll table'), /Flag the records/)
  await check(chair, 'meeting-case-with-action')
  await chair.click('button:has-text("Save and go to the next case")')
  await chair.waitForURL(new RegExp(`${meeting}/cases/\\d+`))
  await chair.fill('#information', 'Police: bail conditions end on Friday.')
  await chair.check('[name="outcome"][value="heard"]')
  await chair.click('button:has-text("Save")')
  await addAction('Northshire Police', 'DS Kerr', 'perpetrator', 'Apply to extend the bail conditions and tell the Idva the outcome.', 'disruption')

  // The representative marks the hospital's action done.
  await rep.goto(`${env.base}/actions`)
  await check(rep, 'actions')
  const row = rep.locator('tr', { hasText: 'Flag the records so A&E staff' })
  await row.locator('a').click()
  await check(rep, 'action')
  // A report without a status: the message is tied to its field and the note typed is kept.
  await rep.fill('#note', 'Alert added to the patient record on 3 December.')
  await rep.click('button:has-text("Save status")')
  assert.match(await rep.textContent('#status-error'), /Select the action's status/)
  assert.equal(await rep.getAttribute('#status', 'aria-invalid'), 'true')
  assert.equal(await rep.inputValue('#note'), 'Alert added to the patient record on 3 December.')
  await check(rep, 'action-error')
  await rep.selectOption('#status', 'done')
  await rep.click('button:has-text("Save status")')
  await rep.waitForURL(/\/actions\?done=updated$/)
  assert.match(await rep.textContent('.govuk-notification-banner'), /Action updated/)
  // A done action has left the outstanding ones the tracker opens on; it is among those ended.
  assert.equal(await rep.locator('tr', { hasText: 'Flag the records so A&E staff' }).count(), 0)
  await rep.selectOption('#status', 'ended')
  await rep.click('button:has-text("Show actions")')
  assert.match(await rep.locator('tr', { hasText: 'Flag the records so A&E staff' }).textContent(), /Done/)

  // The minutes show it all.
  await chair.goto(`${env.base}${meeting}/minutes`)
  await check(chair, 'meeting-minutes')
  const minutes = await chair.textContent('main')
  for (const expected of ['OFFICIAL-SENSITIVE', 'Priya Shah', 'DS Kerr', '(information sent)', 'Student social worker: confirmed', 'facial injuries', 'Flag the records', 'Done', 'extend the bail conditions']) {
    assert.ok(minutes.includes(expected), `${expected} missing from the minutes`)
  }

  // The agenda and the action tracking form print marked OFFICIAL-SENSITIVE, without the
  // service's menus; the minutes download as a Word document.
  await chair.goto(`${env.base}${meeting}`)
  await chair.click('a:has-text("Agenda and list")')
  await check(chair, 'meeting-agenda')
  assert.match(await chair.textContent('main'), /OFFICIAL-SENSITIVE[\s\S]*The list[\s\S]*OFFICIAL-SENSITIVE/)
  await chair.goto(`${env.base}${meeting}/tracker`)
  await check(chair, 'meeting-tracker')
  assert.match(await chair.textContent('main'), /Flag the records/)
  await chair.emulateMedia({ media: 'print' })
  assert.equal(await chair.locator('.govuk-service-navigation').evaluate(e => getComputedStyle(e).display), 'none', 'no menus on paper')
  assert.notEqual(await chair.locator('.app-marking').first().evaluate(e => getComputedStyle(e).display), 'none', 'the marking is printed')
  await chair.screenshot({ path: join(shots, 'meeting-tracker-print.png'), fullPage: true })
  await chair.emulateMedia({ media: 'screen' })
  await chair.goto(`${env.base}${meeting}`)
  const [download] = await Promise.all([chair.waitForEvent('download'), chair.click('a:has-text("Minutes (Word)")')])
  assert.match(download.suggestedFilename(), /^marac-minutes-\d{4}-\d{2}-\d{2}\.docx$/)
})
