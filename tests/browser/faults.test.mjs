// Browser journeys when something fails underneath: the disk fills while a referral is being
// written (the page keeps what was typed and sends it again), and a form sent twice by a double
// click makes one referral.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { start, check } from './harness.mjs'
import { steps } from './steps.mjs'

let env
before(async () => { env = await start() })
after(async () => { await env?.stop() })

const { as, startReferral } = steps(() => env)
const inCi = ['true', '1'].includes(process.env.CI ?? '')

/** Makes the server's file writes fail with ENOSPC (a full disk) until the returned function is called. */
async function fillDisk (pid) {
  const strace = spawn('strace', ['-f', '-p', String(pid), '-qq', '-o', '/dev/null', '-e', 'trace=pwrite64,fsync,fdatasync', '-e', 'inject=pwrite64,fsync,fdatasync:error=ENOSPC'], { stdio: 'ignore' })
  // strace needs a moment to attach to every thread.
  await new Promise(r => setTimeout(r, 1500))
  return async () => {
    strace.kill('SIGINT')
    await new Promise(r => strace.once('exit', r))
  }
}

test('the disk fills while a referral is written: nothing typed is lost, and it saves once there is room', { timeout: 120_000 }, async (t) => {
  if (spawnSync('strace', ['-V']).status !== 0) {
    assert.ok(!inCi, 'strace is required under CI')
    t.skip('strace is not installed')
    return
  }
  const page = await as('Referrer')
  const id = await startReferral(page)
  await page.goto(`${env.base}/referrals/${id}/summary`)
  const text = 'He followed her from work on Monday and waited outside the school on Tuesday.'
  await page.fill('[name="summary.text"]', text)
  const room = await fillDisk(env.pid)
  try {
    await page.click('.govuk-button:has-text("Save and continue")')
    assert.match(await page.textContent('h1'), /The service cannot save right now/)
    assert.match(await page.textContent('main'), /Nothing you typed is lost/)
    await page.click('summary:has-text("What you typed")')
    assert.match(await page.textContent('.govuk-details__text'), /waited outside the school/)
    await check(page, 'fault-cannot-save')
  } finally {
    await room()
  }
  await page.click('button:has-text("Try again")')
  assert.doesNotMatch(await page.textContent('h1'), /cannot save/)
  await page.goto(`${env.base}/referrals/${id}/summary`)
  assert.equal(await page.inputValue('[name="summary.text"]'), text)
})

test('a double click on "Start a new referral" makes one referral', { timeout: 60_000 }, async () => {
  const page = await as('Referrer')
  // The referrals listed, newest first: a new one is on the page however long the list.
  const listed = async () => {
    await page.goto(`${env.base}/referrals`)
    return page.locator('main tbody tr a').evaluateAll(links => links.map(a => a.getAttribute('href')))
  }
  const before = new Set(await listed())
  await page.dblclick('button:has-text("Start a new referral")')
  await page.waitForURL(/\/referrals\/\d+$/)
  const went = new URL(page.url()).pathname
  const made = (await listed()).filter(href => !before.has(href))
  assert.deepEqual(made, [went], 'one referral, the one the browser went to')
})
