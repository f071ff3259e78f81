// The dashboard's client: every POLL_MS it fetches the JSON endpoints the panels need (once
// each), hands the answers to the panels, and shows readiness and errors. With an admin token
// configured, a 401 brings up the token form; the token stays in this tab (sessionStorage) and
// goes out as `Authorization: Bearer`.
import { registeredPanels } from './panel-registry.js'
import { el } from './dom.js'
import './panels/index.js'

const POLL_MS = 1000
const TOKEN_KEY = 'kproxy-admin-token'

const $ = id => document.getElementById(id)
let token = sessionStorage.getItem(TOKEN_KEY)

class Unauthorized extends Error {}

async function fetchJson (path) {
  const headers = token === null ? {} : { authorization: `Bearer ${token}` }
  const res = await fetch(path, { headers, cache: 'no-store' })
  if (res.status === 401) throw new Unauthorized('the admin API wants a token')
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status} ${(await res.text()).slice(0, 200)}`)
  return await res.json()
}

function showError (err) {
  const box = $('error')
  if (err === null) {
    box.hidden = true
    return
  }
  box.hidden = false
  box.textContent = err instanceof Error ? err.message : String(err)
}

const ctx = { fetchJson, error: showError }

const instances = registeredPanels().map(def => {
  const section = el('section', { class: `panel${def.wide === true ? ' wide' : ''}`, id: `panel-${def.id}` })
  const body = el('div', { class: 'panel-body' })
  section.append(el('h2', {}, def.title), body)
  section.hidden = true
  $('panels').append(section)
  return { def, section, body, panel: null }
})

function askForToken () {
  const form = $('token-form')
  form.hidden = false
  $('status').textContent = 'token needed'
  $('status').className = 'badge bad'
}

$('token-form').addEventListener('submit', ev => {
  ev.preventDefault()
  token = $('token').value.trim()
  sessionStorage.setItem(TOKEN_KEY, token)
  $('token-form').hidden = true
  void tick()
})

async function tick () {
  const sources = [...new Set(instances.flatMap(i => i.def.sources))]
  let answers
  try {
    answers = await Promise.all(sources.map(fetchJson))
  } catch (err) {
    if (err instanceof Unauthorized) askForToken()
    else {
      showError(err)
      $('status').textContent = 'unreachable'
      $('status').className = 'badge bad'
    }
    return
  }
  showError(null)
  const data = Object.fromEntries(sources.map((s, i) => [s, answers[i]]))
  const overview = data['/api/overview']
  if (overview !== undefined) {
    $('status').textContent = overview.ready.ready ? 'ready' : `not ready: ${overview.ready.reason}`
    $('status').className = `badge ${overview.ready.ready ? 'ok' : 'bad'}`
    $('updated').textContent = `updated ${new Date(overview.at).toLocaleTimeString()}`
  }
  for (const i of instances) {
    const mine = Object.fromEntries(i.def.sources.map(s => [s, data[s]]))
    const available = i.def.available === undefined || i.def.available(mine)
    i.section.hidden = !available
    if (!available) continue
    try {
      if (i.panel === null) i.panel = i.def.create(i.body, ctx)
      i.panel.update(mine)
    } catch (err) {
      showError(new Error(`panel ${i.def.id}: ${err.message}`))
    }
  }
}

let running = false
async function loop () {
  if (running || document.visibilityState === 'hidden') return
  running = true
  try { await tick() } finally { running = false }
}

void loop()
setInterval(() => { void loop() }, POLL_MS)
