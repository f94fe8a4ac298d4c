import { timerMs, type Call } from './deadline.ts'
import { transportError } from './transportError.ts'

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason)
    const onAbort = () => {
      clearTimeout(id)
      reject(signal.reason)
    }
    const id = setTimeout(() => {
      signal.removeEventListener('abort', onAbort)
      resolve()
    }, timerMs(ms))
    signal.addEventListener('abort', onAbort, { once: true })
  })
}

/**
 * Settles like `work`, or rejects with the signal's reason as soon as it aborts: a `fetch`
 * (or body read) that ignores its signal cannot outlive the deadline.
 */
export function untilAborted<T>(signal: AbortSignal, work: Promise<T>): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason)
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason)
    signal.addEventListener('abort', onAbort, { once: true })
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort)
        resolve(value)
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort)
        reject(error)
      },
    )
  })
}

/**
 * Waits `ms` within a call: when the call's deadline or the caller's abort ends the wait, it
 * throws that call's `timeout` or `aborted` error, saying what it was waiting for (`what`).
 */
export const pause = (ms: number, call: Call, what: string): Promise<void> =>
  sleep(ms, call.signal).catch((reason: unknown) => {
    throw transportError(reason, call, what)
  })
