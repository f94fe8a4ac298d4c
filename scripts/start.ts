// `npm start`: runs examples/quickstart.ts. With AGB_API_KEY set it talks to the real cloud
// (or AGB_ENDPOINT); otherwise it starts an AGB Local on 127.0.0.1 for the run, no key needed.
import { createAgbLocal, serve } from '../server/index.ts'

if (process.env.AGB_API_KEY) {
  console.log(`Using ${process.env.AGB_ENDPOINT ?? 'the AGB cloud'} (AGB_API_KEY is set)`)
  await import('../examples/quickstart.ts')
} else {
  const local = createAgbLocal()
  const server = await serve(local)
  console.log(`AGB Local listening on ${server.url} (started for this run)`)
  process.env.AGB_ENDPOINT = server.url
  process.env.AGB_API_KEY = local.apiKey
  // AGB Local's embedded object store stands in for OSS.
  process.env.AGB_OSS_ENDPOINT = local.oss.endpoint(server.url)
  process.env.AGB_OSS_ACCESS_KEY_ID = local.oss.accessKeyId
  process.env.AGB_OSS_ACCESS_KEY_SECRET = local.oss.accessKeySecret
  process.env.AGB_OSS_BUCKET = local.oss.bucket
  try {
    await import('../examples/quickstart.ts')
  } finally {
    await server.close()
    await local.close()
  }
}
