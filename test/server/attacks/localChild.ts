// AGB Local alone in a child process, for attacks that measure the server's own memory
// (/proc/<pid>/status), with the options given as JSON in argv[2]: prints one JSON line
// {url, apiKey, pid} once it listens, then serves until its stdin closes (so it never outlives
// the test). On SIGUSR2 (started with --expose-gc) it collects garbage and prints its memory
// as one JSON line: what it retains. Started by startLocalChild (childLocal.ts).
import { createAgbLocal, serve } from '../../../server/index.ts'

const local = createAgbLocal(JSON.parse(process.argv[2] ?? '{}'))
const server = await serve(local)
process.stdout.write(JSON.stringify({ url: server.url, apiKey: local.apiKey, pid: process.pid }) + '\n')
process.on('SIGUSR2', () => {
  ;(globalThis as { gc?: () => void }).gc?.()
  process.stdout.write(JSON.stringify(process.memoryUsage()) + '\n')
})
process.stdin.resume()
process.stdin.on('end', async () => {
  await server.close()
  await local.close()
  process.exit(0)
})
