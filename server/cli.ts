// AGB Local from the command line (the package's `agb-local` bin): `agb-local [--port 8787] [--api-key <key>] ...`.
// First stdout line is always `AGB Local listening on http://127.0.0.1:<port>` (scripts wait
// for it), then two ready-to-paste `export AGB_ENDPOINT=…` / `export AGB_API_KEY=…` lines, then
// one line per request (method path status ms; the query string is left out because it may
// carry signatures, and headers are never logged).
import { parseArgs } from 'node:util'
import { LIMIT_FLAGS, LIMIT_FLAGS_USAGE, limitsFromFlags } from './sandbox/limits/limitsFromFlags.ts'
import { createAgbLocal } from './createAgbLocal.ts'
import { parseFaultFlag } from './parseFaultFlag.ts'
import { serve } from './serve.ts'
import type { AgbLocal, AgbLocalOptions, Isolation } from './types.ts'

/** Stable defaults, so `AGB_ENDPOINT`/`AGB_API_KEY` set once keep working across restarts. */
const DEFAULT_PORT = 8787
/** A public, fixed key for local development: pass --api-key on shared machines. */
const DEV_API_KEY = 'akm-local-dev'

const USAGE = `Usage: agb-local [--port <n>] [--host <addr>] [--api-key <key>] [--data-dir <dir>] [--images <id,id>]
  [--fault <spec>]... [--isolation auto|bwrap|none] [--no-network] [--max-sessions <n>] [--idle-timeout <s>]
  [--max-lifetime <s>] [--max-body-bytes <n>] [--max-output-bytes <n>] [--max-result-bytes <n>] [--max-object-bytes <n>]
  [--max-connections <n>] [--max-unsent-bytes <n>] [--max-sockets <n>] [--max-sockets-per-session <n>] [--request-timeout <s>] [--allowed-host <name>]...
  [--no-console] [--allow-sandbox-callers]
${LIMIT_FLAGS_USAGE}
  --port      default ${DEFAULT_PORT}; 0 picks a free port
  --api-key   default the development key ${DEV_API_KEY} (only accepted on loopback hosts)
  --allow-sandbox-callers  serve API calls from sandboxed code (refused by default; pass a secret --api-key with it)
  --images    image ids to accept besides the documented ones (an id containing "browser" gets a browser)
  --fault     inject a fault, repeatable: route=/mcp,tool=shell,kind=503,times=2 (kind: a status code,
              retry-after, malformed-json, html, empty, envelope-failure, tool-error, schema, hang, drop, slow-drip,
              lost-answer: the request takes effect, then its answer is lost as lostAs=drop|hang|status|malformed-json says)`

function fail(message: string): never {
  process.stderr.write(`${message}\n${USAGE}\n`)
  process.exit(2)
}

function number(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined
  const n = Number(value)
  if (!Number.isFinite(n) || n < 0) fail(`--${name} must be a non-negative number`)
  return n
}

/** The numeric flags and the createAgbLocal option each sets, in the order their values are checked. */
const NUMBER_FLAGS = [
  ['max-sessions', 'maxSessions'],
  ['idle-timeout', 'defaultIdleTimeout'],
  ['max-lifetime', 'maxLifetime'],
  ['max-body-bytes', 'maxBodyBytes'],
  ['max-output-bytes', 'maxOutputBytes'],
  ['max-result-bytes', 'maxResultBytes'],
  ['max-unsent-bytes', 'maxUnsentBytes'],
  ['max-object-bytes', 'maxObjectBytes'],
  ['max-connections', 'maxConnections'],
  ['max-sockets', 'maxSockets'],
  ['max-sockets-per-session', 'maxSocketsPerSession'],
  ['request-timeout', 'requestTimeout'],
] as const satisfies readonly (readonly [string, keyof AgbLocalOptions])[]

const NUMBER_FLAG_OPTIONS = Object.fromEntries(NUMBER_FLAGS.map(([flag]) => [flag, { type: 'string' }])) as Record<(typeof NUMBER_FLAGS)[number][0], { type: 'string' }>

const { values } = (() => {
  try {
    return parseArgs({
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        'api-key': { type: 'string' },
        images: { type: 'string' },
        fault: { type: 'string', multiple: true },
        'data-dir': { type: 'string' },
        isolation: { type: 'string' },
        'no-network': { type: 'boolean' },
        ...NUMBER_FLAG_OPTIONS,
        'allowed-host': { type: 'string', multiple: true },
        'no-console': { type: 'boolean' },
        'allow-sandbox-callers': { type: 'boolean' },
        ...LIMIT_FLAGS,
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    })
  } catch (e) {
    return fail((e as Error).message)
  }
})()
if (values.help) {
  process.stdout.write(`${USAGE}\n`)
  process.exit(0)
}
const isolation = values.isolation ?? 'auto'
if (!['auto', 'bwrap', 'none'].includes(isolation)) fail(`--isolation must be auto, bwrap or none`)

/** The options {@link NUMBER_FLAGS} set, each flag given checked in table order (the first bad one is reported). */
function numberOptions(): Partial<Record<(typeof NUMBER_FLAGS)[number][1], number>> {
  return Object.fromEntries(NUMBER_FLAGS.flatMap(([flag, key]) => (values[flag] !== undefined ? [[key, number(values[flag], flag)]] : [])))
}

// Lines logged before the banner (e.g. the isolation warning) wait, so the banner stays first.
let pending: string[] | null = []
const log = (line: string) => (pending ? pending.push(line) : process.stdout.write(`${line}\n`))

const host = values.host ?? '127.0.0.1'
const loopback = /^(127\.\d+\.\d+\.\d+|::1|\[::1\]|localhost)$/i.test(host)
if (!values['api-key'] && !loopback) fail(`refusing to listen on ${host} with the public development key: pass --api-key <a secret key>`)
const apiKey = values['api-key'] || DEV_API_KEY
let faults: ReturnType<typeof parseFaultFlag>[] = []
try {
  faults = (values.fault ?? []).map(parseFaultFlag)
} catch (e) {
  fail((e as Error).message)
}

let local: AgbLocal
try {
  local = createAgbLocal({
    isolation: isolation as Isolation,
    network: !values['no-network'],
    ...limitsFromFlags(values),
    log,
    apiKey,
    ...(values.images ? { images: values.images.split(',').map((id) => id.trim()).filter(Boolean) } : {}),
    ...(values['data-dir'] ? { dataDir: values['data-dir'] } : {}),
    ...numberOptions(),
    ...(values['allowed-host'] ? { allowedHosts: values['allowed-host'] } : {}),
    ...(values['no-console'] ? { console: false } : {}),
    ...(values['allow-sandbox-callers'] ? { allowSandboxCallers: true } : {}),
  })
  for (const spec of faults) local.faults.add(spec)
} catch (e) {
  fail((e as Error).message)
}

const base = local.handler
const logged: AgbLocal = {
  ...local,
  // Path only: query strings carry labels, signatures and tokens; headers carry the API key.
  handler: async (req) => {
    const started = performance.now()
    const line = (status: string) => log(`${req.method} ${new URL(req.url).pathname} ${status} ${Math.round(performance.now() - started)}ms`)
    try {
      const res = await base(req)
      line(String(res.status))
      return res
    } catch (e) {
      line('-') // no answer: client gone, or an injected hang/drop fault
      throw e
    }
  },
}

const port = number(values.port, 'port') ?? DEFAULT_PORT
const server = await serve(logged, { port, host }).catch((e: Error & { code?: string }) =>
  fail(`cannot listen on ${host}:${port}: ${e.message}${e.code === 'EADDRINUSE' ? ' (is another AGB Local running? pass --port <n>, or --port 0 for any free port)' : ''}`))
// A key of the user's own is not echoed (terminals and CI logs keep what is printed).
process.stdout.write(`AGB Local listening on ${server.url}\nexport AGB_ENDPOINT=${server.url}\n` +
  `export AGB_API_KEY=${values['api-key'] ? '<the key given with --api-key>' : DEV_API_KEY}\n`)
if (faults.length) process.stdout.write(`${faults.length} fault(s) queued: ${(values.fault ?? []).join('; ')}\n`)
// A one-time link: the console's cookie is set by opening it, the API key never goes in a URL.
if (!values['no-console']) process.stdout.write(`Console: ${local.consoleLink(server.url)}\n`)
for (const line of pending) process.stdout.write(`${line}\n`)
pending = null

let stopping = false
async function stop(signal: string): Promise<void> {
  if (stopping) return
  stopping = true
  log(`${signal}: shutting down`)
  await server.close()
  await local.close() // kills every session process and removes session directories
  process.exit(0)
}
process.once('SIGINT', () => void stop('SIGINT'))
process.once('SIGTERM', () => void stop('SIGTERM'))
