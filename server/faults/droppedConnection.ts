const DROPPED = Symbol.for('agb-local.dropped-connection')

/**
 * The error a `drop` fault rejects with: a `TypeError('fetch failed')` like the one fetch
 * throws when the server closes the socket, marked so `serve()` destroys the connection
 * instead of answering.
 */
export function droppedConnection(): TypeError {
  const cause = Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' })
  return Object.assign(new TypeError('fetch failed', { cause }), { [DROPPED]: true })
}

/** True for the error of {@link droppedConnection}. */
export function isDroppedConnection(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[DROPPED] === true
}
