// AGB Local in its own process, for attacks that measure the server's memory: started by
// exhaustion tests with `tsx --expose-gc exhaustionTarget.ts '<AgbLocalOptions JSON>' ['<ServePolicy JSON>']`.
// Prints one JSON line `{url, apiKey, pid}`; then answers each `mem` line on stdin with
// `{rss, heapUsed, external, arrayBuffers}` (after two full GCs), blocks its event loop for
// <ms> on `block <ms>` (as a burst of process spawns does) and answers `blocked`, exits on `close`.
import { createInterface } from 'node:readline'
import { createAgbLocal, serve } from '../../../server/index.ts'

const gc = (globalThis as { gc?: () => void }).gc ?? (() => {})
const local = createAgbLocal(JSON.parse(process.argv[2] ?? '{}'))
// Optional second argument: ServePolicy fields to override (e.g. a short keepAliveTimeoutMs).
const server = await serve({ ...local, servePolicy: { ...local.servePolicy, ...JSON.parse(process.argv[3] ?? '{}') } }, { port: 0 })
process.stdout.write(`${JSON.stringify({ url: server.url, apiKey: local.apiKey, pid: process.pid })}\n`)
for await (const line of createInterface({ input: process.stdin })) {
  if (line === 'mem') {
    gc()
    gc()
    const { rss, heapUsed, external, arrayBuffers } = process.memoryUsage()
    process.stdout.write(`${JSON.stringify({ rss, heapUsed, external, arrayBuffers })}\n`)
  } else if (line.startsWith('block ')) {
    const until = Date.now() + Number(line.slice(6))
    while (Date.now() < until); // busy on purpose
    process.stdout.write('"blocked"\n')
  } else if (line === 'close') break
}
await server.close()
await local.close()
process.exit(0)
