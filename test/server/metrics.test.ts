import { availableParallelism, totalmem } from 'node:os'
import { afterAll, describe, expect, it } from 'vitest'
import { createAgbLocal } from '../../server/index.ts'
import { localClient } from './localClient.ts'

const local = createAgbLocal()
const api = localClient(local)
afterAll(() => local.close())

async function metrics(id: string): Promise<Record<string, any>> {
  const res = await api.callTool(id, 'get_metrics', {})
  expect(res.isError).toBe(false)
  return JSON.parse(res.text)
}

describe('get_metrics', () => {
  it('reports every key of the service with real numbers for the session', async () => {
    const id = await api.createSession()
    await api.runCode(id, 'big = bytearray(64 * 1024 * 1024)\nimport time\nt = time.time()\nwhile time.time() - t < 0.4: pass')
    await api.shell(id, 'head -c 2097152 /dev/zero > /tmp/two-mib')
    const m = await metrics(id)
    expect(Object.keys(m)).toEqual(['cpu_count', 'cpu_used_pct', 'disk_total', 'disk_used', 'mem_total', 'mem_used', 'rx_rate_kbyte_per_s',
      'tx_rate_kbyte_per_s', 'rx_used_kbyte', 'tx_used_kbyte', 'timestamp'])
    expect(m.cpu_count).toBe(availableParallelism())
    expect(m.mem_total).toBe(totalmem())
    expect(m.mem_used).toBeGreaterThan(64 * 1024 * 1024) // the python kernel holds 64 MiB
    expect(m.mem_used).toBeLessThan(m.mem_total)
    expect(m.disk_used).toBeGreaterThanOrEqual(2 * 1024 * 1024)
    expect(m.disk_total).toBeGreaterThan(m.disk_used)
    expect(m.cpu_used_pct).toBeGreaterThan(0)
    expect(m.cpu_used_pct).toBeLessThanOrEqual(100)
    expect(Math.abs(Date.parse(m.timestamp) - Date.now())).toBeLessThan(10_000)
    expect([m.rx_rate_kbyte_per_s, m.tx_rate_kbyte_per_s, m.rx_used_kbyte, m.tx_used_kbyte]).toEqual([0, 0, 0, 0])
  })

  it('reports no memory or CPU for a session without processes, and its CPU since the previous call', async () => {
    const id = await api.createSession()
    const m = await metrics(id)
    expect(m.mem_used).toBe(0)
    expect(m.cpu_used_pct).toBe(0)
    await api.runCode(id, '1')
    expect((await metrics(id)).mem_used).toBeGreaterThan(0)
    await new Promise((r) => setTimeout(r, 200))
    expect((await metrics(id)).cpu_used_pct).toBeLessThan(50) // an idle kernel
  })
})
