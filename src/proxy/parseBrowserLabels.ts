import * as v from 'valibot'
import { ProxyRefusal } from './ProxyRefusal.ts'

/** Labels: non-blank string keys and values (both official SDKs check this client-side). */
export const ProxyLabelsSchema = v.record(
  v.pipe(v.string(), v.trim(), v.nonEmpty('label keys must not be blank')),
  v.pipe(v.string('label values must be strings'), v.trim(), v.nonEmpty('label values must not be blank')),
)

/**
 * Parses labels a browser sent (a JSON-encoded object of non-blank strings, as createSession's
 * `labels`, SetLabel's `Labels` and ListSession's `labels` carry them) and refuses any attempt
 * to change one of the proxy's own labels: they bind sessions to clients and keep them counted.
 *
 * @param raw - The parameter's value; absent or empty means no labels.
 * @param field - Its name, for the message.
 * @param own - The proxy's labels for this client.
 * @returns The browser's labels.
 * @throws ProxyRefusal 400 when malformed, 403 when it changes a label of the proxy.
 */
export function parseBrowserLabels(raw: unknown, field: string, own: Readonly<Record<string, string>>): Record<string, string> {
  if (raw === undefined || raw === null || raw === '') return {}
  let parsed: unknown
  try {
    parsed = typeof raw === 'string' ? JSON.parse(raw) : undefined
  } catch {
    parsed = undefined
  }
  const labels = v.safeParse(ProxyLabelsSchema, parsed)
  if (!labels.success) throw new ProxyRefusal(400, 'InvalidParameter', `${field} must be a JSON-encoded object of non-blank strings`)
  for (const [key, value] of Object.entries(labels.output)) {
    if (Object.hasOwn(own, key) && own[key] !== value) throw new ProxyRefusal(403, 'Forbidden', `label ${key} is set by the proxy and cannot be changed`)
  }
  return labels.output
}
