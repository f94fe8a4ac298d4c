import type { ClientHooks } from './types.ts'
import { invalid, isRecord } from './_internal/check.ts'

/**
 * What `createClient`'s `hooks` option takes: built by {@link requestHooks}. The transport
 * calls it with ofetch's request context (which holds the headers, so it never leaves the SDK).
 */
export type RequestHooks = (context: unknown, attempt: number, error?: string) => void

type Context = { request: unknown; options: { method?: string }; response?: Response & { _data?: any } }

/**
 * Logging hooks for `createClient({ hooks: requestHooks({ onRequest, onResponse }) })`: each
 * attempt of each API request is reported as a summary (method, URL without its query,
 * attempt, status, request id, duration, error code), never headers, query or body, so no key
 * or token. An opt-in import: clients without hooks do not carry the summaries.
 *
 * @param hooks - `onRequest` (before each attempt) and `onResponse` (after each attempt, failed or not).
 * @returns The value for `createClient`'s `hooks` option.
 * @example
 * ```ts
 * const client = createClient({ apiKey: 'akm-xxx', hooks: requestHooks({ onResponse: (e) => console.log(e.method, e.url, e.status, e.durationMs) }) })
 * ```
 */
/* @__NO_SIDE_EFFECTS__ */
export function requestHooks(hooks: ClientHooks): RequestHooks {
  if (!isRecord(hooks)) invalid('hooks', '{ onRequest?, onResponse? }')
  for (const name of ['onRequest', 'onResponse'] as const) if (hooks[name] !== undefined && typeof hooks[name] !== 'function') invalid(`hooks.${name}`, 'a function')
  const started = new WeakMap<object, number>()
  return (context, attempt, error) => {
    const ctx = context as Context
    const event = { method: ctx.options.method ?? 'GET', url: String(ctx.request).split('?')[0]!, attempt }
    if (!ctx.response && !error) {
      started.set(ctx, Date.now())
      return hooks.onRequest?.(event)
    }
    const data = ctx.response?._data
    const status = ctx.response?.status ?? 0
    // The failure: the transport's error code, else the service's code of a failed answer.
    const failure = error ?? ((status >= 400 || data?.success === false) && String(data?.code ?? data?.Code ?? 'failed'))
    hooks.onResponse?.({
      ...event,
      status,
      requestId: ctx.response?.headers.get('x-request-id') ?? '',
      durationMs: Date.now() - (started.get(ctx) ?? Date.now()),
      ...(failure ? { error: failure } : {}),
    })
  }
}
