import { AgbError } from './errors.ts'
import { createClient, type Client, type ClientOptions } from './client.ts'

/**
 * Creates a client from an environment-like object: a Worker's `env`, `process.env`,
 * `Deno.env.toObject()`, `import.meta.env`. Reads `AGB_API_KEY` (required), `AGB_ENDPOINT`
 * and `AGB_TIMEOUT_MS`. The SDK never reads the environment by itself: you pass it in (with
 * least-privilege Deno, pass `{ AGB_API_KEY: Deno.env.get('AGB_API_KEY') }` and allow just that).
 *
 * @param env - An object of environment variables.
 * @param overrides - Options that win over the environment (e.g. `fetch`, `headers`).
 * @returns A {@link Client}.
 * @throws AgbError `invalid_input` naming `AGB_API_KEY` when it is missing, or `AGB_TIMEOUT_MS` when it is not a number.
 * @example
 * ```ts
 * export default { fetch: (req, env) => handle(req, clientFromEnv(env)) }
 * ```
 */
export function clientFromEnv(env: object, overrides?: Partial<ClientOptions>): Client {
  const read = (name: string) => {
    const value = (env as Record<string, unknown> | undefined)?.[name]
    return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined
  }
  const apiKey = overrides?.apiKey ?? read('AGB_API_KEY')
  if (!apiKey) throw new AgbError('invalid_input', 'Missing environment variable AGB_API_KEY (your AGB API key)')
  const timeoutText = read('AGB_TIMEOUT_MS')
  const timeout = timeoutText === undefined ? undefined : Number(timeoutText)
  if (timeout !== undefined && !(Number.isInteger(timeout) && timeout > 0)) {
    throw new AgbError('invalid_input', `Invalid environment variable AGB_TIMEOUT_MS: expected a positive whole number of milliseconds, got "${timeoutText!.slice(0, 20)}"`)
  }
  const endpoint = read('AGB_ENDPOINT')
  return createClient({
    apiKey,
    ...(endpoint ? { endpoint } : {}),
    ...(timeout ? { timeout } : {}),
    ...overrides,
  })
}
