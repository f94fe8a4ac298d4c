/**
 * A request the proxy refuses: the HTTP status and the envelope `code` a browser's client maps
 * to an `AgbError` (401/403 → `unauthorized`, 429 → `rate_limited`, ...). Thrown inside the
 * handler and turned into the answer at its edge, so no refusal can escape as an exception.
 */
export class ProxyRefusal {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly message: string,
  ) {}
}
