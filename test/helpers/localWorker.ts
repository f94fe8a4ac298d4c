import { Worker } from 'node:worker_threads'
import type { AgbLocalOptions } from '../../server/index.ts'

/** What the worker-hosted AGB Local reports. */
export interface WorkerStats {
  /** Sessions RUNNING. */
  live: number
  /** Sandbox processes alive. */
  processes: number
  requests: number
}

/** An AGB Local running in a worker thread, served over loopback. */
export interface WorkerLocal {
  url: string
  apiKey: string
  stats(): Promise<WorkerStats>
  close(): Promise<void>
}

/**
 * Starts AGB Local (`createAgbLocal(options)` + `serve`) in a worker thread: the test's own heap
 * (`process.memoryUsage().heapUsed` of this thread) then holds the SDK's objects only.
 */
export async function startLocalWorker(options: Omit<AgbLocalOptions, 'log'> = {}): Promise<WorkerLocal> {
  const worker = new Worker(new URL('./agbLocalWorker.mjs', import.meta.url), { workerData: { options } })
  const ready = await new Promise<{ url: string; apiKey: string }>((resolve, reject) => {
    worker.once('error', reject)
    worker.on('message', (m: { type: string; url: string; apiKey: string }) => {
      if (m.type === 'ready') resolve(m)
    })
  })
  let next = 0
  const pending = new Map<number, (s: WorkerStats) => void>()
  worker.on('message', (m: { type: string; id: number } & WorkerStats) => {
    if (m.type === 'stats') pending.get(m.id)?.({ live: m.live, processes: m.processes, requests: m.requests })
  })
  return {
    ...ready,
    stats: () =>
      new Promise((resolve) => {
        const id = next++
        pending.set(id, (s) => {
          pending.delete(id)
          resolve(s)
        })
        worker.postMessage({ type: 'stats', id })
      }),
    close: async () => {
      const closed = new Promise<void>((resolve) => worker.on('message', (m: { type: string }) => m.type === 'closed' && resolve()))
      worker.postMessage({ type: 'close' })
      await closed
      await worker.terminate()
    },
  }
}
