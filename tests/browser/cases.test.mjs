// Finding and following a case in the browser, with axe on every page: the header's search box
// (nothing typed ever in an address), the results, the case page with where it stands and its
// chronology, the person page, the action tracker's filters and paging, phone width and printing.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { start, check, reflowProblems, shots } from './harness.mjs'
import { steps } from './steps.mjs'

let env
before(async () => { env = await start() })
after(async () => { await env?.stop() })

const { as } = steps(() => env)

test('a coordinator finds a victim from the header and follows her case', { timeout: 240_000 }, async () => {
  const coordinator = await as('Coordinator')
  await coordinator.goto(`${env.base}/actions`)
  await coordinator.fill('#header-search', 'casey morow')
  await coordinator.click('button:has-text("Search cases")')
  await coordinator.waitForURL(/\/search\/[A-Za-z0-9_-]{20,}$/)
  assert.doesNotMatch(coordinator.url(), /casey|morow/i, 'no name in the address')
  await check(coordinator, 'search-results')
  const hit = coordinator.locator('tbody tr', { hasText: 'Casey Morrow' }).first()
  assert.match(await hit.textContent(), /NSN-\d{4}-\d{5}/)
  await hit.locator('a').click()
  await coordinator.waitForURL(/\/cases\/\d+$/)
  assert.ok((await coordinator.textContent('#case-status')).trim().length > 0, 'the case says where it stands')
  // The people with what an agency searches its records by, and the chronology, newest first.
  assert.match(await coordinator.textContent('main table'), /Victim/)
  const times = await coordinator.$$eval('.app-timeline time', ts => ts.map(t => t.getAttribute('datetime')))
  assert.ok(times.length > 0, 'the chronology has entries')
  assert.deepEqual([...times].sort().reverse(), times, 'newest first')
  await check(coordinator, 'case-page')

  // Everything about her, across her cases.
  await coordinator.click('a:has-text("Everything about")')
  await coordinator.waitForURL(/\/people\/\d+$/)
  assert.doesNotMatch(await coordinator.title(), /Casey|Morrow/, 'the title names no one')
  assert.ok(await coordinator.locator('.app-timeline__item').count() > 0)
  await check(coordinator, 'person-page')
  await coordinator.setViewportSize({ width: 390, height: 844 })
  assert.deepEqual(await reflowProblems(coordinator), [], 'the person page at 390 pixels')
  await coordinator.setViewportSize({ width: 1280, height: 800 })

  // Words that cannot be searched for come back beside the box.
  await coordinator.goto(`${env.base}/search`)
  await coordinator.fill('#q', 'Morrow #1')
  await coordinator.click('main button:has-text("Search")')
  assert.match(await coordinator.title(), /^Error: /)
  assert.equal(await coordinator.inputValue('#q'), 'Morrow #1')
  await check(coordinator, 'search-error')
})

test('the action tracker filters and pages, fits a phone and prints without its chrome', { timeout: 240_000 }, async () => {
  const coordinator = await as('Coordinator')
  await coordinator.goto(`${env.base}/actions`)
  await check(coordinator, 'actions-outstanding')
  const count = await coordinator.textContent('.app-paging-count')
  assert.match(count, /Showing 1 to \d+ of \d+/)
  await coordinator.selectOption('#status', 'overdue')
  await coordinator.click('button:has-text("Show actions")')
  assert.match(coordinator.url(), /status=overdue/)
  await check(coordinator, 'actions-overdue')
  await coordinator.fill('#due_by', 'next tuesday')
  await coordinator.click('button:has-text("Show actions")')
  assert.match(await coordinator.title(), /^Error: /)
  await check(coordinator, 'actions-due-by-error')

  for (const path of ['/actions', '/research', '/triage', '/search']) {
    await coordinator.setViewportSize({ width: 390, height: 844 })
    await coordinator.goto(env.base + path)
    assert.deepEqual(await reflowProblems(coordinator), [], `${path} at 390 pixels`)
  }
  await coordinator.goto(`${env.base}/actions`)
  await coordinator.screenshot({ path: join(shots, 'actions-phone.png'), fullPage: true })

  await coordinator.setViewportSize({ width: 1280, height: 800 })
  await coordinator.emulateMedia({ media: 'print' })
  await coordinator.goto(`${env.base}/actions`)
  const hidden = await coordinator.evaluate(() =>
    ['.govuk-service-navigation', '.app-filters', '.govuk-pagination'].map(s => {
      const e = document.querySelector(s)
      return e ? getComputedStyle(e).display : 'none'
    }))
  assert.deepEqual(hidden, ['none', 'none', 'none'], 'navigation, filters and paging are not printed')
  await coordinator.screenshot({ path: join(shots, 'actions-print.png'), fullPage: true })
  await coordinator.emulateMedia({ media: 'screen' })
})

test('the navigation fits on one line at 1,280 pixels for every role', { timeout: 240_000 }, async () => {
  for (const role of ['Coordinator', 'Agency representative', 'Chair', 'Referrer']) {
    const page = await as(role)
    await page.setViewportSize({ width: 1280, height: 800 })
    await page.goto(`${env.base}/`)
    const tops = await page.$$eval('.govuk-service-navigation__item', items => [...new Set(items.map(i => Math.round(i.getBoundingClientRect().top)))])
    assert.equal(tops.length, 1, `${role}'s menu wraps onto ${tops.length} lines`)
  }
})
