// Section 5: large data. writeFile/readFile through the chunked file tools (50 KiB per call)
// against real AGB Local over loopback, and uploadFile/downloadFile of 100 MB through presigned
// URLs with streamed bodies in a child process (fixtures/transfer.mjs) that samples its memory.
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { createClient, createSession, deleteSession, readFile, writeFile } from 'agb-micro'
import { FIXTURES, childResult, fmtMiB, fmtMs, median, reason, runChild, withTimeout, type Row } from './lib.ts'
import type { LocalTarget } from './overhead.ts'

const MB = 1_000_000

/** Random ASCII text (base64 alphabet) of exactly `bytes` bytes. */
const randomText = (bytes: number) => randomBytes(Math.ceil((bytes * 3) / 4) + 3).toString('base64').slice(0, bytes)

const mbps = (bytes: number, ms: number) => `${(bytes / MB / (ms / 1000)).toFixed(1)} MB/s`

/** All rows of section 5. */
export async function largeDataRows(target: LocalTarget): Promise<Row[]> {
  const rows: Row[] = []
  const client = createClient({ apiKey: target.local.apiKey, endpoint: target.url })
  let session: Awaited<ReturnType<typeof createSession>> | undefined
  try {
    session = await withTimeout(createSession(client, { imageId: 'agb-code-space-1' }), 30_000, 'createSession')
    const s = session
    for (const [size, reps] of [[1 * MB, 3], [10 * MB, 2]] as const) {
      const text = randomText(size)
      const path = `/home/user/agb-bench-${size / MB}mb.txt`
      const label = `${size / MB} MB`
      const times = { write: [] as number[], read: [] as number[] }
      let failure: { op: 'write' | 'read'; error: unknown } | undefined
      for (let i = 0; i < reps && !failure; i++) {
        let started = performance.now()
        try {
          await withTimeout(writeFile(client, s, path, text), 60_000, `writeFile ${label}`)
          times.write.push(performance.now() - started)
        } catch (error) {
          failure = { op: 'write', error }
          break
        }
        started = performance.now()
        try {
          const back = await withTimeout(readFile(client, s, path), 60_000, `readFile ${label}`)
          if (back.length !== text.length || back !== text) throw new Error(`readFile returned ${back.length} characters that differ from the ${text.length} written`)
          times.read.push(performance.now() - started)
        } catch (error) {
          failure = { op: 'read', error }
        }
      }
      const calls = Math.ceil(size / 51_200)
      for (const op of ['write', 'read'] as const) {
        const what = `${op}File ${label} random text, AGB Local over loopback (chunked tools)`
        const t = times[op]
        if (t.length) rows.push({ id: '5a', what, result: mbps(size, median(t)), note: `${fmtMs(median(t))} per file; ${calls} ${op}_file calls of ≤ 50 KiB${op === 'read' ? ' + get_file_info' : ''}`, runs: String(t.length) })
        else rows.push({ id: '5a', what, result: `n/a (${reason(failure?.op === op ? failure.error : `not run: writeFile failed`)})`, note: '', runs: '-' })
      }
    }
  } catch (error) {
    rows.push({ id: '5a', what: 'writeFile/readFile 1 MB and 10 MB', result: `n/a (${reason(error)})`, note: '', runs: '-' })
  } finally {
    if (session) await withTimeout(deleteSession(client, session), 30_000, 'deleteSession').catch(() => undefined)
  }

  // 100 MB through presigned URLs, streamed, in a child so memory figures are the client's.
  const bytes = 100 * MB
  try {
    const run = await runChild(process.execPath, ['--expose-gc', join(FIXTURES, 'transfer.mjs')], {
      env: { AGB_ENDPOINT: target.url, AGB_API_KEY: target.local.apiKey, BENCH_BYTES: String(bytes), BENCH_REPS: '3', BENCH_BUDGET_MS: '30000' },
      timeoutMs: 90_000,
    })
    type Op = { ms: number; rss: number; heap: number; buffers: number; runs: number }
    const r = childResult<{ upload: Op; download: Op }>(run, 'transfer.mjs')
    for (const [op, m, how] of [
      ['uploadFile', r.upload, 'ReadableStream body of 64 KiB chunks'],
      ['downloadFile', r.download, "format 'stream', read chunk by chunk"],
    ] as const) {
      rows.push({
        id: '5b',
        what: `${op} 100 MB via presigned URL over loopback (${how})`,
        result: mbps(bytes, m.ms),
        note: `${fmtMs(m.ms)} incl. sync; client peak growth: RSS ${fmtMiB(m.rss)}, heapUsed ${fmtMiB(m.heap)}, arrayBuffers ${fmtMiB(m.buffers)}${m.buffers > bytes / 2 ? ' (⚠ most of the file is held in memory)' : ''} (sampled every 50 ms after a minor GC, Node ${process.version})`,
        runs: String(m.runs),
      })
    }
  } catch (error) {
    for (const op of ['uploadFile', 'downloadFile']) rows.push({ id: '5b', what: `${op} 100 MB via presigned URL over loopback (streamed)`, result: `n/a (${reason(error)})`, note: '', runs: '-' })
  }
  return rows
}
