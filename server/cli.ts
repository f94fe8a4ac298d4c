// AGB Local from the command line: `tsx server/cli.ts --port <n> --api-key <key> --data-dir <dir>`.
// First stdout line is always `AGB Local listening on http://127.0.0.1:<port>` (scripts wait
// for it), then `API key: <key>`, then one line per request (method path status ms; the query
// string is left out because it may carry signatures, and headers are never logged).
import { parseArgs } from 'node:util'
import { createAgbLocal } from './createAgbLocal.ts'
import { serve } from './serve.ts'
import type { AgbLocal, Isolation } from './types.ts'

const USAGE = `Usage: tsx server/cli.ts [--port <n>] [--host <addr>] [--api-key <key>] [--data-dir <dir>]
  [--isolation auto|bwrap|none] [--no-network] [--max-sessions <n>] [--idle-timeout <s>] [--max-lifetime <s>]
  [--max-body-bytes <n>] [--max-output-bytes <n>]`

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

const { values } = (() => {
  try {
    return parseArgs({
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        'api-key': { type: 'string' },
        'data-dir': { type: 'string' },
        isolation: { type: 'string' },
        'no-network': { type: 'boolean' },
        'max-sessions': { type: 'string' },
        'idle-timeout': { type: 'string' },
        'max-lifetime': { type: 'string' },
        'max-body-bytes': { type: 'string' },
        'max-output-bytes': { type: 'string' },
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

// Lines logged before the banner (e.g. the isolation warning) wait, so the banner stays first.
let pending: string[] | null = []
const log = (line: string) => (pending ? pending.push(line) : process.stdout.write(`${line}\n`))

let local: AgbLocal
try {
  local = createAgbLocal({
    isolation: isolation as Isolation,
    network: !values['no-network'],
    log,
    ...(values['api-key'] ? { apiKey: values['api-key'] } : {}),
    ...(values['data-dir'] ? { dataDir: values['data-dir'] } : {}),
    ...(values['max-sessions'] !== undefined ? { maxSessions: number(values['max-sessions'], 'max-sessions') } : {}),
    ...(values['idle-timeout'] !== undefined ? { defaultIdleTimeout: number(values['idle-timeout'], 'idle-timeout') } : {}),
    ...(values['max-lifetime'] !== undefined ? { maxLifetime: number(values['max-lifetime'], 'max-lifetime') } : {}),
    ...(values['max-body-bytes'] !== undefined ? { maxBodyBytes: number(values['max-body-bytes'], 'max-body-bytes') } : {}),
    ...(values['max-output-bytes'] !== undefined ? { maxOutputBytes: number(values['max-output-bytes'], 'max-output-bytes') } : {}),
  })
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

const server = await serve(logged, {
  port: number(values.port, 'port') ?? 0,
  ...(values.host ? { host: values.host } : {}),
}).catch((e: Error) => fail(`cannot listen: ${e.message}`))
process.stdout.write(`AGB Local listening on ${server.url}\nAPI key: ${local.apiKey}\n`)
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
