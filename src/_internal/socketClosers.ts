/**
 * Sessions' open WebSockets, by session id, so `deleteSession` can close a session's socket
 * without importing any WebSocket code (keeps its bundle small).
 */
export const socketClosers: Set<(sessionId: string) => void> = /* @__PURE__ */ new Set()
