import type { ExecutionResult } from '../types.ts'
import { toItem } from '../_internal/toItem.ts'

/**
 * Decodes the results of a code run by MIME kind: `text`, `html`, `markdown`, `png` and
 * `jpeg` (base64), `svg`, `json`, `latex`, `chart` (Vega-Lite), and which one is the main
 * result. `runCode` returns the items as the service sent them (several encodings exist: MIME
 * maps, short keys, JSON strings); this opt-in reads every one of them, so apps that only
 * print text do not carry the decoder.
 *
 * @param result - A `runCode` or `collectCode` result (or its `results` array).
 * @returns One {@link ExecutionResult} per item the service sent.
 * @example
 * ```ts
 * const plot = await runCode(client, session, 'import matplotlib.pyplot as plt\nplt.plot([1, 2]); plt.show()')
 * const png = richResults(plot).find((r) => r.png)?.png // base64
 * ```
 */
export function richResults(result: { results: readonly unknown[] } | readonly unknown[]): ExecutionResult[] {
  const items = Array.isArray(result) ? result : (result as { results?: unknown } | undefined)?.results
  return (Array.isArray(items) ? items : []).map(toItem).filter((r): r is ExecutionResult => r !== undefined)
}
