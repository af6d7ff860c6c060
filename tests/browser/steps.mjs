// Steps the browser journeys share: signing in by role, filling forms, a whole referral
// through the pages, and putting a case on a newly published meeting list.
import assert from 'node:assert/strict'
import { check, signIn } from './harness.mjs'

/** The steps, bound to the running test environment (`env()` gives it once started). */
export function steps (env) {
  const now = new Date()
  const today = `${now.getDate()}/${now.getMonth() + 1}/${now.getFullYear()}`
  const user = (role) => env().demo.users.find(u => u.role === role)

  async function as (role) {
    const page = await (await env().browser.newContext()).newPage()
    const u = user(role)
    await signIn(page, env().base, u.email, env().demo.password, u.key)
    return page
  }

  /** Fills named fields: radios by value, selects by value, everything else typed. */
  async function fill (page, fields) {
    for (const [name, value] of Object.entries(fields)) {
      const el = page.locator(`[name="${name}"]`).first()
      const type = await el.evaluate(e => e.tagName === 'SELECT' ? 'select' : e.type)
      if (type === 'radio') await page.check(`[name="${name}"][value="${value}"]`)
      else if (type === 'select') await page.selectOption(`[name="${name}"]`, value)
      else await el.fill(value)
    }
  }

  async function section (page, id, slug, fields, name) {
    await page.goto(`${env().base}/referrals/${id}/${slug}`)
    await fill(page, fields)
    if (name) await check(page, name)
    await page.click('.govuk-button:has-text("Save and continue")')
  }

  const victim = (given, family, dob) => ({
    'victim.given_name': given, 'victim.family_name': family, 'victim.date_of_birth': dob, 'victim.gender': 'female',
    'victim.ethnicity': 'white_british', 'victim.disability': 'no', 'victim.lgbt': 'no', 'victim.pregnant': 'no', 'victim.interpreter': 'no', 'victim.postcode': 'NS1 4AB'
  })

  async function startReferral (page) {
    await page.goto(`${env().base}/referrals`)
    await page.click('button:has-text("Start a new referral")')
    return Number(new URL(page.url()).pathname.split('/')[2])
  }

  /** A whole referral through the pages; `yes` of the Dash answered yes; `transferredFrom`
   * names the Marac a moving case comes from. Returns the referral's id. */
  async function refer (page, { given, family, dob, perp = ['Sam', family, '2/2/1985'], yes, judgement, shots, transferredFrom }) {
    const id = await startReferral(page)
    if (shots) await check(page, 'referral-task-list')
    const details = { 'referral.incident_date': today }
    if (transferredFrom) details['referral.transferred_from'] = transferredFrom
    await section(page, id, 'referral', details, shots && 'referral-details')
    await section(page, id, 'victim', victim(given, family, dob), shots && 'referral-victim')
    await section(page, id, 'people-causing-harm', { 'perpetrators.0.given_name': perp[0], 'perpetrators.0.family_name': perp[1], 'perpetrators.0.date_of_birth': perp[2], 'perpetrators.0.gender': 'male', 'perpetrators.0.relationship': 'ex_partner' }, shots && 'referral-perpetrators')
    await section(page, id, 'children', { 'children.any': 'no' }, shots && 'referral-children')
    await page.goto(`${env().base}/referrals/${id}/risk-checklist`)
    await page.selectOption('[name="checklist.version"]', 'safelives-dash@2026.1')
    await page.click('.govuk-button:has-text("Save and continue")')
    await page.goto(`${env().base}/referrals/${id}/risk-checklist`)
    const answers = page.locator('input[type="radio"][name^="checklist.answer."][value="yes"]')
    const n = await answers.count()
    assert.equal(n, 24)
    for (let i = 0; i < n; i++) {
      const name = await answers.nth(i).getAttribute('name')
      await page.check(`[name="${name}"][value="${i < yes ? 'yes' : 'no'}"]`)
    }
    assert.equal(await page.textContent('[data-score]'), String(yes), 'the score follows the answers')
    if (shots) await check(page, 'referral-checklist')
    await page.click('.govuk-button:has-text("Save and continue")')
    await page.goto(`${env().base}/referrals/${id}/reason`)
    await fill(page, judgement ? { 'reason.professional_judgement': 'yes', 'reason.professional_judgement_reason': judgement } : { 'reason.professional_judgement': 'no' })
    if (shots) await check(page, 'referral-reason')
    await page.click('.govuk-button:has-text("Save and continue")')
    await section(page, id, 'consent-and-safety', { 'consent.given': 'yes', 'consent.victim_knows': 'yes', 'consent.previous_maracs': 'no' }, shots && 'referral-consent')
    await section(page, id, 'summary', { 'summary.text': 'Strangled last week after she ended the relationship.' }, shots && 'referral-summary')
    await page.goto(`${env().base}/referrals/${id}/check`)
    if (shots) await check(page, 'referral-check-answers')
    await page.click('button:has-text("Send referral")')
    await page.waitForURL(/\/submitted$/)
    return id
  }

  /** Schedules a one-off virtual meeting of the Northshire North Marac a week ahead, puts the
   * cases with these references on its list, sets a statement if there is none, and publishes.
   * Returns the meeting's path. With `shots`, checks each page with axe. */
  async function listOnNewMeeting (page, references, shots = false) {
    await page.goto(`${env().base}/meetings`)
    if (shots) await check(page, 'meetings')
    const marac = await page.locator('#marac option', { hasText: 'Northshire North' }).getAttribute('value')
    await page.selectOption('#marac', marac)
    await page.check('[name="kind"][value="one_off"]')
    await page.check('[name="format"][value="virtual"]')
    const d = new Date(Date.now() + 7 * 86_400_000)
    await page.fill('#first', `${d.getDate()}/${d.getMonth() + 1}/${d.getFullYear()}`)
    await page.fill('#starts_at', '10:00')
    await page.click('button:has-text("Schedule")')
    await page.waitForURL(/\/meetings\/\d+$/)
    for (const reference of references) {
      await page.locator('#waiting ~ .app-table-scroll tr', { hasText: reference }).locator('button:has-text("Add to list")').click()
      await page.waitForURL(/#list$/)
    }
    if (shots) await check(page, 'meeting-list-builder')
    if (!(await page.inputValue('#statement'))) {
      await page.fill('#statement', 'What is shared at this meeting is confidential. It is used only to keep the victim, the children and others safe, and is not passed on without the agreement of the agency that shared it.')
      await page.click('button:has-text("Save statement")')
    }
    await page.click('button:has-text("Publish the list")')
    assert.match(await page.textContent('h1'), /Publish the list\?/)
    if (shots) await check(page, 'meeting-publish-confirm')
    await page.click('button:has-text("Yes, publish the list")')
    assert.match(await page.textContent('main'), /List published/)
    return new URL(page.url()).pathname
  }

  return { today, user, as, fill, section, victim, startReferral, refer, listOnNewMeeting }
}
