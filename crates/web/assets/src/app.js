// Progressive enhancement only: every page works without this script.
import { initAll } from '/assets/govuk-frontend.min.js'

document.body.classList.add('js-enabled', 'govuk-frontend-supported')
initAll()

// The risk checklist's score, kept up to date as answers are chosen. Without JavaScript the
// score is worked out when the page is saved.
const scoreBox = document.querySelector('.app-score')
if (scoreBox) {
  const shown = scoreBox.querySelector('[data-score]')
  const form = scoreBox.closest('form')
  const update = () => {
    shown.textContent = String(form.querySelectorAll('input[type="radio"][name^="checklist.answer."][value="yes"]:checked').length)
  }
  form.addEventListener('change', (event) => {
    if (event.target.name?.startsWith('checklist.answer.')) update()
  })
  // The score stays at the top of the screen, so whatever takes focus or is scrolled to (by
  // Tab, Shift+Tab or an error-summary link) must stop below it, never behind it (WCAG 2.4.11).
  const clear = () => {
    document.documentElement.style.scrollPaddingTop = `${scoreBox.offsetHeight + 16}px`
  }
  clear()
  new ResizeObserver(clear).observe(scoreBox)
}

// A follow-up question ("Why do you judge the risk to be high?") is shown once its question is
// answered the way that calls for it, and hidden again otherwise; what was typed in it stays
// in the form. Without JavaScript every follow-up is shown.
for (const group of document.querySelectorAll('[data-follows]')) {
  const radios = [...group.closest('form').querySelectorAll('input[type="radio"]')]
    .filter(r => r.name === group.dataset.follows)
  const sync = () => {
    group.hidden = radios.find(r => r.checked)?.value !== group.dataset.followsAnswer
  }
  for (const r of radios) r.addEventListener('change', sync)
  sync()
}

// Warn before the session ends for inactivity (WCAG 2.2.1) and offer to keep it. Without
// JavaScript the session still ends after 15 minutes and the sign-in page says why.
const session = document.querySelector('meta[name="marac-session"]')
if (session) {
  const idle = Number(session.dataset.idleSeconds) * 1000
  const warnBefore = Number(session.dataset.warnSeconds) * 1000
  let warnTimer
  let endTimer
  let dialog

  const close = () => {
    if (dialog?.open) dialog.close()
    dialog?.remove()
    dialog = undefined
  }

  const ended = () => { window.location.href = '/sign-in?ended=1' }

  // Another tab may have kept the session alive, so ask the server before warning or leaving.
  const remaining = async () => {
    try {
      const r = await fetch('/account/session-status', { credentials: 'same-origin', redirect: 'manual' })
      return r.ok ? (await r.json()).remaining_seconds * 1000 : 0
    } catch { return 0 }
  }

  const schedule = (left = idle) => {
    clearTimeout(warnTimer)
    clearTimeout(endTimer)
    warnTimer = setTimeout(async () => {
      const now = await remaining()
      if (now > warnBefore + 5000) schedule(now); else warn()
    }, Math.max(left - warnBefore, 0))
    endTimer = setTimeout(async () => {
      const now = await remaining()
      if (now > 1000) { close(); schedule(now) } else ended()
    }, left)
  }

  const keep = async () => {
    const response = await fetch('/account/keep-alive', {
      method: 'POST',
      headers: { 'X-CSRF-Token': session.dataset.csrf },
      credentials: 'same-origin'
    })
    if (response.ok) { close(); schedule() } else { ended() }
  }

  // A modal <dialog>: the page behind is inert, so Tab stays in it, and Escape means "stay
  // signed in" (WCAG 2.4.3, 2.2.1).
  const warn = () => {
    if (dialog) return
    const returnTo = document.activeElement
    dialog = document.createElement('dialog')
    dialog.className = 'app-timeout'
    dialog.setAttribute('role', 'alertdialog')
    dialog.setAttribute('aria-labelledby', 'app-timeout-title')
    dialog.setAttribute('aria-describedby', 'app-timeout-text')
    const title = document.createElement('h2')
    title.className = 'govuk-heading-m'
    title.id = 'app-timeout-title'
    title.textContent = 'You are about to be signed out'
    const text = document.createElement('p')
    text.className = 'govuk-body'
    text.id = 'app-timeout-text'
    text.textContent = 'For your security, you will be signed out in 2 minutes if you do nothing. Anything you have not saved will be lost.'
    const stay = document.createElement('button')
    stay.type = 'button'
    stay.className = 'govuk-button'
    stay.textContent = 'Stay signed in'
    const staySignedIn = () => { keep().then(() => returnTo?.focus?.()) }
    stay.addEventListener('click', staySignedIn)
    const leave = document.createElement('button')
    leave.type = 'button'
    leave.className = 'govuk-button govuk-button--secondary'
    leave.textContent = 'Sign out'
    leave.addEventListener('click', () => {
      const signOut = document.querySelector('form[action="/sign-out"]')
      if (signOut) signOut.submit(); else ended()
    })
    const buttons = document.createElement('div')
    buttons.className = 'govuk-button-group'
    buttons.append(stay, leave)
    dialog.append(title, text, buttons)
    dialog.addEventListener('cancel', (event) => { event.preventDefault(); staySignedIn() })
    document.body.append(dialog)
    dialog.showModal()
    stay.focus()
  }

  schedule()
}

// The meeting notes save themselves a moment after the chair stops typing, so a lost
// connection or a closed tab loses seconds, not a case. The outcome is left to the Save
// button, since hearing a case sets the Idva's task going. Without JavaScript the buttons
// save as before.
const notes = document.querySelector('form[data-autosave]')
if (notes) {
  const status = notes.querySelector('[data-autosave-status]')
  const version = notes.querySelector('[data-autosave-version]')
  const boxes = [...notes.querySelectorAll('textarea, input[type="text"]')]
  const after = 1500
  let timer
  let saving = false
  let again = false
  let unsaved = false
  // What the server holds for each box, so an autosave sends only the boxes that changed and
  // never writes one box's old text over another's newer save.
  const saved = new Map(boxes.map((box) => [box.name, box.value]))

  const time = () => new Date().toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })

  // Another person saved a box first: their text is shown beside it, to merge into this one.
  const showNewer = (field, label, text) => {
    const box = notes.querySelector(`[name="${field}"]`)
    if (!box) return
    let note = box.parentElement.querySelector('[data-newer]')
    if (!note) {
      note = document.createElement('div')
      note.className = 'govuk-inset-text app-pre'
      note.dataset.newer = ''
      note.id = `${field}-newer`
      box.before(note)
      box.setAttribute('aria-describedby', note.id)
    }
    note.textContent = `Someone else saved "${label}" while you were typing. Their text: ${text || '(empty)'}. Merge it into the box below; your next change saves.`
    saved.set(field, text)
  }

  const save = async () => {
    if (saving) { again = true; return }
    saving = true
    unsaved = false
    const changed = boxes.filter((box) => saved.get(box.name) !== box.value)
    if (changed.length === 0) { saving = false; return }
    const body = new URLSearchParams()
    body.set('_csrf', notes.querySelector('[name="_csrf"]').value)
    body.set('version', version.value)
    for (const box of changed) body.set(box.name, box.value)
    const sent = new Map(changed.map((box) => [box.name, box.value]))
    try {
      const response = await fetch(notes.action, {
        method: 'POST',
        body,
        credentials: 'same-origin',
        headers: { 'X-Autosave': '1', Accept: 'application/json' }
      })
      if (response.ok) {
        const answer = await response.json()
        version.value = answer.version
        for (const [name, value] of sent) saved.set(name, value)
        status.textContent = `Notes saved at ${time()}`
      } else if (response.status === 409) {
        const answer = await response.json()
        version.value = answer.version
        for (const f of answer.fields) showNewer(f.field, f.label, f.saved)
        status.textContent = 'Notes not saved: someone else saved this case first. Both texts are shown: merge them, and your next change saves.'
        unsaved = true
      } else if (response.status === 422) {
        const { errors } = await response.json()
        status.textContent = `Notes not saved: ${errors.map((e) => e.message).join('. ')}`
        unsaved = true
      } else {
        status.textContent = 'Notes not saved. Your text is still here: use the Save button.'
        unsaved = true
      }
    } catch {
      status.textContent = 'Notes not saved: no connection. Your text is still here: use the Save button when you are back online.'
      unsaved = true
    }
    saving = false
    if (again) { again = false; save() }
  }

  notes.addEventListener('input', (event) => {
    if (event.target.type === 'radio') return
    unsaved = true
    clearTimeout(timer)
    timer = setTimeout(save, after)
  })
  notes.addEventListener('submit', () => { clearTimeout(timer); unsaved = false })
  window.addEventListener('beforeunload', (event) => { if (unsaved) event.preventDefault() })
}
