// Streaming: watch output as it happens, and run a long job in the background.
//   1. streamCode prints each line of a running Python program as it is produced;
//   2. spawn starts a shell job, and attachProcess (as a later request would) reads its output.
// Configuration from the environment: AGB_API_KEY, AGB_ENDPOINT, AGB_IMAGE_ID.
// Node 20 has no global WebSocket: there the example uses the `ws` package (npm i ws).
import { attachProcess, clientFromEnv, createSession, deleteSession, spawn, streamCode } from 'agb-micro'

const webSocket = (globalThis as { WebSocket?: unknown }).WebSocket ? undefined : ((await import('ws')).WebSocket as never)
const client = clientFromEnv(process.env, webSocket ? { webSocket } : {})
const session = await createSession(client, { imageId: process.env.AGB_IMAGE_ID ?? 'agb-code-space-1' })
try {
  const started = Date.now()
  const code = "import time\nfor step in range(5):\n    print(f'step {step}', flush=True)\n    time.sleep(0.2)\n'done'"
  for await (const event of streamCode(client, session, code)) {
    const at = `${String(Date.now() - started).padStart(5)} ms`
    if (event.type === 'stdout' || event.type === 'stderr') console.log(`${at} ${event.type}: ${event.text.trimEnd()}`)
    else if (event.type === 'result') console.log(`${at} result: ${event.result.text}`)
    else if (event.type === 'error') console.log(`${at} error: ${event.error.name}: ${event.error.value}`)
    else console.log(`${at} end: ${event.status}`)
  }

  const job = await spawn(client, session, 'for i in 1 2 3; do echo "job $i"; sleep 0.2; done')
  const stored = JSON.stringify(job) // what a Worker would keep in KV between requests
  console.log(`job started: pid ${job.pid}`)
  const again = attachProcess(client, JSON.parse(stored))
  for await (const chunk of again.output()) for (const line of chunk.text.split('\n').filter(Boolean)) console.log(`job output: ${line}`)
  console.log(`job exit code: ${await again.wait()}`)
} finally {
  await deleteSession(client, session)
  console.log('session deleted')
}
