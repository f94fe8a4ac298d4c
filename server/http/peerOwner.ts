import { readFile } from 'node:fs/promises'
import { endianness, networkInterfaces } from 'node:os'
import type { Socket } from 'node:net'

/**
 * Who is at the other end of an accepted TCP connection, as far as this host can tell:
 * - `remote`: another machine, or a host without `/proc/net/tcp` (nothing to learn);
 * - `local`: a socket of this host, created by host user `uid`;
 * - `gone`: a socket of this host that no process holds any more (closed right after sending,
 *   or already in TIME_WAIT): its owner cannot be known, and a request it left behind must not
 *   run unchecked.
 */
export type PeerOwner = { kind: 'remote' } | { kind: 'local'; uid: number } | { kind: 'gone' }

/** /proc/net/tcp state code of TIME_WAIT: such entries no longer carry their owner (uid 0). */
const TIME_WAIT = '06'
const LITTLE_ENDIAN = endianness() === 'LE'
const INTERFACES_TTL_MS = 5_000

/** An address as 16 bytes (IPv4 as `::ffff:a.b.c.d`), or null when it does not parse. */
function addressBytes(address: string): Uint8Array | null {
  const plain = address.replace(/%.*$/, '')
  const out = new Uint8Array(16)
  const v4 = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(plain)
  if (v4) {
    out[10] = 0xff
    out[11] = 0xff
    for (let i = 0; i < 4; i++) out[12 + i] = Number(v4[i + 1])
    return out
  }
  let text = plain
  const tail = /:(\d+\.\d+\.\d+\.\d+)$/.exec(text)
  const words: number[] = []
  if (tail) {
    const b = addressBytes(tail[1]!)!
    text = `${text.slice(0, tail.index)}:${((b[12]! << 8) | b[13]!).toString(16)}:${((b[14]! << 8) | b[15]!).toString(16)}`
  }
  const halves = text.split('::')
  if (halves.length > 2) return null
  const head = halves[0] ? halves[0].split(':') : []
  const rest = halves.length === 2 && halves[1] ? halves[1].split(':') : []
  const fill = halves.length === 2 ? 8 - head.length - rest.length : 0
  for (const w of [...head, ...Array<string>(fill).fill('0'), ...rest]) words.push(parseInt(w, 16))
  if (words.length !== 8 || words.some((w) => !(w >= 0 && w <= 0xffff))) return null
  words.forEach((w, i) => {
    out[2 * i] = w >> 8
    out[2 * i + 1] = w & 0xff
  })
  return out
}

const hex2 = (n: number) => n.toString(16).toUpperCase().padStart(2, '0')
/** One 32-bit word as the kernel prints it: `%08X` of the network-order word read natively. */
const word = (b: Uint8Array, at: number) => (LITTLE_ENDIAN ? [3, 2, 1, 0] : [0, 1, 2, 3]).map((i) => hex2(b[at + i]!)).join('')
const port = (p: number) => p.toString(16).toUpperCase().padStart(4, '0')
const isV4Mapped = (b: Uint8Array) => b.slice(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff

/** `addr:port` as /proc/net/tcp (IPv4 sockets, when `v4`) or /proc/net/tcp6 prints it. */
function procKey(b: Uint8Array, p: number, v4: boolean): string {
  return v4 ? `${word(b, 12)}:${port(p)}` : `${word(b, 0)}${word(b, 4)}${word(b, 8)}${word(b, 12)}:${port(p)}`
}

let interfaces: { at: number; set: Set<string> } | undefined
/** Loopback, or an address of one of this host's interfaces (a socket of this host may use it). */
function isLocalAddress(b: Uint8Array): boolean {
  if (isV4Mapped(b) && b[12] === 127) return true
  if (b.slice(0, 15).every((x) => x === 0) && b[15] === 1) return true // ::1
  const now = Date.now()
  if (!interfaces || now - interfaces.at > INTERFACES_TTL_MS) {
    const set = new Set<string>()
    for (const list of Object.values(networkInterfaces())) {
      for (const info of list ?? []) {
        const bytes = addressBytes(info.address)
        if (bytes) set.add(Buffer.from(bytes).toString('hex'))
      }
    }
    interfaces = { at: now, set }
  }
  return interfaces.set.has(Buffer.from(b).toString('hex'))
}

interface Entry {
  uid: number
  state: string
  inode: string
}
type Tables = Map<string, Entry>

/**
 * Reading the tables costs the kernel a walk of its whole connection hash (milliseconds on a
 * large machine, however few connections there are), so reads run off the event loop and are
 * shared: every lookup waits for the next read that starts after it was asked for (it must see
 * the connection just accepted), and all lookups asked while one read runs share the next one.
 * A flood of connections thus costs at most one read at a time, never one per connection.
 */
let waiting: Array<(tables: Tables | undefined) => void> = []
let reading = false
let unreadable = false

function nextTables(): Promise<Tables | undefined> {
  return new Promise((resolve) => {
    waiting.push(resolve)
    if (!reading) startRead()
  })
}

function startRead(): void {
  const batch = waiting
  waiting = []
  reading = true
  void readTables().then((tables) => {
    reading = false
    for (const resolve of batch) resolve(tables)
    if (waiting.length) startRead()
  })
}

async function readTables(): Promise<Tables | undefined> {
  const map: Tables = new Map()
  let readAny = false
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string
    try {
      text = await readFile(file, 'latin1')
    } catch {
      continue // no IPv6, or no /proc at all
    }
    readAny = true
    for (const line of text.split('\n').slice(1)) {
      // sl local rem st tx:rx tr:when retrnsmt uid timeout inode ...
      const f = line.trim().split(/\s+/)
      if (f.length < 10) continue
      map.set(`${f[1]}>${f[2]}`, { state: f[3]!, uid: Number(f[7]), inode: f[9]! })
    }
  }
  if (!readAny) unreadable = true
  return readAny ? map : undefined
}

/**
 * Finds the owner of the peer of `socket` (an accepted connection) in /proc/net/tcp and
 * /proc/net/tcp6: the entry whose local end is the peer's address and whose remote end is ours;
 * its `uid` column is the host user that created the socket. Known at once for a remote peer;
 * a promise for a local one (see {@link nextTables} for the cost).
 */
export function peerOwner(socket: Socket): PeerOwner | Promise<PeerOwner> {
  if (unreadable || !socket.remoteAddress || !socket.localAddress || !socket.remotePort || !socket.localPort) return { kind: 'remote' }
  const peer = addressBytes(socket.remoteAddress)
  const self = addressBytes(socket.localAddress)
  if (!peer || !self || !isLocalAddress(peer)) return { kind: 'remote' }
  // The peer may be an IPv4 socket (/proc/net/tcp) or an IPv6 one (/proc/net/tcp6, a v4-mapped
  // address when it reached an IPv4 address through a dual-stack socket).
  const keys = [`${procKey(peer, socket.remotePort, false)}>${procKey(self, socket.localPort, false)}`]
  if (isV4Mapped(peer) && isV4Mapped(self)) keys.unshift(`${procKey(peer, socket.remotePort, true)}>${procKey(self, socket.localPort, true)}`)
  return nextTables().then((tables): PeerOwner => {
    if (!tables) return { kind: 'remote' }
    const entry = keys.map((k) => tables.get(k)).find(Boolean)
    if (!entry || entry.state === TIME_WAIT || entry.inode === '0') return { kind: 'gone' }
    return { kind: 'local', uid: entry.uid }
  })
}
