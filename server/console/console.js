// AGB Local console page: plain JavaScript, no dependencies. The page never sees the API key:
// it talks only to /console/api/* with its HttpOnly cookie. Everything shown is built with
// textContent (never innerHTML), so whatever a sandbox prints stays text.
'use strict'

const $ = (id) => document.getElementById(id)
/** Creates an element: h('td', { className: 'x' }, 'text', child). */
function h(tag, props, ...children) {
  const el = document.createElement(tag)
  for (const [k, v] of Object.entries(props || {})) {
    if (k.startsWith('aria-') || k.startsWith('data-')) el.setAttribute(k, v)
    else el[k] = v
  }
  for (const c of children) if (c !== undefined && c !== null) el.append(c)
  return el
}
const SVG = 'http://www.w3.org/2000/svg'

const state = {
  live: [], released: [], calls: [], server: null, selected: null, clockSkew: 0,
  metrics: new Map(), running: null, filesPath: '/home/user',
  /** Output of API calls still running, by request id: { sessionId, at, parts: [[stream, text]] }. */
  liveRuns: new Map(),
}
const MAX_LIVE_TEXT = 64 * 1024

function bytes(n) {
  if (n === null || n === undefined) return '–'
  const units = ['B', 'KB', 'MB', 'GB', 'TB']
  let i = 0
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++ }
  return `${n < 10 && i ? n.toFixed(1) : Math.round(n)} ${units[i]}`
}
function duration(ms) {
  const s = Math.max(0, Math.round(ms / 1000))
  if (s < 60) return `${s}s`
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`
}
const now = () => Date.now() + state.clockSkew
const clock = (t) => new Date(t).toLocaleTimeString([], { hour12: false })

async function api(path, options = {}) {
  const init = { ...options, headers: { ...(options.body ? { 'content-type': 'application/json' } : {}) } }
  const res = await fetch(`/console/api/${path}`, init)
  const body = await res.json().catch(() => ({}))
  if (!res.ok) throw new Error(body.error || `${res.status} ${res.statusText}`)
  return body
}
const post = (path, body) => api(path, { method: 'POST', body: JSON.stringify(body || {}) })

// ---------- sessions ----------
function labelsText(labels) {
  const entries = Object.entries(labels || {})
  return entries.length ? entries.map(([k, v]) => `${k}=${v}`).join(', ') : 'no labels'
}
function sessionButton(s, released) {
  const button = h('button', { type: 'button', 'data-session': s.id, 'aria-current': String(state.selected === s.id) },
    h('span', { className: 'id' }, s.id),
    h('span', { className: 'line' }, `${s.imageId} · ${labelsText(s.labels)}`),
    h('span', { className: 'line', 'data-times': s.id }, ''))
  button.addEventListener('click', () => select(s.id))
  if (released) button.setAttribute('aria-label', `${s.id}, released`)
  return h('li', {}, button)
}
function renderSessions() {
  $('sessions').replaceChildren(...state.live.map((s) => sessionButton(s, false)))
  $('released').replaceChildren(...state.released.map((s) => sessionButton(s, true)))
  $('no-sessions').hidden = state.live.length > 0
  $('released-heading').hidden = state.released.length === 0
  renderTimes()
  if (state.selected) renderDetailHead()
}
function sessionById(id) {
  return state.live.find((s) => s.id === id) || state.released.find((s) => s.id === id)
}
function timesText(s) {
  if (s.releasedAt) return `released ${duration(now() - s.releasedAt)} ago`
  const idle = s.busy ? 'busy' : `idle release in ${duration(s.idleReleaseAt - now())}`
  return `${s.status.toLowerCase()} · age ${duration(now() - s.createdAt)} · ${idle}`
}
function renderTimes() {
  for (const el of document.querySelectorAll('[data-times]')) {
    const s = sessionById(el.getAttribute('data-times'))
    if (s) el.textContent = timesText(s)
  }
  if (state.selected && sessionById(state.selected)) $('detail-meta').textContent = `${sessionById(state.selected).imageId} · ${labelsText(sessionById(state.selected).labels)} · ${timesText(sessionById(state.selected))}`
}

// ---------- selection and detail ----------
function select(id) {
  state.selected = id
  state.filesPath = '/home/user'
  $('files-path').value = state.filesPath
  $('run-output').replaceChildren()
  $('file-view').hidden = true
  $('screenshot').hidden = true
  $('screenshot-note').textContent = ''
  for (const b of document.querySelectorAll('[data-session]')) b.setAttribute('aria-current', String(b.getAttribute('data-session') === id))
  $('nothing-selected').hidden = true
  $('detail').hidden = false
  renderDetailHead()
  renderTimeline()
  refreshDetail()
  loadFiles()
  $('main').focus()
}
function renderDetailHead() {
  const s = sessionById(state.selected)
  if (!s) return
  $('detail-title').textContent = s.id
  const live = !s.releasedAt && s.status === 'RUNNING'
  for (const el of [$('release'), $('files-open'), $('files-up'), $('screenshot-refresh')]) el.disabled = !live
  $('run-button').disabled = !live || state.running === s.id
  $('screenshot-section').hidden = !s.browser
  renderTimes()
}

function outcomeText(c) {
  if (c.fault) return `fault: ${c.fault}${c.status ? ` (${c.status})` : ''}`
  if (!c.ok) return c.status ? `failed (${c.status})` : 'no answer'
  return `ok (${c.status})`
}
function timelineRow(c) {
  const details = c.error || c.output
  const outcome = h('td', {}, outcomeText(c))
  if (details) outcome.append(h('details', {}, h('summary', {}, c.error ? 'error' : 'output'), h('pre', {}, details)))
  return h('tr', { className: c.ok ? '' : 'failed' },
    h('td', {}, clock(c.at)),
    h('td', {}, c.tool ? `${c.tool}` : `${c.method} ${c.path}`, c.source === 'console' ? ' (console)' : c.method === 'WS' ? ' (WebSocket)' : ''),
    h('td', { className: 'args' }, c.args || (c.tool ? `${c.method} ${c.path}` : '')),
    h('td', {}, `${c.durationMs} ms`), outcome, h('td', { className: 'mono' }, c.requestId || ''))
}
/** A call still running: its output so far, as it is printed. */
function liveRow(requestId, run) {
  const out = h('pre', { className: 'output', 'aria-label': 'Output so far' }, ...run.parts.map(([stream, text]) => h('span', { className: stream === 'stderr' ? 'stderr' : '' }, text)))
  return h('tr', { className: 'live', 'data-live': requestId },
    h('td', {}, clock(run.at)), h('td', {}, 'run_code'), h('td', { colSpan: 2 }, out), h('td', {}, 'running…'), h('td', { className: 'mono' }, requestId))
}
function renderTimeline() {
  const rows = state.calls.filter((c) => c.sessionId === state.selected).slice(-100).reverse()
  const live = [...state.liveRuns].filter(([, run]) => run.sessionId === state.selected).map(([id, run]) => liveRow(id, run))
  $('timeline').replaceChildren(...live, ...(rows.length || live.length ? rows.map(timelineRow) : [h('tr', {}, h('td', { colSpan: 6, className: 'muted' }, 'No call yet.'))]))
}
function renderAllCalls() {
  $('all-calls').replaceChildren(...state.calls.slice(-40).reverse().map((c) =>
    h('li', { className: c.ok ? '' : 'failed' }, `${clock(c.at)} ${c.tool || `${c.method} ${c.path}`} · ${outcomeText(c)} · ${c.durationMs} ms`)))
}

// ---------- resources, processes, screenshot ----------
function sparkline(svg, values, limit) {
  const max = Math.max(limit || 0, ...values, 1e-9)
  const points = values.map((v, i) => `${(i * 120) / Math.max(1, values.length - 1)},${31 - (v / max) * 29}`).join(' ')
  const children = [document.createElementNS(SVG, 'polyline')]
  children[0].setAttribute('points', points)
  if (limit) {
    const line = document.createElementNS(SVG, 'line')
    for (const [k, v] of Object.entries({ x1: 0, x2: 120, y1: 2, y2: 2 })) line.setAttribute(k, v)
    children.push(line)
  }
  svg.replaceChildren(...children)
}
function renderMetrics(m) {
  const history = state.metrics.get(state.selected) || []
  history.push(m)
  if (history.length > 60) history.shift()
  state.metrics.set(state.selected, history)
  const cpuLimit = m.limits.cpus || m.host.cpus
  $('chart-cpu-label').textContent = `CPU ${m.cpuCores.toFixed(2)} of ${cpuLimit} core${cpuLimit === 1 ? '' : 's'}${m.limits.cpus ? ' (limit)' : ' (host)'}`
  $('chart-memory-label').textContent = `Memory ${bytes(m.memoryBytes)} of ${bytes(m.limits.memory || m.host.memory)}${m.limits.memory ? ' (limit)' : ' (host)'}`
  $('chart-disk-label').textContent = `Disk ${bytes(m.diskBytes)}${m.limits.disk ? ` of ${bytes(m.limits.disk)} (limit)` : ' (no limit)'}`
  sparkline($('chart-cpu'), history.map((x) => x.cpuCores), m.limits.cpus)
  sparkline($('chart-memory'), history.map((x) => x.memoryBytes), m.limits.memory)
  sparkline($('chart-disk'), history.map((x) => x.diskBytes), m.limits.disk)
}
function renderProcesses(list) {
  $('processes').replaceChildren(...(list.length ? list.map((p) => h('tr', {},
    h('td', {}, String(p.pid)), h('td', { className: 'command' }, p.command), h('td', {}, p.state),
    h('td', {}, p.cpuSeconds.toFixed(2)), h('td', {}, bytes(p.rssBytes))))
    : [h('tr', {}, h('td', { colSpan: 5, className: 'muted' }, 'No process running (kernels start with the first run).'))]))
}
async function refreshScreenshot() {
  const id = state.selected
  try {
    const shot = await api(`sessions/${encodeURIComponent(id)}/screenshot`)
    if (id !== state.selected) return
    $('screenshot').src = `data:${shot.mime_type};base64,${shot.data}`
    $('screenshot').hidden = false
    $('screenshot-note').textContent = `Taken ${clock(Date.now())}`
  } catch (e) {
    if (id === state.selected) $('screenshot-note').textContent = e.message
  }
}
let detailTick = 0
async function refreshDetail() {
  const s = sessionById(state.selected)
  if (!s || s.releasedAt) return
  const id = s.id
  const path = `sessions/${encodeURIComponent(id)}`
  const [metrics, processes] = await Promise.allSettled([api(`${path}/metrics`), api(`${path}/processes`)])
  if (id !== state.selected) return
  if (metrics.status === 'fulfilled') renderMetrics(metrics.value)
  if (processes.status === 'fulfilled') renderProcesses(processes.value.processes)
  if (s.browser && detailTick++ % 3 === 0) refreshScreenshot()
}

// ---------- files ----------
async function loadFiles() {
  const id = state.selected
  const s = sessionById(id)
  if (!s || s.releasedAt) return $('files').replaceChildren()
  try {
    const listing = await api(`sessions/${encodeURIComponent(id)}/files?path=${encodeURIComponent(state.filesPath)}`)
    if (id !== state.selected) return
    const base = listing.path.endsWith('/') ? listing.path : `${listing.path}/`
    const items = listing.entries.map((e) => {
      const full = base + e.name
      const open = h('button', { type: 'button', className: 'secondary' }, e.dir ? `${e.name}/` : e.name)
      open.addEventListener('click', () => (e.dir ? openFolder(full) : viewFile(full)))
      const li = h('li', { 'data-file': full }, open)
      if (!e.dir) {
        li.append(h('span', { className: 'size' }, e.size === undefined ? '' : bytes(e.size)),
          h('a', { href: `/console/api/${`sessions/${encodeURIComponent(id)}/download?path=${encodeURIComponent(full)}`}`, download: e.name, 'aria-label': `Download ${e.name}` }, 'Download'))
      }
      return li
    })
    if (listing.more) items.push(h('li', { className: 'muted' }, `… ${listing.more} more not shown`))
    $('files').replaceChildren(...(items.length ? items : [h('li', { className: 'muted' }, 'Empty folder.')]))
  } catch (e) {
    $('files').replaceChildren(h('li', { className: 'error' }, e.message))
  }
}
function openFolder(path) {
  state.filesPath = path
  $('files-path').value = path
  loadFiles()
}
async function viewFile(path) {
  try {
    const file = await api(`sessions/${encodeURIComponent(state.selected)}/file?path=${encodeURIComponent(path)}`)
    $('file-view').hidden = false
    $('file-view-title').textContent = `${file.path} (${bytes(file.size)})`
    $('file-view-text').textContent = file.text !== undefined ? file.text : file.reason
  } catch (e) {
    $('file-view').hidden = false
    $('file-view-title').textContent = path
    $('file-view-text').textContent = e.message
  }
}

// ---------- actions ----------
$('run-form').addEventListener('submit', async (event) => {
  event.preventDefault()
  const id = state.selected
  const language = $('run-language').value
  const text = $('run-code').value
  const out = $('run-output')
  out.replaceChildren(h('span', { className: 'muted' }, 'running…\n'))
  $('run-button').disabled = true
  state.running = id
  try {
    const body = language === 'command' ? { command: text } : { code: text, language }
    const result = await post(`sessions/${encodeURIComponent(id)}/run`, body)
    if (id !== state.selected) return
    out.replaceChildren(h('span', { className: result.isError ? 'stderr' : '' }, prettyResult(result.text)))
  } catch (e) {
    out.replaceChildren(h('span', { className: 'stderr' }, e.message))
  } finally {
    state.running = null
    $('run-button').disabled = false
  }
})
/** run_code and shell answer JSON: show its output streams and results as text. */
function prettyResult(text) {
  try {
    const doc = JSON.parse(text)
    const parts = []
    if (doc.stdout) parts.push([].concat(doc.stdout).join(''))
    if (doc.stderr) parts.push([].concat(doc.stderr).join(''))
    for (const r of [].concat(doc.result || [])) {
      const text = r && (r.text !== undefined ? r.text : r['text/plain'])
      if (text !== undefined && !(r.isMainResult === false)) parts.push(String(text))
    }
    if (doc.executionError) parts.push(doc.executionError)
    if (doc.exit_code !== undefined) parts.push(`exit code ${doc.exit_code}`)
    return parts.join('\n') || text
  } catch {
    return text
  }
}
$('release').addEventListener('click', async () => {
  const id = state.selected
  $('release').disabled = true
  try {
    await post(`sessions/${encodeURIComponent(id)}/release`)
  } catch (e) {
    $('detail-meta').textContent = e.message
    $('release').disabled = false
  }
})
$('files-open').addEventListener('click', () => openFolder($('files-path').value || '/'))
$('files-path').addEventListener('keydown', (e) => { if (e.key === 'Enter') openFolder($('files-path').value || '/') })
$('files-up').addEventListener('click', () => openFolder(state.filesPath.replace(/\/[^/]+\/?$/, '') || '/'))
$('screenshot-refresh').addEventListener('click', refreshScreenshot)

$('fault-form').addEventListener('submit', async (event) => {
  event.preventDefault()
  $('fault-error').textContent = ''
  try {
    await post('faults', { route: $('fault-route').value.trim(), tool: $('fault-tool').value.trim(), kind: $('fault-kind').value, status: $('fault-status').value })
  } catch (e) {
    $('fault-error').textContent = e.message
  }
})
function renderFaults() {
  const faults = (state.server && state.server.consoleFaults) || []
  $('faults').replaceChildren(...faults.map((f) => {
    const what = `${f.spec.kind}${f.spec.status ? ` ${f.spec.status}` : ''} on ${f.spec.route || 'any route'}${f.spec.tool ? ` · tool ${f.spec.tool}` : ''}`
    const toggle = h('input', { type: 'checkbox', checked: f.on, role: 'switch', 'data-fault': String(f.id) })
    toggle.addEventListener('change', () => post(`faults/${f.id}`, { on: toggle.checked }).catch((e) => ($('fault-error').textContent = e.message)))
    const remove = h('button', { type: 'button', className: 'secondary', 'aria-label': `Remove fault ${what}` }, 'Remove')
    remove.addEventListener('click', () => post(`faults/${f.id}`, { remove: true }).catch((e) => ($('fault-error').textContent = e.message)))
    return h('li', {}, h('label', {}, toggle, what), remove)
  }))
}
function renderServer() {
  const s = state.server
  $('stat-rps').textContent = s.requestsPerSecond.toFixed(1)
  $('stat-requests').textContent = String(s.requests)
  $('stat-errors').textContent = String(s.errors)
  $('stat-faults').textContent = String(s.faults)
  $('stat-queued').textContent = s.queuedFaults === null ? '∞' : String(s.queuedFaults)
  state.clockSkew = s.now - Date.now()
  const shown = JSON.stringify(s.consoleFaults)
  if (shown !== renderServer.faults) { renderServer.faults = shown; renderFaults() }
}

// ---------- live updates ----------
function connect() {
  const events = new EventSource('/console/api/events')
  const on = (name, fn) => events.addEventListener(name, (e) => fn(JSON.parse(e.data)))
  on('hello', (snap) => {
    $('connection').textContent = 'Live'
    state.calls = snap.calls
    state.server = snap.server
    Object.assign(state, { live: snap.sessions.live, released: snap.sessions.released })
    renderServer(); renderSessions(); renderAllCalls()
    if (state.selected) renderTimeline()
  })
  on('sessions', (sessions) => {
    const wasLive = state.live.some((s) => s.id === state.selected)
    Object.assign(state, { live: sessions.live, released: sessions.released })
    renderSessions()
    if (wasLive && !state.live.some((s) => s.id === state.selected)) renderDetailHead()
  })
  on('call', (call) => {
    if (call.requestId) state.liveRuns.delete(call.requestId)
    state.calls.push(call)
    if (state.calls.length > 500) state.calls.shift()
    renderAllCalls()
    if (call.sessionId === state.selected) renderTimeline()
    if (call.sessionId === state.selected && /write|move|delete|create_directory|shell|run_code|edit/.test(call.tool || '')) loadFiles()
  })
  on('server', (server) => { state.server = server; renderServer() })
  on('output', (o) => {
    if (o.requestId) { // code run through the API, still running
      const run = state.liveRuns.get(o.requestId) || { sessionId: o.sessionId, at: now(), parts: [], size: 0 }
      if (run.size < MAX_LIVE_TEXT) run.parts.push([o.stream, o.chunk])
      run.size += o.chunk.length
      state.liveRuns.set(o.requestId, run)
      if (state.liveRuns.size > 50) state.liveRuns.delete(state.liveRuns.keys().next().value) // calls that never answered
      if (o.sessionId === state.selected) renderTimeline()
      return
    }
    if (o.sessionId !== state.selected || state.running !== o.sessionId) return
    $('run-output').append(h('span', { className: o.stream === 'stderr' ? 'stderr' : '' }, o.chunk))
  })
  events.onerror = () => {
    $('connection').textContent = events.readyState === EventSource.CLOSED ? 'Disconnected: reload the page (sign in again if asked)' : 'Reconnecting…'
  }
}
setInterval(renderTimes, 1000)
setInterval(refreshDetail, 2000)
connect()
