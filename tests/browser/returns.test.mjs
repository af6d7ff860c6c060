// The SafeLives return in the browser, with axe: the coordinator's exact figures with the
// meetings behind them, one meeting's return, and the analyst's suppressed view.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { start, check } from './harness.mjs'
import { steps } from './steps.mjs'

let env
before(async () => { env = await start() })
after(async () => { await env?.stop() })

const { as } = steps(() => env)

test('the SafeLives return: exact for the coordinator, suppressed for the analyst', { timeout: 120_000 }, async () => {
  const coordinator = await as('Coordinator')
  await coordinator.click('nav a:has-text("Returns")')
  await coordinator.waitForURL(/\/returns/)
  await check(coordinator, 'returns')
  const main = await coordinator.textContent('main')
  assert.match(main, /OFFICIAL-SENSITIVE/)
  assert.match(main, /Cases discussed/)
  assert.doesNotMatch(main, /Does not hold/, 'the checks hold on the demo data')
  const cases = Number(await coordinator.textContent('[data-key="cases"]'))
  assert.ok(cases > 0, 'the demo has cases heard last quarter')
  // The meetings add up to the quarter.
  const perMeeting = await coordinator.locator('caption:has-text("Meetings in the quarter") + thead + tbody tr td:nth-child(3)').allTextContents()
  assert.equal(perMeeting.reduce((a, b) => a + Number(b), 0), cases)
  await coordinator.locator('a:has-text("this meeting\'s return")').first().click()
  await check(coordinator, 'returns-meeting')
  assert.match(await coordinator.textContent('h1'), /Meeting of/)
  // A download carries the marking.
  const [download] = await Promise.all([coordinator.waitForEvent('download'), coordinator.click('a:has-text("CSV")')])
  const text = await (await download.createReadStream()).toArray()
  assert.match(Buffer.concat(text).toString(), /^classification,OFFICIAL-SENSITIVE/)

  // The dashboards, each measure with its chart and table, and a figure from outside the records.
  await coordinator.goto(`${env.base}/returns`)
  await coordinator.click('a:has-text("Marac health")')
  await check(coordinator, 'returns-health')
  assert.ok(await coordinator.locator('svg.app-chart').count() > 5, 'a chart per measure')
  assert.match(await coordinator.textContent('main'), /Attendance by agency/)
  await coordinator.click('a:has-text("Children\'s measures")')
  await check(coordinator, 'returns-children')
  await coordinator.fill('#police_notifications_to_csc', 'about forty')
  await coordinator.click('button:has-text("Save figures")')
  assert.match(await coordinator.textContent('.govuk-error-summary'), /as a whole number/)
  assert.equal(await coordinator.inputValue('#police_notifications_to_csc'), 'about forty')
  await check(coordinator, 'returns-children-error')
  await coordinator.fill('#police_notifications_to_csc', '41')
  await coordinator.click('button:has-text("Save figures")')
  assert.equal(await coordinator.textContent('[data-key="police_notifications_to_csc"]'), '41')

  await coordinator.click('a:has-text("By postcode")')
  await check(coordinator, 'returns-postcodes')
  assert.match(await coordinator.textContent('main'), /All referrals/)

  // Importing history: a file with a bad row is refused with the line named; a good one imports.
  await coordinator.goto(`${env.base}/returns`)
  await coordinator.click('a:has-text("Import the Marac\'s history")')
  await check(coordinator, 'returns-import')
  const header = 'source_reference,marac,referral_date,referring_agency,victim_given_name,victim_family_name,perpetrator_given_name,perpetrator_family_name,heard_at'
  await coordinator.setInputFiles('#file', { name: 'history.csv', mimeType: 'text/csv', buffer: Buffer.from(`${header}\nB1,NSN,3/7/2024,POL,Ada,Vine,Ray,Vine,24/7/2024\nB2,NSN,31/2/2024,POL,Bo,Reed,Cy,Reed,\n`) })
  await coordinator.click('button:has-text("Check and import")')
  assert.match(await coordinator.textContent('#problems'), /3\s*referral_date/)
  await check(coordinator, 'returns-import-errors')
  await coordinator.setInputFiles('#file', { name: 'history.csv', mimeType: 'text/csv', buffer: Buffer.from(`${header}\nB1,NSN,3/7/2024,POL,Ada,Vine,Ray,Vine,24/7/2024\n`) })
  await coordinator.click('button:has-text("Check and import")')
  assert.match(await coordinator.textContent('.govuk-panel'), /1 referrals added/)

  const analyst = await as('Analyst or board member')
  await analyst.goto(`${env.base}/returns`)
  await check(analyst, 'returns-analyst')
  assert.match(await analyst.textContent('main'), /fewer than 5|suppressed|not held/)
  assert.equal(await analyst.locator('caption:has-text("Meetings in the quarter")').count(), 0)
  await analyst.click('a:has-text("Children\'s measures")')
  await check(analyst, 'returns-children-analyst')
  assert.equal(await analyst.locator('button:has-text("Save figures")').count(), 0, 'analysts only read')
})
