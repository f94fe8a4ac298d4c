// Quickstart: create a session, run Python, run a command, delete the session.
// Configuration comes from the environment: AGB_API_KEY (required), AGB_ENDPOINT (optional,
// e.g. an AGB Local URL), AGB_IMAGE_ID (default agb-code-space-1).
// `npm start` runs this against an AGB Local it starts, or against the cloud when AGB_API_KEY is set.
import { createClient, createSession, deleteSession, exec, runCode } from 'agb-micro'

const client = createClient({ apiKey: process.env.AGB_API_KEY ?? '', endpoint: process.env.AGB_ENDPOINT })
const session = await createSession(client, { imageId: process.env.AGB_IMAGE_ID ?? 'agb-code-space-1' })
console.log(`session created: ${session.id}`)
try {
  const py = await runCode(client, session, "import platform\nprint('Hello from Python', platform.python_version())\n6 * 7")
  console.log(`python stdout: ${py.stdout.trim()}`)
  console.log(`python result: ${py.text}`)

  const sh = await exec(client, session, 'echo "hello from $(uname -s)" && pwd')
  console.log(`command exit ${sh.exitCode}: ${sh.stdout.trim().replace(/\n/g, ' | ')}`)
} finally {
  await deleteSession(client, session)
  console.log('session deleted')
}
