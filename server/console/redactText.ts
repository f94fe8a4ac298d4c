/** What replaces a secret in anything the console shows. */
export const REDACTED = '[redacted]'

// Presigned URL signatures and credentials (SigV4 and the older `Signature=` form), bearer keys
// and token-like JSON fields: each keeps its name so the reader sees that something was there.
const SIGNED_PARAM = /([?&](?:X-Amz-Signature|X-Amz-Credential|X-Amz-Security-Token|Signature|OSSAccessKeyId|token|accessToken|access_token))=[^&\s"'<>\\]*/gi
const BEARER = /\b(Bearer)\s+[^\s"'\\]+/gi
const SECRET_FIELD = /("(?:[A-Za-z_-]*(?:token|apiKey|api_key|secret|password|authorization|signature|credential)[A-Za-z_-]*)"\s*:\s*)"(?:[^"\\]|\\.)*"/gi

/**
 * Removes secrets from text bound for the console page: every given secret string (the API key,
 * session tokens) wherever it appears, presigned URL signatures and credentials, bearer values,
 * and the values of JSON fields whose name says token, key, secret, password or signature.
 * Secrets shorter than 8 characters are ignored (they would blank out ordinary words).
 */
export function redactText(text: string, secrets: Iterable<string>): string {
  let out = text
  for (const secret of secrets) if (secret.length >= 8 && out.includes(secret)) out = out.replaceAll(secret, REDACTED)
  return out.replace(SIGNED_PARAM, `$1=${REDACTED}`).replace(BEARER, `$1 ${REDACTED}`).replace(SECRET_FIELD, `$1"${REDACTED}"`)
}
