// The code under test: a small "agent" step that has Python compute an average in a fresh
// sandbox. run_code is not idempotent, so the SDK does not retry it on its own: the agent
// retries transient failures itself (5xx, 429, network), at most `attempts` times in all.
import { createSession, deleteSession, isAgbError, runCode } from 'agb-micro'
import type { Client } from 'agb-micro'

/** What {@link averageInSandbox} returns. */
export interface Average {
  mean: number
  /** run_code calls it took (1 when nothing failed). */
  attempts: number
}

export async function averageInSandbox(client: Client, numbers: number[], attempts = 3): Promise<Average> {
  const session = await createSession(client, { imageId: 'agb-code-space-1' })
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        const run = await runCode(client, session, `import statistics\nprint(statistics.mean(${JSON.stringify(numbers)}))`)
        if (run.error) throw new Error(`python failed: ${run.error.value}`)
        return { mean: Number(run.stdout.trim()), attempts: attempt }
      } catch (e) {
        if (!isAgbError(e) || !e.retryable || attempt >= attempts) throw e
        await new Promise((resolve) => setTimeout(resolve, 100 * attempt))
      }
    }
  } finally {
    await deleteSession(client, session)
  }
}
