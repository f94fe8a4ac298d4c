/** What a signed id names: a session, or a storage context (file transfer). */
export type IdKind = 'session' | 'context'

/** Signs the ids a proxy hands to a browser and verifies the ids that come back. */
export interface IdSigner {
  /** `<id>~<signature>`: valid only for this kind, this client and this proxy name. */
  sign(kind: IdKind, id: string, client: string): Promise<string>
  /** The upstream id when `signed` was made by {@link IdSigner.sign} for this kind and client, else `undefined`. */
  verify(kind: IdKind, signed: unknown, client: string): Promise<string | undefined>
  /** A stable, non-reversible tag of a client id, for the label that marks its sessions. */
  clientTag(client: string): Promise<string>
}

const SIGNATURE_BYTES = 16
const SEPARATOR = '~'

const toBase64Url = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')

/**
 * Equal-length byte comparison whose time does not depend on where the bytes differ: a
 * browser probing signatures learns nothing from how long a refusal takes.
 */
function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  let diff = 0
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!
  return diff === 0
}

/**
 * An HMAC-SHA-256 signer keyed by `secret`. The signed message is the JSON array
 * `[purpose, kind, name, client, id]`: JSON's quoting makes the fields unambiguous, so no
 * choice of client id or session id can make two different tuples sign alike.
 *
 * @param secret - Key material (the proxy's API key: whoever holds it could call AGB directly anyway).
 * @param name - The proxy's `name`: two proxies with different names do not accept each other's ids.
 * @returns The signer.
 */
export function createIdSigner(secret: string, name: string): IdSigner {
  const encoder = new TextEncoder()
  let key: Promise<CryptoKey> | undefined
  const mac = async (purpose: string, kind: string, client: string, id: string) => {
    key ??= crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign'])
    const message = encoder.encode(JSON.stringify(['agb-micro-proxy', purpose, kind, name, client, id]))
    return new Uint8Array(await crypto.subtle.sign('HMAC', await key, message)).subarray(0, SIGNATURE_BYTES)
  }
  return {
    sign: async (kind, id, client) => `${id}${SEPARATOR}${toBase64Url(await mac('id', kind, client, id))}`,
    async verify(kind, signed, client) {
      if (typeof signed !== 'string') return undefined
      const at = signed.lastIndexOf(SEPARATOR)
      if (at <= 0) return undefined
      const id = signed.slice(0, at)
      // The text is compared, not decoded bytes: base64 has several spellings of the same
      // bytes (the last character's spare bits), and only the proxy's own spelling is valid.
      const expected = encoder.encode(toBase64Url(await mac('id', kind, client, id)))
      return constantTimeEqual(encoder.encode(signed.slice(at + 1)), expected) ? id : undefined
    },
    clientTag: async (client) => toBase64Url(await mac('client', '', client, '')),
  }
}
