import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { connect } from 'node:net'
import type { Socket } from 'node:net'
import { createInterface } from 'node:readline'
import type { AgbLocalOptions } from '../../../server/index.ts'
import type { ServePolicy } from '../../../server/types.ts'

/** A raw TCP connection to a server, for requests no well-behaved client would send. */
export interface RawConnection {
  socket: Socket
  /** Everything received so far. */
  received(): string
  /** HTTP status of the first answer (0 while none). */
  status(): number
  /** Resolves once the server closed the connection (FIN or reset), with ms since connect. */
  closed: Promise<number>
  /** Resolves with the status once a full answer head arrived (rejects after `timeoutMs`). */
  answered(timeoutMs?: number): Promise<number>
}

/** Connects to 127.0.0.1:`port` and sends `head` (and nothing else) right away. */
export function rawConnect(port: number, head = ''): Promise<RawConnection> {
  return new Promise((resolve, reject) => {
    const started = performance.now()
    let text = ''
    const socket = connect(port, '127.0.0.1')
    const closed = new Promise<number>((done) => socket.once('close', () => done(performance.now() - started)))
    socket.on('error', () => {}) // a reset is an outcome, read through `closed`
    socket.on('data', (chunk) => {
      text += chunk.toString('latin1')
    })
    const status = () => Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0)
    socket.once('connect', () => {
      if (head) socket.write(head)
      resolve({
        socket,
        received: () => text,
        status,
        closed,
        answered: (timeoutMs = 10_000) =>
          new Promise((ok, fail) => {
            const check = () => {
              if (text.includes('\r\n\r\n')) return void ok(status())
              if (performance.now() - started > timeoutMs) return void fail(new Error(`no answer within ${timeoutMs} ms; got ${JSON.stringify(text.slice(0, 200))}`))
              setTimeout(check, 10)
            }
            check()
          }),
      })
    })
    socket.once('error', reject)
  })
}

/** `METHOD path HTTP/1.1` with the given headers, ending the head (`host` first when given). */
export function requestHead(method: string, path: string, headers: Record<string, string | number>): string {
  return `${method} ${path} HTTP/1.1\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`
}

/** Memory of the target process, after two full GCs. */
export interface TargetMemory {
  rss: number
  heapUsed: number
  external: number
  arrayBuffers: number
}

/** AGB Local in a child process (exhaustionTarget.ts): its memory is its own, measurable. */
export interface Target {
  url: string
  port: number
  apiKey: string
  child: ChildProcess
  memory(): Promise<TargetMemory>
  /** Keeps the target's event loop busy for `ms` (resolves when it is free again). */
  block(ms: number): Promise<void>
  close(): Promise<void>
}

/** Starts exhaustionTarget.ts with `options` (and `policy` overriding what `serve()` enforces). */
export async function startTarget(options: Omit<AgbLocalOptions, 'log'> = {}, policy: Partial<ServePolicy> = {}): Promise<Target> {
  const args = ['--expose-gc', 'test/server/attacks/exhaustionTarget.ts', JSON.stringify(options), JSON.stringify(policy)]
  const child = spawn('node_modules/.bin/tsx', args, { stdio: ['pipe', 'pipe', 'inherit'] })
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]()
  const next = async () => {
    const { value, done } = await lines.next()
    if (done) throw new Error('the target process exited')
    return JSON.parse(value as string)
  }
  const info = (await next()) as { url: string; apiKey: string }
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  return {
    url: info.url,
    port: Number(new URL(info.url).port),
    apiKey: info.apiKey,
    child,
    memory: async () => {
      child.stdin!.write('mem\n')
      return (await next()) as TargetMemory
    },
    block: async (ms) => {
      child.stdin!.write(`block ${ms}\n`)
      await next()
    },
    close: async () => {
      child.stdin!.write('close\n')
      const timer = setTimeout(() => child.kill('SIGTERM'), 10_000) // tsx passes it on (SIGKILL would orphan the server)
      await exited
      clearTimeout(timer)
    },
  }
}
