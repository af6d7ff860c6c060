// Browser journeys of referral: the form page by page with axe on each, the live score,
// professional judgement, under-16 guidance, repeats, drafts that survive signing out,
// triage, and research notes private to their agency.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { start, check, signIn, signOut } from './harness.mjs'

let env
before(async () => { env = await start() })
after(async () => { await env?.stop() })

const now = new Date()
const today = `${now.getDate()}/${now.getMonth() + 1}/${now.getFullYear()}`
const user = (role) => env.demo.users.find(u => u.role === role)

async function as (role) {
  const page = await (await env.browser.newContext()).newPage()
  const u = user(role)
  await signIn(page, env.base, u.email, env.demo.password, u.key)
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
  await page.goto(`${env.base}/referrals/${id}/${slug}`)
  await fill(page, fields)
  if (name) await check(page, name)
  await page.click('button:has-text("Save and continue")')
}

const victim = (given, family, dob) => ({
  'victim.given_name': given, 'victim.family_name': family, 'victim.date_of_birth': dob, 'victim.gender': 'female',
  'victim.ethnicity': 'white_british', 'victim.disability': 'no', 'victim.lgbt': 'no', 'victim.pregnant': 'no', 'victim.interpreter': 'no', 'victim.postcode': 'NS1 4AB'
})

async function startReferral (page) {
  await page.goto(`${env.base}/referrals`)
  await page.click('button:has-text("Start a new referral")')
  return Number(new URL(page.url()).pathname.split('/')[2])
}

/** A whole referral through the pages; `yes` of the Dash answered yes. Returns the page on the confirmation. */
async function refer (page, { given, family, dob, perp = ['Sam', family, '2/2/1985'], yes, judgement, shots }) {
  const id = await startReferral(page)
  if (shots) await check(page, 'referral-task-list')
  await section(page, id, 'referral', { 'referral.incident_date': today }, shots && 'referral-details')
  await section(page, id, 'victim', victim(given, family, dob), shots && 'referral-victim')
  await section(page, id, 'people-causing-harm', { 'perpetrators.0.given_name': perp[0], 'perpetrators.0.family_name': perp[1], 'perpetrators.0.date_of_birth': perp[2], 'perpetrators.0.gender': 'male', 'perpetrators.0.relationship': 'ex_partner' }, shots && 'referral-perpetrators')
  await section(page, id, 'children', { 'children.any': 'no' }, shots && 'referral-children')
  await page.goto(`${env.base}/referrals/${id}/risk-checklist`)
  await page.selectOption('[name="checklist.version"]', 'safelives-dash@2026.1')
  await page.click('button:has-text("Save and continue")')
  await page.goto(`${env.base}/referrals/${id}/risk-checklist`)
  const answers = page.locator('input[type="radio"][name^="checklist.answer."][value="yes"]')
  const n = await answers.count()
  assert.equal(n, 24)
  for (let i = 0; i < n; i++) {
    const name = await answers.nth(i).getAttribute('name')
    await page.check(`[name="${name}"][value="${i < yes ? 'yes' : 'no'}"]`)
  }
  assert.equal(await page.textContent('[data-score]'), String(yes), 'the score follows the answers')
  if (shots) await check(page, 'referral-checklist')
  await page.click('button:has-text("Save and continue")')
  await page.goto(`${env.base}/referrals/${id}/reason`)
  await fill(page, judgement ? { 'reason.professional_judgement': 'yes', 'reason.professional_judgement_reason': judgement } : { 'reason.professional_judgement': 'no' })
  if (shots) await check(page, 'referral-reason')
  await page.click('button:has-text("Save and continue")')
  await section(page, id, 'consent-and-safety', { 'consent.given': 'yes', 'consent.victim_knows': 'yes', 'consent.previous_maracs': 'no' }, shots && 'referral-consent')
  await section(page, id, 'summary', { 'summary.text': 'Strangled last week after she ended the relationship.' }, shots && 'referral-summary')
  await page.goto(`${env.base}/referrals/${id}/check`)
  if (shots) await check(page, 'referral-check-answers')
  await page.click('button:has-text("Send referral")')
  await page.waitForURL(/\/submitted$/)
  return id
}

test('a referrer completes a 14-yes Dash and gets visible high risk', { timeout: 240_000 }, async () => {
  const page = await as('Referrer')
  await refer(page, { given: 'Nina', family: 'Price', dob: '3/4/1990', yes: 14, shots: true })
  assert.match(await page.textContent('.govuk-panel'), /NSN-\d{4}-\d{5}/)
  assert.match(await page.textContent('main'), /Visible high risk/)
  await check(page, 'referral-confirmation')
  await page.goto(`${env.base}/referrals`)
  assert.match(await page.textContent('main'), /Nina Price/)
  await check(page, 'referral-list')
})

test('professional judgement needs a reason; with one a 9-yes referral goes ahead', { timeout: 240_000 }, async () => {
  const page = await as('Referrer')
  const id = await startReferral(page)
  await page.goto(`${env.base}/referrals/${id}/reason`)
  await fill(page, { 'reason.professional_judgement': 'yes' })
  await page.click('button:has-text("Save and continue")')
  assert.match(await page.textContent('#reason-professional_judgement_reason-error'), /Explain your professional judgement/)
  assert.match(await page.textContent('.govuk-error-summary'), /Explain your professional judgement/)
  await check(page, 'referral-reason-error')
  await refer(page, { given: 'Ola', family: 'Nowak', dob: '1/1/1985', yes: 9, judgement: 'Threats to kill since she left him, and he has found her new address.' })
  assert.match(await page.textContent('main'), /Professional judgement/)
})

test('a victim under 16 gets the children\'s safeguarding guidance', { timeout: 120_000 }, async () => {
  const page = await as('Referrer')
  const id = await startReferral(page)
  await section(page, id, 'victim', { ...victim('Mia', 'Hart', ''), 'victim.date_of_birth': '', 'victim.age': '15' })
  assert.match(await page.textContent('#victim-age-error'), /children's safeguarding/)
  await check(page, 'referral-under-16')
})

test('a repeat 11 months after the last referral is flagged; 13 months after is not', { timeout: 240_000 }, async () => {
  const page = await as('Referrer')
  await refer(page, { given: 'Jordan', family: 'Ashby', dob: '14/2/1992', perp: ['Lee', 'Ashby', '8/10/1988'], yes: 3 })
  assert.match(await page.textContent('main'), /Yes: this is a repeat referral/)
  await refer(page, { given: 'Casey', family: 'Morrow', dob: '2/7/1987', perp: ['Ray', 'Morrow', '19/1/1985'], yes: 15 })
  assert.doesNotMatch(await page.textContent('main'), /this is a repeat referral/)
})

test('a half-filled draft survives signing out and resumes', { timeout: 120_000 }, async () => {
  let page = await as('Referrer')
  const id = await startReferral(page)
  await section(page, id, 'victim', { 'victim.given_name': 'Rosa', 'victim.family_name': 'Kemp' })
  await signOut(page)
  page = await as('Referrer')
  await page.goto(`${env.base}/referrals`)
  await page.click('a:has-text("Not submitted") >> nth=0')
  await page.goto(`${env.base}/referrals/${id}`)
  assert.match(await page.textContent('main'), /Rosa Kemp/)
  assert.match(await page.textContent('.govuk-task-list'), /In progress/)
  await page.goto(`${env.base}/referrals/${id}/victim`)
  assert.equal(await page.inputValue('[name="victim.family_name"]'), 'Kemp')
  await check(page, 'referral-resumed')
})

test('a coordinator triages, and an attending agency\'s private note is hidden from another agency', { timeout: 240_000 }, async () => {
  const referrer = await as('Referrer')
  await refer(referrer, { given: 'Tara', family: 'Quinn', dob: '5/5/1989', yes: 16 })
  const coordinator = await as('Coordinator')
  await coordinator.goto(`${env.base}/triage`)
  await check(coordinator, 'triage-queue')
  const row = coordinator.locator('tr', { hasText: 'Tara Quinn' })
  await coordinator.goto(`${env.base}/triage`)
  await coordinator.locator('tr', { hasText: 'Tara Quinn' }).locator('a').click()
  await check(coordinator, 'triage-referral')
  await coordinator.check('[name="decision"][value="accept"]')
  await coordinator.click('button:has-text("Save decision")')
  await coordinator.waitForURL(/\/triage$/)
  assert.equal(await row.count(), 0, 'gone from the queue')

  const rep = await as('Agency representative')
  await rep.goto(`${env.base}/research`)
  await check(rep, 'research-list')
  await rep.click('a:has-text("Tara Quinn")')
  await check(rep, 'research-case')
  await rep.check('[name="kind"][value="fact"]')
  await rep.fill('#body', 'Attended A&E twice in October with facial injuries.')
  await rep.click('button:has-text("Add note")')
  assert.match(await rep.textContent('main'), /Private to your agency/)
  const casePath = new URL(rep.url()).pathname

  const idva = await as('Idva')
  await idva.goto(env.base + casePath)
  assert.match(await idva.textContent('h1'), /Tara Quinn/)
  assert.doesNotMatch(await idva.textContent('main'), /facial injuries/)
  await rep.click('button:has-text("Share this note")')
  await idva.reload()
  assert.match(await idva.textContent('main'), /facial injuries/)
  await check(idva, 'research-case-shared')

  await idva.goto(`${env.base}/directory`)
  await check(idva, 'directory')
})
