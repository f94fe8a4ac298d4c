// Quickstart: create a session, run Python, run a command, write and read a file, upload it
// to object storage, delete the session.
// Configuration comes from the environment: AGB_API_KEY (required), AGB_ENDPOINT (optional,
// e.g. an AGB Local URL), AGB_IMAGE_ID (default agb-code-space-1), and for the OSS step
// AGB_OSS_ENDPOINT, AGB_OSS_ACCESS_KEY_ID, AGB_OSS_ACCESS_KEY_SECRET, AGB_OSS_BUCKET.
// `npm start` runs this against an AGB Local it starts (OSS included), or against the cloud
// when AGB_API_KEY is set.
import { clientFromEnv, createSession, deleteSession, exec, ossEnvInit, readFile, runCode, uploadOss, writeFile } from 'agb-micro'

const env = process.env
const client = clientFromEnv(env)
const session = await createSession(client, { imageId: env.AGB_IMAGE_ID ?? 'agb-code-space-1' })
console.log(`session created: ${session.id}`)
try {
  const py = await runCode(client, session, "import platform\nprint('Hello from Python', platform.python_version())\n6 * 7")
  console.log(`python stdout: ${py.stdout.trim()}`)
  console.log(`python result: ${py.text}`)

  const sh = await exec(client, session, 'echo "hello from $(uname -s)" && pwd')
  console.log(`command exit ${sh.exitCode}: ${sh.stdout.trim().replace(/\n/g, ' | ')}`)

  await runCode(client, session, "open('/home/user/report.txt', 'w').write('rows: 42\\n')")
  console.log(`file read: ${(await readFile(client, session, '/home/user/report.txt')).trim()}`)
  await writeFile(client, session, '/home/user/report.txt', 'checked\n', { mode: 'append' })

  if (env.AGB_OSS_ACCESS_KEY_ID && env.AGB_OSS_ACCESS_KEY_SECRET && env.AGB_OSS_BUCKET) {
    await ossEnvInit(client, session, {
      accessKeyId: env.AGB_OSS_ACCESS_KEY_ID,
      accessKeySecret: env.AGB_OSS_ACCESS_KEY_SECRET,
      ...(env.AGB_OSS_ENDPOINT ? { endpoint: env.AGB_OSS_ENDPOINT } : {}),
    })
    const object = `quickstart/${session.id}/report.txt`
    console.log(`oss upload: ${await uploadOss(client, session, { bucket: env.AGB_OSS_BUCKET, object, path: '/home/user/report.txt' })} (${env.AGB_OSS_BUCKET}/${object})`)
  } else {
    console.log('oss upload: skipped (set AGB_OSS_ACCESS_KEY_ID, AGB_OSS_ACCESS_KEY_SECRET and AGB_OSS_BUCKET)')
  }
} finally {
  await deleteSession(client, session)
  console.log('session deleted')
}
