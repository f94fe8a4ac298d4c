import type { LocalConfig } from '../config.ts'
import type { KernelEvent } from '../kernels/createKernel.ts'
import type { Session } from '../sessions/Session.ts'

/** Hears a tool call's output as it is printed (run_code through the API). */
export type OutputTap = (session: Session, requestId: string, event: KernelEvent) => void

/**
 * The live-output listener of each AGB Local (keyed by its config object), present only while a
 * console page is open: runToolCall passes it to the tool as `onEvent`, so with no page open a
 * tool call runs exactly as without a console.
 */
export const outputTaps = new WeakMap<LocalConfig, OutputTap>()
