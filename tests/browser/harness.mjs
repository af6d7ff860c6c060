// Shared set-up for the browser tests: a real `marac` server on loopback with demo data,
// headless Debian Chromium driven by playwright-core, axe-core on every page.
import { spawn, execFileSync } from 'node:child_process'
import { createHmac } from 'node:crypto'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import assert from 'node:assert/strict'
import { chromium } from 'playwright-core'
import { AxeBuilder } from '@axe-core/playwright'

const root = resolve(import.meta.dirname, '../..')
export const bin = process.env.MARAC_BIN || join(root, 'target/debug/marac')
export const shots = join(root, 'target/screenshots')
mkdirSync(shots, { recursive: true })

function freePort () {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)) })
    s.on('error', reject)
  })
}

/** Parses the sign-ins `marac demo` prints. */
export function parseSignIns (text) {
  const password = /password for every account: (\S+)\)/.exec(text)?.[1]
  const users = []
  for (const line of text.split('\n')) {
    const m = /^\s{2}(.+?)\s{2,}(\S+@\S+)\s+(.+?)(?:\s+authenticator key ([A-Z2-7 ]+?)\s+\(or run.*)?$/.exec(line)
    if (m) users.push({ role: m[1].trim(), email: m[2], name: m[3].trim(), key: m[4]?.replace(/ /g, '') })
  }
  return { password, users }
}

function base32 (s) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'
  let bits = ''
  for (const c of s.replace(/[^A-Z2-7]/g, '')) bits += alphabet.indexOf(c).toString(2).padStart(5, '0')
  const out = []
  for (let i = 0; i + 8 <= bits.length; i += 8) out.push(parseInt(bits.slice(i, i + 8), 2))
  return Buffer.from(out)
}

/** RFC 6238 code for a base32 key at a time step. */
export function totp (key, step = Math.floor(Date.now() / 30000)) {
  const counter = Buffer.alloc(8)
  counter.writeBigUInt64BE(BigInt(step))
  const h = createHmac('sha1', base32(key)).update(counter).digest()
  const o = h[h.length - 1] & 15
  const n = (h.readUInt32BE(o) & 0x7fffffff) % 1000000
  return String(n).padStart(6, '0')
}

const usedSteps = new Map()
/** A code that has not been used yet in this run (each code works once). */
export async function freshCode (key) {
  for (;;) {
    const step = Math.floor(Date.now() / 30000)
    if ((usedSteps.get(key) ?? -1) < step) { usedSteps.set(key, step); return totp(key, step) }
    await new Promise(r => setTimeout(r, 1000))
  }
}

export async function start () {
  const dataDir = mkdtempSync(join(tmpdir(), 'marac-browser-'))
  const port = await freePort()
  const env = { ...process.env, MARAC_DATA_DIR: dataDir, MARAC_BIND: `127.0.0.1:${port}`, MARAC_LOG: 'warn' }
  delete env.MARAC_DATABASE_URL
  if (process.env.MARAC_BROWSER_DATABASE_URL) env.MARAC_DATABASE_URL = process.env.MARAC_BROWSER_DATABASE_URL
  const printed = execFileSync(bin, ['demo', '--no-serve'], { env, encoding: 'utf8' })
  const server = spawn(bin, ['serve'], { env, stdio: ['ignore', 'pipe', 'inherit'] })
  const base = `http://127.0.0.1:${port}`
  for (let i = 0; ; i++) {
    try { if ((await fetch(`${base}/readyz`)).ok) break } catch {}
    if (i > 100) throw new Error('server did not become ready')
    await new Promise(r => setTimeout(r, 100))
  }
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic']
  })
  return {
    base,
    browser,
    demo: parseSignIns(printed),
    /** The server's process id, for the fault journeys. */
    pid: server.pid,
    async stop () {
      await browser.close()
      server.kill('SIGTERM')
      await new Promise(r => server.once('exit', r))
      rmSync(dataDir, { recursive: true, force: true })
    }
  }
}

/** What axe does not check and every page must hold: a page with errors says so at the start
 * of its title; every field error has an id, its form group's error class, and is referred to by
 * its control or fieldset (a control also marked invalid and drawn as one); every hint and
 * description referred to exists, and every hint of a field is referred to. */
export async function formRules (page) {
  return page.evaluate(() => {
    const out = []
    const hasErrors = !!document.querySelector('.govuk-error-summary, .govuk-error-message')
    if (hasErrors !== document.title.startsWith('Error: ')) out.push(`title "${document.title}" with${hasErrors ? '' : 'out'} errors`)
    const refersTo = (e, id) => (e.getAttribute('aria-describedby') || '').split(/\s+/).includes(id)
    for (const message of document.querySelectorAll('.govuk-error-message')) {
      const id = message.id
      if (!id) { out.push(`an error message with no id: ${message.textContent.trim()}`); continue }
      const group = message.closest('.govuk-form-group')
      if (!group) continue
      if (!group.classList.contains('govuk-form-group--error')) out.push(`#${id}: its form group has no error class`)
      const refs = [...group.querySelectorAll('[aria-describedby]')].filter(e => refersTo(e, id))
      if (refs.length === 0) out.push(`#${id}: no control or fieldset refers to it`)
      for (const c of refs.filter(e => e.matches('input:not([type=radio]):not([type=checkbox]), select, textarea'))) {
        if (c.getAttribute('aria-invalid') !== 'true') out.push(`#${c.id}: not marked invalid`)
        if (![...c.classList].some(k => k.endsWith('--error'))) out.push(`#${c.id}: not drawn as an error`)
      }
    }
    for (const e of document.querySelectorAll('[aria-describedby]')) {
      for (const ref of e.getAttribute('aria-describedby').split(/\s+/).filter(Boolean)) {
        if (!document.getElementById(ref)) out.push(`#${e.id}: refers to #${ref}, which is not on the page`)
      }
    }
    for (const hint of document.querySelectorAll('.govuk-form-group .govuk-hint')) {
      if (!hint.id || !document.querySelector(`[aria-describedby~="${hint.id}"]`)) out.push(`a hint nothing refers to: ${hint.textContent.trim().slice(0, 60)}`)
    }
    return out
  })
}

/** What makes a page wider than the screen, or sits a form in a table on a narrow screen. */
export const reflowProblems = (page) => page.evaluate(() => {
  const out = []
  const root = document.documentElement
  if (root.scrollWidth > root.clientWidth + 1) {
    const wide = [...document.querySelectorAll('main *')].filter(e => e.getBoundingClientRect().right > root.clientWidth + 1 && !e.closest('.app-table-scroll'))
    out.push(`the page is ${root.scrollWidth}px wide: ${wide.slice(0, 3).map(e => e.tagName.toLowerCase() + (e.className ? '.' + String(e.className).split(' ')[0] : '')).join(', ')}`)
  }
  for (const field of document.querySelectorAll('td select, td textarea, td input:not([type=hidden])')) out.push(`a form field in a table cell: ${field.name}`)
  for (const box of document.querySelectorAll('.app-table-scroll')) {
    if (box.getAttribute('tabindex') !== '0' || box.getAttribute('role') !== 'region' || !(box.getAttribute('aria-labelledby') || box.getAttribute('aria-label'))) out.push('a scrolling table that is not a focusable, labelled region')
  }
  for (const table of document.querySelectorAll('main table')) {
    if (table.getBoundingClientRect().width > root.clientWidth && !table.closest('.app-table-scroll')) out.push(`a wide table outside a scrolling region: ${table.querySelector('caption')?.textContent.trim()}`)
  }
  return out
})

/** Runs axe with the WCAG 2.2 AA rules and the form rules above, and fails on any violation;
 * keeps a screenshot. */
export async function check (page, name) {
  const results = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'])
    .analyze()
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true })
  const summary = results.violations.map(v => `${v.id}: ${v.help} (${v.nodes.map(n => n.target.join(' ')).join(', ')})`)
  assert.deepEqual(summary, [], `accessibility violations on ${name} (${page.url()})`)
  assert.deepEqual(await formRules(page), [], `form rules broken on ${name} (${page.url()})`)
  return results
}

/** Signs in through the form, answering the second-factor page if asked. */
export async function signIn (page, base, email, password, key) {
  await page.goto(`${base}/sign-in`)
  await page.fill('#email', email)
  await page.fill('#password', password)
  await page.click('button:has-text("Sign in")')
  if (page.url().endsWith('/sign-in/two-factor')) {
    assert.ok(key, `${email} needs an authenticator key`)
    await page.fill('#code', await freshCode(key))
    await page.click('button:has-text("Continue")')
  }
}

export async function signOut (page) {
  await page.click('button:has-text("Sign out")')
  await page.waitForURL(/\/sign-in\?signed_out=1$/)
}
