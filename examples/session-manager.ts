// Named sessions (the guide's SessionManager), without a class: a Map of name → session and
// three small functions. Whatever happens, cleanupAll() deletes every session that was created.
//
//   AGB_API_KEY=... npx tsx examples/session-manager.ts
//
// Configuration: AGB_API_KEY (required), AGB_ENDPOINT (e.g. an AGB Local URL), AGB_IMAGE_ID.
import { clientFromEnv, createSession, deleteSession, runCode, type Session } from 'agb-micro'

const client = clientFromEnv(process.env)
const sessions = new Map<string, Session>()

/** Creates a session and remembers it under `name`. */
async function create(name: string, imageId = process.env.AGB_IMAGE_ID ?? 'agb-code-space-1'): Promise<Session> {
  const session = await createSession(client, { imageId, labels: { manager: 'example', name } })
  sessions.set(name, session)
  console.log(`created session ${name}: ${session.id}`)
  return session
}

/** The session remembered under `name`, if any. */
const get = (name: string): Session | undefined => sessions.get(name)

/** Deletes every remembered session (in parallel); a failed deletion is reported, not thrown. */
async function cleanupAll(): Promise<void> {
  await Promise.all(
    [...sessions].map(([name, session]) =>
      deleteSession(client, session).then(
        () => console.log(`deleted session ${name}`),
        (error: Error) => console.error(`error deleting session ${name}: ${error.message}`),
      ),
    ),
  )
  sessions.clear()
}

try {
  await create('development')
  await create('testing')

  const dev = await runCode(client, get('development')!, "print('Development environment')")
  const test = await runCode(client, get('testing')!, "print('Testing environment')")
  console.log(`development says: ${dev.stdout.trim()}`)
  console.log(`testing says: ${test.stdout.trim()}`)
} finally {
  await cleanupAll()
}
