// AGB Local in a worker thread (its own V8 heap), served over loopback: lets a test measure the
// SDK's heap alone. Loaded by localWorker.ts; TypeScript sources through tsx's loader.
import { parentPort, workerData } from 'node:worker_threads'
import { register } from 'tsx/esm/api'

register()
const { createAgbLocal, serve } = await import('../../server/index.ts')
const local = createAgbLocal(workerData?.options ?? {})
const server = await serve(local, { port: 0 })
parentPort.on('message', async (message) => {
  if (message.type === 'stats') {
    parentPort.postMessage({ type: 'stats', id: message.id, live: local.liveSessions(), processes: local.sessionProcessCount(), requests: local.requests.length })
  } else if (message.type === 'close') {
    await server.close()
    await local.close()
    parentPort.postMessage({ type: 'closed' })
  }
})
parentPort.postMessage({ type: 'ready', url: server.url, apiKey: local.apiKey })
