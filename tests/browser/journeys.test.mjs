// Browser journeys: every printed demo sign-in, sign-out, setting up an authenticator and
// signing in with it, an administrator adding an agency and a user; axe on every page.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { start, check, signIn, signOut, freshCode, shots } from './harness.mjs'

let env
before(async () => { env = await start() })
after(async () => { await env?.stop() })

async function newPage () {
  const context = await env.browser.newContext()
  return context.newPage()
}

test('the sign-in page, its errors, and every printed demo sign-in', { timeout: 180_000 }, async () => {
  const { base, demo } = env
  assert.ok(demo.password, 'demo printed a password')
  assert.equal(demo.users.length, 9, "a sign-in for every role, and children's social care's representative")
  const page = await newPage()
  await page.goto(`${base}/sign-in`)
  await check(page, 'sign-in')
  await page.click('button:has-text("Sign in")')
  assert.match(await page.textContent('.govuk-error-summary'), /Enter your email address/)
  await check(page, 'sign-in-errors')
  await page.fill('#email', 'nobody@example.org')
  await page.fill('#password', 'not the right password')
  await page.click('button:has-text("Sign in")')
  assert.match(await page.textContent('.govuk-error-summary'), /The email address or password is not right/)
  assert.equal(await page.inputValue('#email'), 'nobody@example.org', 'what was typed is kept')

  for (const u of demo.users) {
    await signIn(page, base, u.email, demo.password, u.key)
    assert.equal(new URL(page.url()).pathname, '/', `${u.email} reached the home page`)
    assert.match(await page.textContent('h1'), new RegExp(`Welcome, ${u.name.split(' ')[0]}`))
    await check(page, `home-${u.email.split('@')[0]}`)
    await page.goto(`${base}/account`)
    await check(page, `account-${u.email.split('@')[0]}`)
    await signOut(page)
  }
  await check(page, 'signed-out')
})

test('an administrator adds an agency and a user, who sets up an authenticator and signs in with it', { timeout: 180_000 }, async () => {
  const { base, demo } = env
  const admin = demo.users.find(u => u.role === 'System administrator')
  const page = await newPage()
  await signIn(page, base, admin.email, demo.password, admin.key)
  for (const path of ['/admin', '/admin/partnerships', '/admin/partnerships/new', '/admin/partnerships/1', '/admin/maracs', '/admin/maracs/new', '/admin/maracs/1', '/admin/agencies', '/admin/agencies/1', '/admin/users', '/admin/users/1', '/admin/users/2', '/account/two-factor']) {
    await page.goto(base + path)
    await check(page, 'admin' + path.replace(/\//g, '-'))
  }

  await page.goto(`${base}/admin/agencies/new`)
  await check(page, 'admin-agency-new')
  await page.click('button:has-text("Save")')
  assert.match(await page.textContent('.govuk-error-summary'), /Select the partnership/)
  await check(page, 'admin-agency-errors')
  await page.selectOption('#partnership', { index: 1 })
  await page.fill('#code', 'IDAS')
  await page.fill('#name', 'Independent DA Services')
  await page.selectOption('#category', 'voluntary_sector')
  await page.check('#marac')
  await page.click('button:has-text("Save")')
  await page.waitForURL(/\/admin\/agencies$/)
  assert.match(await page.textContent('main'), /Independent DA Services/)

  await page.goto(`${base}/admin/maracs/new`)
  await page.fill('#high_risk_threshold', '99')
  await page.click('button:has-text("Save")')
  assert.match(await page.textContent('.govuk-error-summary'), /The high-risk threshold must be between 1 and 40/)
  assert.equal(await page.inputValue('#high_risk_threshold'), '99', 'what was typed is kept')
  await check(page, 'admin-marac-errors')

  await page.goto(`${base}/admin/users/new`)
  await check(page, 'admin-user-new')
  await page.click('button:has-text("Save")')
  assert.match(await page.textContent('.govuk-error-summary'), /Select at least one role/)
  await check(page, 'admin-user-errors')
  await page.fill('#email', 'new.coordinator@demo.marac.example')
  await page.fill('#name', 'Nia Coordinator')
  await page.selectOption('#agency', { label: 'Independent DA Services' })
  await page.fill('#password', 'a pass phrase for nia')
  await page.check('fieldset:has-text("Roles in Northshire North Marac") input[value^="coordinator:"]')
  await page.click('button:has-text("Save")')
  await page.waitForURL(/\/admin\/users$/)
  assert.match(await page.textContent('main'), /Nia Coordinator/)
  await signOut(page)

  // Coordinators must set up an authenticator before anything else.
  await page.fill('#email', 'new.coordinator@demo.marac.example')
  await page.fill('#password', 'a pass phrase for nia')
  await page.click('button:has-text("Sign in")')
  await page.waitForURL(/\/sign-in\/set-up-two-factor$/)
  await check(page, 'set-up-two-factor')
  const key = (await page.textContent('#totp-secret')).replace(/\s/g, '')
  await page.fill('#code', '000000')
  await page.click('button:has-text("Continue")')
  assert.match(await page.textContent('.govuk-error-summary'), /The code is not right/)
  await check(page, 'set-up-two-factor-error')
  await page.fill('#code', '')
  await page.fill('#code', await freshCode(key))
  await page.click('button:has-text("Continue")')
  assert.match(await page.textContent('h1'), /Your authenticator app is set up/)
  assert.equal(await page.locator('#recovery-codes li').count(), 10)
  await check(page, 'recovery-codes')
  await page.click('a:has-text("Continue")')
  assert.match(await page.textContent('h1'), /Welcome, Nia/)
  await signOut(page)

  await page.fill('#email', 'new.coordinator@demo.marac.example')
  await page.fill('#password', 'a pass phrase for nia')
  await page.click('button:has-text("Sign in")')
  await page.waitForURL(/\/sign-in\/two-factor$/)
  await check(page, 'two-factor')
  await page.click('button:has-text("Continue")')
  assert.match(await page.textContent('.govuk-error-summary'), /Enter the 6-digit code/)
  await check(page, 'two-factor-error')
  await page.fill('#code', await freshCode(key))
  await page.click('button:has-text("Continue")')
  assert.match(await page.textContent('h1'), /Welcome, Nia/)
})

test('error pages and the audit trail', { timeout: 120_000 }, async () => {
  const { base, demo } = env
  const page = await newPage()
  await page.goto(`${base}/no-such-page`)
  await check(page, 'not-found')
  const referrer = demo.users.find(u => u.role === 'Referrer')
  await signIn(page, base, referrer.email, demo.password)
  const response = await page.goto(`${base}/admin/users`)
  assert.equal(response.status(), 403)
  await check(page, 'forbidden')
  await signOut(page)
  const auditor = demo.users.find(u => u.role === 'Auditor')
  await signIn(page, base, auditor.email, demo.password)
  await page.goto(`${base}/audit`)
  assert.match(await page.textContent('main'), /sign_in.success/)
  await check(page, 'audit')
  await page.goto(`${base}/audit?from=yesterday`)
  await check(page, 'audit-error')
  // A form whose token has gone stale (here: the session cookie was cleared) is refused clearly.
  await page.goto(`${base}/account`)
  await page.context().clearCookies()
  await page.click('button:has-text("Sign out")')
  assert.match(await page.textContent('h1'), /This form could not be sent/)
  await check(page, 'form-expired')
})

test('pages work without JavaScript', { timeout: 120_000 }, async () => {
  const { base, demo } = env
  const context = await env.browser.newContext({ javaScriptEnabled: false })
  const page = await context.newPage()
  const referrer = demo.users.find(u => u.role === 'Referrer')
  await signIn(page, base, referrer.email, demo.password)
  assert.equal(new URL(page.url()).pathname, '/')
  await page.goto(`${base}/account`)
  assert.match(await page.textContent('h1'), /Your account/)
  // axe needs script in the page, so this page was checked with JavaScript on above.
  await page.screenshot({ path: join(shots, 'account-no-js.png'), fullPage: true })
  await signOut(page)
})

test('a warning before the session times out, and staying signed in', { timeout: 120_000 }, async () => {
  const { base, demo } = env
  const context = await env.browser.newContext()
  const page = await context.newPage()
  await page.clock.install()
  const referrer = demo.users.find(u => u.role === 'Referrer')
  await signIn(page, base, referrer.email, demo.password)
  await page.goto(`${base}/account`)
  // The server's clock cannot be moved from here, so its answer to "how long is left?" is
  // stood in for while the page's clock runs on.
  const nearlyOver = route => route.fulfill({ json: { remaining_seconds: 100 } })
  await page.route('**/account/session-status', nearlyOver)
  await page.clock.fastForward('13:05')
  const dialog = page.getByRole('alertdialog')
  await dialog.waitFor()
  assert.match(await dialog.textContent(), /You are about to be signed out/)
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Stay signed in', 'focus is on the button')
  await check(page, 'timeout-warning')
  await page.click('button:has-text("Stay signed in")')
  await dialog.waitFor({ state: 'detached' })
  await page.unroute('**/account/session-status', nearlyOver)
  // Still signed in on the server: when the page's clock runs out it asks, and stays.
  await page.clock.fastForward('15:01')
  assert.equal(new URL(page.url()).pathname, '/account')

})
