// The browser side: a keyless client pointed at the proxy, streaming output as it comes.
import { createClient, createSession, deleteSession, streamCode, type Session } from 'agb-micro'

const client = createClient({ endpoint: '/agb', proxy: true })
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T
const output = $<HTMLPreElement>('output')
const status = $<HTMLSpanElement>('status')
let session: Promise<Session> | undefined

function show(text: string, className?: string) {
  const span = document.createElement('span')
  span.textContent = text
  if (className) span.className = className
  output.append(span)
}

$<HTMLButtonElement>('run').addEventListener('click', async () => {
  output.textContent = ''
  status.textContent = 'running…'
  try {
    session ??= createSession(client, { imageId: 'agb-code-space-1' })
    for await (const event of streamCode(client, await session, $<HTMLTextAreaElement>('code').value)) {
      if (event.type === 'stdout') show(event.text)
      else if (event.type === 'stderr') show(event.text, 'stderr')
      else if (event.type === 'result' && event.result.text !== undefined) show(`→ ${event.result.text}\n`, 'meta')
      else if (event.type === 'error') show(`${event.error.name}: ${event.error.value}\n`, 'stderr')
      else if (event.type === 'end') status.textContent = `${event.status} in ${event.executionTime.toFixed(2)} s`
    }
  } catch (error) {
    status.textContent = `failed: ${(error as Error).message}`
  }
})

// Give the sandbox back when the page goes away: a `keepalive` fetch survives the unload.
const releaser = createClient({ endpoint: '/agb', proxy: true, fetch: (input, init) => fetch(input, { ...init, keepalive: true }) })
addEventListener('pagehide', () => {
  if (session) void session.then((s) => deleteSession(releaser, s, { wait: false }))
})
