// Run by attemptTimeoutGc.test.ts as `node --expose-gc --import tsx`: one attempt against a
// server that never answers, garbage collected while it waits. Prints one JSON line.
import { createServer } from 'node:http'
import { createClient, getSession, isAgbError } from '../../src/index.ts'

const server = createServer(() => {}).listen(0, '127.0.0.1')
await new Promise((resolve) => server.once('listening', resolve))
const { port } = server.address() as { port: number }
const client = createClient({ apiKey: 'k', endpoint: `http://127.0.0.1:${port}`, retry: { attempts: 1, attemptTimeout: 300 } })
const gc = (globalThis as { gc?: () => void }).gc!
const collecting = setInterval(gc, 20)
const started = Date.now()
const outcome = await getSession(client, 's-1', { timeout: 6000 }).then(
  () => ({ code: 'resolved', message: '' }),
  (e: unknown) => (isAgbError(e) ? { code: e.code, message: e.message } : { code: 'other', message: String(e) }),
)
clearInterval(collecting)
console.log(JSON.stringify({ ...outcome, ms: Date.now() - started }))
server.closeAllConnections()
server.close()
