// Around the meeting, in the browser with axe on every page: the coordinator changes a
// scheduled meeting's chair and capacity; a transferred-in case shows where it came from; the
// chair's notes save as they are typed and survive a reload; a flag is agreed and ended early.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { start, check, reflowProblems } from './harness.mjs'
import { steps } from './steps.mjs'

let env
before(async () => { env = await start() })
after(async () => { await env?.stop() })

const { as, refer, listOnNewMeeting } = steps(() => env)

test('change a meeting, see where a case came from, notes that save themselves, a flag with an expiry', { timeout: 300_000 }, async () => {
  const referrer = await as('Referrer')
  await refer(referrer, { given: 'Tove', family: 'Marsh', dob: '5/5/1987', yes: 16, transferredFrom: 'Leeds Marac' })
  const reference = (await referrer.textContent('.govuk-panel')).match(/NSN-\d{4}-\d{5}/)[0]

  const coordinator = await as('Coordinator')
  await coordinator.goto(`${env.base}/triage`)
  await coordinator.locator('tr', { hasText: 'Tove Marsh' }).locator('a').click()
  await coordinator.check('[name="decision"][value="accept"]')
  await coordinator.click('button:has-text("Save decision")')
  await coordinator.waitForURL(/\/triage(\?|$)/)
  const meeting = await listOnNewMeeting(coordinator, [reference])
  assert.match(await coordinator.textContent('main'), /Transferred from Leeds Marac/)

  // Changing the meeting: a mistake is shown beside its field and nothing typed is lost.
  await coordinator.click('a:has-text("Change the meeting")')
  await check(coordinator, 'meeting-edit')
  await coordinator.fill('#capacity', 'twelve')
  await coordinator.fill('#location', 'Civic Centre, Room 3')
  await coordinator.click('button:has-text("Save changes")')
  assert.match(await coordinator.textContent('.govuk-error-summary'), /as a whole number/)
  assert.equal(await coordinator.inputValue('#location'), 'Civic Centre, Room 3')
  await check(coordinator, 'meeting-edit-error')
  await coordinator.fill('#capacity', '12')
  const chairName = await coordinator.locator('#chair option').nth(1).textContent()
  await coordinator.selectOption('#chair', { index: 1 })
  await coordinator.click('button:has-text("Save changes")')
  await coordinator.waitForURL(new RegExp(`${meeting}$`))
  const details = await coordinator.textContent('.govuk-summary-list')
  assert.match(details, /12 cases/)
  assert.ok(details.includes(chairName.trim()), 'the chair is shown')

  // The chair's notes save a moment after typing stops, with no button pressed.
  const chair = await as('Chair')
  await chair.goto(env.base + meeting)
  await chair.check('#agree-box')
  await chair.click('button:has-text("Confirm and see the cases")')
  await chair.click(`a:has-text("${reference}")`)
  assert.match(await chair.textContent('main'), /Transferred from\s*Leeds Marac/)
  await chair.fill('#information', 'Police: the Leeds Marac put a marker on her old address in March.')
  await chair.waitForFunction(() => /Notes saved at/.test(document.querySelector('[data-autosave-status]').textContent))
  await chair.reload()
  assert.equal(await chair.inputValue('#information'), 'Police: the Leeds Marac put a marker on her old address in March.')

  // The sequence that lost a chair's notes: notes saved, "Add action" with a field missing,
  // then typing in another box. Nothing saved is blanked, and nothing blank is saved over it.
  const saved = () => chair.waitForFunction(() => /Notes saved at/.test(document.querySelector('[data-autosave-status]').textContent))
  await chair.fill('#victim_voice', 'She wants to stay in the area near her mother.')
  await saved()
  await chair.fill('#owner', 'PC Shah')
  await chair.fill('#description', 'Fit a doorbell camera')
  await chair.click('button:has-text("Add action")')
  assert.match(await chair.textContent('.govuk-error-summary'), /agency|due/i)
  assert.equal(await chair.inputValue('#information'), 'Police: the Leeds Marac put a marker on her old address in March.')
  assert.equal(await chair.inputValue('#victim_voice'), 'She wants to stay in the area near her mother.')
  assert.equal(await chair.inputValue('#description'), 'Fit a doorbell camera')
  await check(chair, 'meeting-case-action-error')
  await chair.evaluate(() => { document.querySelector('[data-autosave-status]').textContent = '' })
  await chair.fill('#risks', 'Stalking since the separation')
  await saved()
  await chair.goto(chair.url().replace(/\/actions.*$/, ''))
  assert.equal(await chair.inputValue('#information'), 'Police: the Leeds Marac put a marker on her old address in March.')
  assert.equal(await chair.inputValue('#victim_voice'), 'She wants to stay in the area near her mother.')
  assert.equal(await chair.inputValue('#risks'), 'Stalking since the separation')

  // Two tabs on one case: the later save never overwrites the newer one; both texts are shown.
  const other = await chair.context().newPage()
  await other.goto(chair.url())
  await chair.fill('#notes', 'Typed in the first tab.')
  await saved()
  await other.fill('#notes', 'Typed in the second tab.')
  await other.waitForSelector('[data-newer]')
  assert.match(await other.textContent('[data-newer]'), /Typed in the first tab\./)
  assert.match(await other.textContent('[data-autosave-status]'), /someone else saved this case first/)
  await check(other, 'meeting-case-merge')
  await other.fill('#notes', 'Typed in the first tab. And in the second.')
  await other.waitForFunction(() => /Notes saved at/.test(document.querySelector('[data-autosave-status]').textContent))
  await other.close()
  await chair.reload()
  assert.equal(await chair.inputValue('#notes'), 'Typed in the first tab. And in the second.')

  // A flag agreed for the Marac's usual time, then ended early with a reason.
  const agency = await chair.locator('#flag_agency option', { hasText: 'Northshire Police' }).getAttribute('value')
  await chair.selectOption('#flag_agency', agency)
  await chair.selectOption('#flag_kind', 'address_safety_marker')
  await chair.fill('#flag_note', 'New address: urgent response to any call')
  await chair.click('button:has-text("Agree flag")')
  await chair.waitForURL(/#flags$/)
  const flags = chair.locator('#flags ~ .app-table-scroll table').first()
  assert.match(await flags.textContent(), /Safety marker on the address[\s\S]*Active/)
  await check(chair, 'meeting-case-flags')
  // At 320 pixels the page, its tables and the flag's form fit the screen.
  await chair.setViewportSize({ width: 320, height: 640 })
  assert.deepEqual(await reflowProblems(chair), [])
  await check(chair, 'meeting-case-320')
  await chair.setViewportSize({ width: 1280, height: 720 })
  await chair.locator('form[data-flag] button:has-text("End early")').click()
  assert.match(await chair.textContent('.govuk-error-summary'), /Give the reason/)
  await chair.locator('form[data-flag] input[type="text"]').fill('She has moved again; the marker moves with her')
  await chair.locator('form[data-flag] button:has-text("End early")').click()
  await chair.waitForURL(/#flags$/)
  assert.match(await flags.textContent(), /Ended early/)
})
