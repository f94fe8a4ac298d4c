// Concurrent sessions (the guide's ThreadPoolExecutor pattern): three tasks, each in its own
// session, run at the same time. withSession deletes each session whatever its task does, and a
// failed task becomes a result instead of sinking the others.
//
//   AGB_API_KEY=... npx tsx examples/concurrent.ts
//
// Configuration: AGB_API_KEY (required), AGB_ENDPOINT (e.g. an AGB Local URL), AGB_IMAGE_ID.
import { clientFromEnv, runCode, withSession, type Language } from 'agb-micro'

const client = clientFromEnv(process.env)
const imageId = process.env.AGB_IMAGE_ID ?? 'agb-code-space-1'

const tasks: Array<{ code: string; language?: Language }> = [
  { code: "print('Task 1:', sum(range(10)))" },
  { code: "console.log('Task 2:', [1, 2, 3].map((x) => x * 2).join(','))", language: 'javascript' },
  { code: "import platform\nprint('Task 3:', platform.system())" },
]

const started = Date.now()
const results = await Promise.all(
  tasks.map((task) =>
    withSession(client, { imageId }, async (session) => {
      const result = await runCode(client, session, task.code, { language: task.language ?? 'python' })
      return { sessionId: session.id, ok: result.success, output: result.error ? `${result.error.name}: ${result.error.value}` : result.stdout.trim() }
    }).catch((error: Error) => ({ sessionId: 'unknown', ok: false, output: `failed: ${error.message}` })),
  ),
)

for (const { sessionId, output } of results) console.log(`Session ${sessionId}: ${output}`)
const succeeded = results.filter((r) => r.ok).length
console.log(`${succeeded}/${tasks.length} tasks succeeded in ${Date.now() - started} ms; no session left behind`)
if (succeeded < tasks.length) process.exitCode = 1
