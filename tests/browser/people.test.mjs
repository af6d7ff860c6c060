// Person matching in the browser, with axe: the coordinator's queue of likely duplicates (a merge
// and its undoing), and children's social care cross-referencing its list, whose match then shows
// on the Marac's case page.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { start, check, signIn } from './harness.mjs'
import { steps } from './steps.mjs'

let env
before(async () => { env = await start() })
after(async () => { await env?.stop() })

const { as, refer } = steps(() => env)

test('a coordinator merges a likely duplicate and undoes it', { timeout: 240_000 }, async () => {
  // The training case's victim again, misspelt and with her birthday written day-first.
  const referrer = await as('Referrer')
  await refer(referrer, { given: 'Casey', family: 'Moro', dob: '7/2/1987', perp: ['Ray', 'Morrow', '19/1/1985'], yes: 15 })

  const coordinator = await as('Coordinator')
  await coordinator.click('nav a:has-text("People")')
  await coordinator.waitForURL(/\/people\/duplicates/)
  await coordinator.click('a:has-text("Northshire North Marac")')
  await check(coordinator, 'people-duplicates')
  const card = coordinator.locator('.govuk-summary-card', { hasText: 'Casey Moro' })
  assert.match(await card.textContent(), /Casey Morrow/)
  assert.match(await card.textContent(), /day and month swapped/)
  await card.locator('button:has-text("Same person: merge")').click()
  assert.match(await coordinator.textContent('.govuk-notification-banner'), /now count as one person/)
  await check(coordinator, 'people-merged')
  const merged = coordinator.locator('#merged ~ .app-table-scroll tr', { hasText: 'Casey Moro' })
  assert.match(await merged.textContent(), /Casey Morrow/, 'counted as the known person')
  await merged.locator('button:has-text("Undo merge")').click()
  assert.match(await coordinator.textContent('.govuk-notification-banner'), /undone/)
  assert.equal(await coordinator.locator('.govuk-summary-card', { hasText: 'Casey Moro' }).count(), 1, 'offered again')
})

test('children\'s social care cross-references its list; the Marac sees only the match', { timeout: 240_000 }, async () => {
  const referrer = await as('Referrer')
  await refer(referrer, { given: 'Jess', family: 'Harlow', dob: '12/12/1990', yes: 15 })
  const coordinator = await as('Coordinator')
  await coordinator.goto(`${env.base}/triage`)
  await coordinator.locator('tr', { hasText: 'Jess Harlow' }).locator('a').click()
  await coordinator.check('[name="decision"][value="accept"]')
  await coordinator.click('button:has-text("Save decision")')
  await coordinator.waitForURL(/\/triage(\?|$)/)

  const csc = await (await env.browser.newContext()).newPage()
  const me = env.demo.users.find(u => u.email === 'csc@demo.marac.example')
  assert.ok(me, 'the demo prints the children\'s social care representative')
  await signIn(csc, env.base, me.email, env.demo.password, me.key)
  await csc.click('a:has-text("Cross-reference your list")')
  await check(csc, 'agency-lists')

  const file = (text) => ({ name: 'open-cases.csv', mimeType: 'text/csv', buffer: Buffer.from(text) })
  const header = 'given_name,family_name,date_of_birth,postcode,address,status,opened_on,closed_on\n'
  await csc.setInputFiles('#file', file(header + 'Jess,Harlow,12/12/1990,,,open,1/3/2026,2/4/2026\n'))
  await csc.click('button:has-text("Check and cross-reference")')
  assert.match(await csc.textContent('#problems'), /An open case has no closing day/)
  await check(csc, 'agency-lists-problems')

  await csc.setInputFiles('#file', file(header + 'Jessica,Harlow,12/12/1990,,,open,1/3/2026,\nAlex,Unknown,5/5/2015,,,closed,1/1/2025,1/6/2025\n'))
  await csc.click('button:has-text("Check and cross-reference")')
  assert.match(await csc.textContent('.govuk-panel'), /2 rows checked; 1 of the Marac/)
  await csc.locator('table a').first().click()
  await check(csc, 'agency-list')
  assert.match(await csc.textContent('main'), /Alex Unknown/)

  // The coordinator never sees the list, only the match on the case.
  const refused = await coordinator.goto(csc.url())
  assert.equal(refused.status(), 403)
  await coordinator.goto(`${env.base}/research`)
  await coordinator.locator('a', { hasText: 'Jess Harlow' }).first().click()
  assert.match(await coordinator.textContent('#social-care + .app-table-scroll table'), /Open since 1 March 2026/)
  await check(coordinator, 'case-known-to-social-care')
})
