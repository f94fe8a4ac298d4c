// Bun: create a session, run Python, run a command, delete the session.
//
//   AGB_API_KEY=... bun run examples/bun.ts
//
// Configuration: AGB_API_KEY (required), AGB_ENDPOINT (e.g. an AGB Local URL), AGB_IMAGE_ID.
import { clientFromEnv, createSession, exec, runCode } from 'agb-micro'

const client = clientFromEnv(Bun.env)

{
  // `await using`: the session is deleted when this block exits, however it exits.
  await using session = await createSession(client, { imageId: Bun.env.AGB_IMAGE_ID ?? 'agb-code-space-1' })
  console.log(`session created: ${session.id}`)

  const py = await runCode(client, session, "import sys\nprint('Hello from Python', sys.version.split()[0])\n6 * 7")
  console.log(`python stdout: ${py.stdout.trim()}`)
  console.log(`python result: ${py.text}`)

  const sh = await exec(client, session, 'echo "hello from $(uname -s)"')
  console.log(`command exit ${sh.exitCode}: ${sh.stdout.trim()}`)
}
console.log(`session deleted (Bun ${Bun.version})`)
