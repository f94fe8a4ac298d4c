import type { LocalConfig } from '../config.ts'
import type { Session } from '../sessions/Session.ts'
import { kernelAvailable } from './createKernel.ts'
import type { KernelRun } from './createKernel.ts'
import { kernelFor } from './kernelFor.ts'

/** Languages that used to run as one process per call; they now have kernels too. */
export type OneShotLanguage = 'java' | 'r'

/**
 * Runs java or R code in the session's persistent kernel (state kept between calls, like
 * python's) and returns the whole run at once; `null` when the interpreter is not installed.
 * Kept for callers written when java and R ran one-shot: new code calls
 * `kernelFor(...).execute` with an `onEvent` to stream output as it happens.
 */
export async function runOneShot(config: LocalConfig, session: Session, language: OneShotLanguage, code: string, timeoutMs: number, signal?: AbortSignal): Promise<KernelRun | null> {
  if (!kernelAvailable(config, language)) return null
  return kernelFor(config, session, language).execute(code, signal ? { timeoutMs, signal } : { timeoutMs })
}
