// Browser journeys of referral: the form page by page with axe on each, the live score,
// professional judgement, under-16 guidance, repeats, drafts that survive signing out,
// triage, and research notes private to their agency.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { start, check, signIn, signOut } from './harness.mjs'
import { steps } from './steps.mjs'

let env
before(async () => { env = await start() })
after(async () => { await env?.stop() })

const { as, fill, section, victim, startReferral, refer, listOnNewMeeting } = steps(() => env)

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
  // The reason is asked for only once "yes" calls for it, and hidden again on "no".
  const why = page.locator('[data-follows="reason.professional_judgement"]')
  assert.equal(await why.isVisible(), false, 'no follow-up before the question is answered')
  await fill(page, { 'reason.professional_judgement': 'no' })
  assert.equal(await why.isVisible(), false)
  await fill(page, { 'reason.professional_judgement': 'yes' })
  assert.equal(await why.isVisible(), true, 'yes calls for the reason')
  await check(page, 'referral-reason-follow-up')
  await page.click('.govuk-button:has-text("Save and continue")')
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

test('a referral naming a case another Marac holds waits, and the case moves when both coordinators agree', { timeout: 240_000 }, async () => {
  const referrer = await as('Referrer')
  await refer(referrer, { given: 'Robin', family: 'Hale', dob: '22/5/1990', perp: ['Dale', 'Hale', '3/3/1986'], yes: 15 })
  const reference = (await referrer.textContent('.govuk-panel')).match(/NSN-\d{4}-\d{5}/)[0]
  const coordinator = await as('Coordinator')
  await coordinator.goto(`${env.base}/triage`)
  const row = coordinator.locator('tr', { hasText: reference })
  assert.match(await row.textContent(), /Known to Eastport Marac/)
  await row.locator('a', { hasText: reference }).click()
  assert.match(await coordinator.textContent('#held-elsewhere'), /Known to Eastport Marac/)
  await check(coordinator, 'referral-held-elsewhere')
  // Accepting must wait for the case to move.
  await coordinator.check('#decision')
  await coordinator.click('button:has-text("Save decision")')
  assert.match(await coordinator.textContent('.govuk-error-summary'), /Another Marac holds this case/)
  await coordinator.click('a:has-text("See the transfer question")')
  await check(coordinator, 'transfer-question')
  await coordinator.click('button:has-text("Ask Eastport Marac to move the case here")')
  // This coordinator also coordinates Eastport, so answers for it.
  await coordinator.check('#answer')
  await coordinator.click('button:has-text("Save answer")')
  assert.match(await coordinator.textContent('main'), /Moved from Eastport Marac to Northshire North Marac/)
  await check(coordinator, 'transfer-moved')
  await coordinator.goto(`${env.base}/triage`)
  await coordinator.locator('tr', { hasText: reference }).locator('a', { hasText: reference }).click()
  await coordinator.check('#decision')
  await coordinator.click('button:has-text("Save decision")')
  assert.match(coordinator.url(), /\/triage(\?|$)/)
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
  const reference = (await referrer.textContent('.govuk-panel')).match(/NSN-\d{4}-\d{5}/)[0]
  const coordinator = await as('Coordinator')
  await coordinator.goto(`${env.base}/triage`)
  await check(coordinator, 'triage-queue')
  const row = coordinator.locator('tr', { hasText: 'Tara Quinn' })
  await coordinator.goto(`${env.base}/triage`)
  await coordinator.locator('tr', { hasText: 'Tara Quinn' }).locator('a').click()
  await check(coordinator, 'triage-referral')
  await coordinator.check('[name="decision"][value="accept"]')
  await coordinator.click('button:has-text("Save decision")')
  await coordinator.waitForURL(/\/triage(\?|$)/)
  assert.equal(await row.count(), 0, 'gone from the queue')
  // Publishing a meeting list with the case opens it to the agencies invited.
  await listOnNewMeeting(coordinator, [reference])

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
