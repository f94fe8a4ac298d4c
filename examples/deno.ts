// Deno: create a session, run Python, run a command, delete the session.
//
//   AGB_API_KEY=... deno run --allow-net --allow-env examples/deno.ts
//
// From a checkout, `agb-micro` resolves from node_modules (`--node-modules-dir=manual`); in your own
// project, `deno add npm:agb-micro`. `Deno.env.toObject()` needs `--allow-env` for every variable:
// to grant only what is read, pass `{ AGB_API_KEY: Deno.env.get('AGB_API_KEY'), ... }` instead.
// Configuration: AGB_API_KEY (required), AGB_ENDPOINT (e.g. an AGB Local URL), AGB_IMAGE_ID.
import { clientFromEnv, createSession, exec, runCode } from 'agb-micro'

const env = Deno.env.toObject()
const client = clientFromEnv(env)

{
  // `await using`: the session is deleted when this block exits, however it exits.
  await using session = await createSession(client, { imageId: env.AGB_IMAGE_ID ?? 'agb-code-space-1' })
  console.log(`session created: ${session.id}`)

  const py = await runCode(client, session, "import sys\nprint('Hello from Python', sys.version.split()[0])\n6 * 7")
  console.log(`python stdout: ${py.stdout.trim()}`)
  console.log(`python result: ${py.text}`)

  const sh = await exec(client, session, 'echo "hello from $(uname -s)"')
  console.log(`command exit ${sh.exitCode}: ${sh.stdout.trim()}`)
}
console.log(`session deleted (Deno ${Deno.version.deno})`)
