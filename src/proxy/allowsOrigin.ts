const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])

/**
 * Cross-site request forgery check for state-changing requests (anything but GET, HEAD,
 * OPTIONS). CORS alone does not stop them: a `text/plain` POST from any page is sent, with
 * the user's cookies, without a preflight; CORS only hides the answer. So:
 *
 * - an `Origin` header (every current browser sends one on a POST) must be the request's own
 *   origin or be listed in `origins` (`'*'`: any); `Origin: null` (sandboxed frames, `file:`)
 *   is foreign unless `'null'` is listed;
 * - without `Origin`, a `Sec-Fetch-Site` of `cross-site` or `same-site` is refused;
 * - with neither header the caller is not a browser acting for a user (a server, a script,
 *   curl): it cannot ride on a visitor's cookies, and `authorize` alone decides.
 *
 * @param request - The incoming request.
 * @param origins - The proxy's `origins` option.
 * @returns `true` when the request may go on.
 */
export function allowsOrigin(request: Request, origins: '*' | readonly string[] | undefined): boolean {
  if (SAFE_METHODS.has(request.method)) return true
  const origin = request.headers.get('origin')
  if (origin !== null) {
    if (origins === '*') return true
    if (origins?.includes(origin)) return true
    return origin === new URL(request.url).origin
  }
  const site = request.headers.get('sec-fetch-site')
  return site !== 'cross-site' && site !== 'same-site'
}
