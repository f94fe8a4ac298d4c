// Periodic health checks (the guide's SessionMonitor) and recreating a session that stopped
// answering (the guide's "Session Becomes Unresponsive"). To show the recovery, the session is
// released behind the monitor's back before round HEALTH_LOSE_AT, as if it had expired.
//
//   AGB_API_KEY=... npx tsx examples/health-check.ts
//
// Configuration: AGB_API_KEY (required), AGB_ENDPOINT, AGB_IMAGE_ID; HEALTH_ROUNDS (default 5),
// HEALTH_INTERVAL_MS (default 2000), HEALTH_LOSE_AT (default 3; 0 never loses the session).
import { clientFromEnv, createSession, deleteSession, isAgbError, runCode, sessionInfo, type Session, type SessionInfo } from 'agb-micro'

const client = clientFromEnv(process.env)
const imageId = process.env.AGB_IMAGE_ID ?? 'agb-code-space-1'
const rounds = Number(process.env.HEALTH_ROUNDS ?? 5)
const intervalMs = Number(process.env.HEALTH_INTERVAL_MS ?? 2000)
const loseAt = Number(process.env.HEALTH_LOSE_AT ?? 3)

/** Healthy = runs code and still has its resource info. Short timeouts: a hung session fails fast. */
async function check(session: Session): Promise<SessionInfo | undefined> {
  try {
    const probe = await runCode(client, session, "print('health_check')", { timeout: 10_000 })
    if (!probe.success) return undefined
    return await sessionInfo(client, session, { timeout: 10_000 })
  } catch (error) {
    console.log(`  probe failed: ${isAgbError(error) ? error.code : String(error)}`)
    return undefined
  }
}

let session = await createSession(client, { imageId })
console.log(`session created: ${session.id}`)
try {
  for (let round = 1; round <= rounds; round++) {
    if (round === loseAt) {
      await deleteSession(client, session)
      console.log(`(simulation: session ${session.id} released elsewhere)`)
    }
    const info = await check(session)
    if (info) {
      console.log(`health check ${round}: OK (session ${info.sessionId})`)
    } else {
      console.log(`health check ${round}: FAILED, recreating the session`)
      await deleteSession(client, session).catch(() => undefined) // release whatever is left of it
      session = await createSession(client, { imageId })
      console.log(`session recreated: ${session.id}`)
    }
    if (round < rounds) await new Promise((resolve) => setTimeout(resolve, intervalMs))
  }
} finally {
  await deleteSession(client, session)
  console.log(`session deleted: ${session.id}`)
}
