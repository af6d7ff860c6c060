// Keyboard, focus and small screens, as a keyboard-only user and a phone at 320 pixels (and a
// desktop at 200 % zoom, the same 640 CSS pixels wide) meet them: Enter on the pages that list
// people saves and never removes anyone; the checklist's sticky score never hides what has
// focus; the session-timeout dialog holds focus and Escape keeps the session; nothing makes the
// page scroll sideways; every field error is tied to its field; no title names a person.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { start, check, formRules, reflowProblems } from './harness.mjs'
import { steps } from './steps.mjs'

let env
before(async () => { env = await start() })
after(async () => { await env?.stop() })

const { as, fill, startReferral, refer, listOnNewMeeting } = steps(() => env)

const focusedId = (page) => page.evaluate(() => document.activeElement?.id ?? '')
/** Waits for focus to reach `id` (autofocus lands just after the page loads), or fails. */
const focusReaches = (page, id) => page.waitForFunction((id) => document.activeElement?.id === id, id, { timeout: 5_000 })
const groupCount = (page) => page.locator('fieldset.app-group').count()
/** Presses Enter where focus is and waits for the page it leads to. */
async function enter (page) {
  await Promise.all([page.waitForEvent('load'), page.keyboard.press('Enter')])
}
/** Presses a button the way a keyboard user does: focus it, then Enter. */
async function pressButton (page, text) {
  await page.locator('button', { hasText: text }).first().focus()
  await enter(page)
}

test('Enter saves the people pages and never removes anyone; removing asks first and the list shortens', { timeout: 240_000 }, async () => {
  const page = await as('Referrer')
  const id = await startReferral(page)
  const harm = `${env.base}/referrals/${id}/people-causing-harm`
  await page.goto(harm)

  // One person: Enter in a text box saves the page (here with problems shown), adding no one.
  await page.fill('#perpetrators-0-given_name', 'Sam')
  await page.focus('#perpetrators-0-given_name')
  await enter(page)
  assert.match(await page.textContent('.govuk-error-summary'), /There is a problem/, 'Enter meant "save and continue"')
  assert.equal(await groupCount(page), 1, 'Enter added no one')

  // "Add another" puts focus in the new person's first field.
  await pressButton(page, 'Add another person causing harm')
  await focusReaches(page, 'perpetrators-1-given_name')
  await page.keyboard.type('Bea')
  // Two people: Enter used to press "Remove person causing harm 1".
  await enter(page)
  await page.goto(harm)
  assert.equal(await groupCount(page), 2)
  assert.equal(await page.inputValue('#perpetrators-0-given_name'), 'Sam', 'Enter removed no one')
  assert.equal(await page.inputValue('#perpetrators-1-given_name'), 'Bea')

  // Removing someone with details asks first; the later people move up and the count drops.
  await pressButton(page, 'Add another person causing harm')
  await focusReaches(page, 'perpetrators-2-given_name')
  await page.keyboard.type('Cal')
  await pressButton(page, 'Remove person causing harm 2')
  assert.match(page.url(), /\/people-causing-harm\/remove\/1$/)
  assert.match(await page.textContent('main'), /Remove person causing harm 2\?/)
  assert.match(await page.textContent('main'), /Bea/)
  await check(page, 'referral-remove-person')
  await page.click('a:has-text("No, keep them")')
  assert.equal(await groupCount(page), 3, 'keeping them keeps them')
  await pressButton(page, 'Remove person causing harm 2')
  await pressButton(page, 'Yes, remove person causing harm 2')
  assert.match(await page.textContent('.govuk-notification-banner'), /Person causing harm 2 removed/)
  assert.equal(await groupCount(page), 2, 'three less one is two')
  assert.equal(await page.inputValue('#perpetrators-0-given_name'), 'Sam')
  assert.equal(await page.inputValue('#perpetrators-1-given_name'), 'Cal')
  await check(page, 'referral-person-removed')

  // Someone added by mistake, with nothing typed in, goes without a question.
  await pressButton(page, 'Add another person causing harm')
  assert.equal(await groupCount(page), 3)
  await pressButton(page, 'Remove person causing harm 3')
  assert.match(page.url(), /\/people-causing-harm(\?|$)/)
  assert.equal(await groupCount(page), 2)

  // The household page behaves the same.
  await page.goto(`${env.base}/referrals/${id}/children`)
  await fill(page, { 'children.any': 'yes', 'children.0.name': 'Dee' })
  await pressButton(page, 'Add another child or household member')
  await focusReaches(page, 'children-1-name')
  await page.keyboard.type('Eli')
  await enter(page)
  await page.goto(`${env.base}/referrals/${id}/children`)
  assert.equal(await groupCount(page), 2)
  assert.equal(await page.inputValue('#children-0-name'), 'Dee')
  assert.equal(await page.inputValue('#children-1-name'), 'Eli')
})

/** The part of `selector`'s box that the sticky score covers, in square pixels. */
const hiddenBehindScore = (page, selector) => page.evaluate((selector) => {
  const el = selector ? document.querySelector(selector) : document.activeElement
  const a = el.getBoundingClientRect()
  const b = document.querySelector('.app-score').getBoundingClientRect()
  const w = Math.min(a.right, b.right) - Math.max(a.left, b.left)
  const h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top)
  return w > 0 && h > 0 ? Math.round(w * h) : 0
}, selector)

test('the checklist\'s sticky score never hides what has focus, or the question an error link leads to', { timeout: 240_000 }, async () => {
  const page = await as('Referrer')
  const id = await startReferral(page)
  await page.goto(`${env.base}/referrals/${id}/risk-checklist`)
  await page.selectOption('[name="checklist.version"]', 'safelives-dash@2026.1')
  await page.click('.govuk-button:has-text("Save and continue")')
  for (const [width, height] of [[1280, 800], [320, 640], [640, 400]]) {
    await page.setViewportSize({ width, height })
    await page.goto(`${env.base}/referrals/${id}/risk-checklist`)
    // Every stop, backwards from the button at the end and then forwards again.
    await page.focus('.govuk-button:has-text("Save and continue")')
    const hidden = []
    let stops = 0
    for (const key of ['Shift+Tab', 'Tab']) {
      for (let i = 0; i < 120; i++) {
        await page.keyboard.press(key)
        const where = await page.evaluate(() => {
          const score = document.querySelector('.app-score')
          const el = document.activeElement
          if (!el || el === document.body) return 'outside'
          const before = el.compareDocumentPosition(score) & Node.DOCUMENT_POSITION_FOLLOWING
          return before ? 'before' : (score.closest('form').contains(el) ? 'in' : 'outside')
        })
        if (where !== 'in') break
        stops++
        const covered = await hiddenBehindScore(page)
        if (covered > 0) hidden.push(`${key} to ${await page.evaluate(() => document.activeElement.id || document.activeElement.textContent.trim().slice(0, 40))}: ${covered} px²`)
      }
    }
    assert.ok(stops > 40, `walked ${stops} focus stops at ${width}px`)
    assert.deepEqual(hidden, [], `the score covers focused controls at ${width} by ${height}`)

    // Unanswered questions: following an error-summary link by keyboard shows the question.
    await page.click('.govuk-button:has-text("Save and continue")')
    const link = page.locator('.govuk-error-summary__list a').nth(5)
    const target = (await link.getAttribute('href')).slice(1)
    await link.focus()
    await page.keyboard.press('Enter')
    assert.equal(await focusedId(page), target)
    const legend = `#${target}` // the legend is the fieldset's first child
    const legendCovered = await page.evaluate((id) => {
      const l = document.getElementById(id).closest('fieldset').querySelector('legend').getBoundingClientRect()
      const s = document.querySelector('.app-score').getBoundingClientRect()
      return l.top < s.bottom - 1
    }, target)
    assert.equal(legendCovered, false, `the question's legend is behind the score at ${width}px (${legend})`)
    if (width === 320) await check(page, 'checklist-error-320')
  }
})

test('the session-timeout dialog keeps focus inside it, and Escape keeps the session', { timeout: 120_000 }, async () => {
  const page = await as('Agency representative')
  await page.clock.install()
  await page.goto(`${env.base}/actions`)
  const nearlyOver = route => route.fulfill({ json: { remaining_seconds: 100 } })
  await page.route('**/account/session-status', nearlyOver)
  await page.clock.fastForward('13:05')
  const dialog = page.getByRole('alertdialog')
  await dialog.waitFor()
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Stay signed in')
  for (let i = 0; i < 6; i++) {
    await page.keyboard.press('Tab')
    const inside = await page.evaluate(() => {
      const el = document.activeElement
      return !el || el === document.body || !!el.closest('dialog')
    })
    assert.ok(inside, `Tab ${i + 1} left the dialog for the page behind it`)
  }
  assert.equal(await page.evaluate(() => document.querySelector('main').inert || !!document.querySelector('dialog:modal')), true)
  await check(page, 'timeout-dialog-actions')
  const kept = page.waitForRequest(r => r.url().endsWith('/account/keep-alive') && r.method() === 'POST')
  await page.keyboard.press('Escape')
  await kept
  await dialog.waitFor({ state: 'detached' })
  await page.unroute('**/account/session-status', nearlyOver)
  assert.equal(new URL(page.url()).pathname, '/actions', 'still here, still signed in')
})

/** Pages a role reaches from its menu, and the first record each list links to. */
async function pagesOf (page) {
  await page.goto(env.base + '/')
  const menu = await page.$$eval('.govuk-service-navigation__link', as => as.map(a => a.getAttribute('href')))
  const pages = new Set(['/', ...menu])
  for (const path of menu) {
    await page.goto(env.base + path)
    const first = await page.$$eval('main table a[href^="/"]', as => as.map(a => a.getAttribute('href')).filter(h => !/\.(csv|xlsx|json)|format=|download/.test(h)))
    if (first[0]) pages.add(first[0])
  }
  return [...pages]
}

test('nothing scrolls sideways at 320 pixels or at 200 % zoom, and no form sits in a table column', { timeout: 600_000 }, async () => {
  const problems = []
  for (const role of ['Agency representative', 'Coordinator', 'Chair', 'Referrer', 'Idva']) {
    const page = await as(role)
    const pages = await pagesOf(page)
    for (const [width, height] of [[320, 640], [640, 400]]) {
      await page.setViewportSize({ width, height })
      for (const path of pages) {
        await page.goto(env.base + path)
        for (const p of await reflowProblems(page)) problems.push(`${role}, ${path} at ${width}px: ${p}`)
      }
    }
    if (role === 'Agency representative') await check(page, 'actions-narrow')
  }
  assert.deepEqual(problems, [])
})

test('errors on triage and the meeting-mode case page are tied to their fields', { timeout: 300_000 }, async () => {
  const referrer = await as('Referrer')
  await refer(referrer, { given: 'Wren', family: 'Lowe', dob: '9/9/1991', yes: 15 })
  const reference = (await referrer.textContent('.govuk-panel')).match(/NSN-\d{4}-\d{5}/)[0]
  const coordinator = await as('Coordinator')
  await coordinator.goto(`${env.base}/triage`)
  await coordinator.locator('tr', { hasText: reference }).locator('a', { hasText: reference }).click()
  await coordinator.fill('#decline_note', 'Not yet: the referrer is checking the address.')
  await coordinator.click('button:has-text("Save decision")')
  assert.match(await coordinator.title(), /^Error: /)
  assert.match(await coordinator.getAttribute('fieldset:has(#decision)', 'aria-describedby'), /decision-error/)
  await check(coordinator, 'triage-decision-error')
  await coordinator.check('#decision-3')
  await coordinator.fill('#decline_note', '')
  await coordinator.click('button:has-text("Save decision")')
  assert.equal(await coordinator.getAttribute('#decline_note', 'aria-invalid'), 'true')
  await check(coordinator, 'triage-decline-note-error')
  await coordinator.check('#decision')
  await coordinator.click('button:has-text("Save decision")')
  await coordinator.waitForURL(/\/triage(\?|$)/)

  const meeting = await listOnNewMeeting(coordinator, [reference])
  assert.match(await coordinator.title(), /Northshire North Marac meeting, \d{1,2} \w+ \d{4}/, 'the meeting title names its date')
  const chair = await as('Chair')
  await chair.goto(env.base + meeting)
  await chair.check('#agree-box')
  await chair.click('button:has-text("Confirm and see the cases")')
  await chair.click(`a:has-text("${reference}")`)
  assert.equal(await chair.title(), `Meeting case ${reference} – ${(await chair.title()).split(' – ')[1]}`)
  await chair.selectOption('#agency', { index: 1 })
  await chair.fill('#owner', 'DS Kerr')
  await chair.check('[name="subject"] >> nth=0')
  await chair.click('button:has-text("Add action")')
  assert.match(await chair.textContent('#description-error'), /./)
  assert.equal(await chair.getAttribute('#description', 'aria-invalid'), 'true')
  assert.equal(await chair.inputValue('#owner'), 'DS Kerr')
  await check(chair, 'meeting-case-action-error')
})

test('no page title names any of the people on the records', { timeout: 600_000 }, async () => {
  const names = new Set()
  const titles = []
  for (const role of ['Coordinator', 'Agency representative', 'Chair', 'Idva', 'Referrer', 'Analyst', 'Administrator', 'Auditor']) {
    if (!env.demo.users.some(u => u.role === role)) continue
    const page = await as(role)
    const seen = new Set()
    const queue = ['/']
    while (queue.length > 0 && seen.size < 60) {
      const path = queue.shift()
      if (seen.has(path)) continue
      seen.add(path)
      let response
      try { response = await page.goto(env.base + path) } catch { continue }
      if (!(response?.headers()['content-type'] ?? '').includes('text/html')) continue
      titles.push([`${role} ${path}`, await page.title()])
      const found = await page.evaluate(() => {
        const out = []
        // The people a page names: victims' and people's columns, and a case page's heading.
        for (const table of document.querySelectorAll('main table')) {
          const heads = [...table.querySelectorAll('thead th')].map(th => th.textContent.trim())
          heads.forEach((h, i) => {
            if (!/^(Victim|Name|Person|Known person)$/.test(h)) return
            for (const row of table.querySelectorAll('tbody tr')) {
              const text = row.children[i]?.textContent.trim()
              if (text) out.push(text)
            }
          })
        }
        if (/\/(research|cases)\//.test(location.pathname)) out.push(document.querySelector('h1')?.firstChild?.textContent.trim() ?? '')
        return out
      })
      for (const n of found) if (/^[A-Z][a-z'-]+( [A-Z][a-z'-]+)+$/.test(n)) names.add(n)
      const links = await page.$$eval('a[href^="/"]', as => as.map(a => a.getAttribute('href')))
      for (const href of links) {
        const p = href.split('#')[0]
        if (!p || /sign-out|\/assets\/|\.(csv|xlsx|json|svg)|format=|download|page=/.test(p)) continue
        if (!seen.has(p)) queue.push(p)
      }
    }
  }
  assert.ok(names.size > 20, `found ${names.size} people's names on the pages`)
  const leaks = []
  for (const [where, title] of titles) {
    for (const name of names) {
      const family = name.split(' ').at(-1)
      if (title.includes(name) || new RegExp(`\\b${family}\\b`).test(title)) leaks.push(`${where}: "${title}" names ${name}`)
    }
  }
  assert.deepEqual(leaks, [], `${titles.length} titles checked`)
})

test('the form rules hold on a page with every kind of field error', { timeout: 120_000 }, async () => {
  const page = await as('Referrer')
  const id = await startReferral(page)
  for (const slug of ['referral', 'victim', 'people-causing-harm', 'consent-and-safety']) {
    await page.goto(`${env.base}/referrals/${id}/${slug}`)
    await page.click('.govuk-button:has-text("Save and continue")')
    assert.deepEqual(await formRules(page), [], slug)
    assert.match(await page.title(), /^Error: /)
  }
})
