/** Replaces every occurrence of `secret` in text with `[redacted]`. */
export const redact = (value: string, secret: string | undefined): string => (secret && value.includes(secret) ? value.split(secret).join('[redacted]') : value)

/** Short text for messages: service text can be long or contain HTML. */
export const truncate = (text: string, max = 300): string =>
  text.length > max ? `${text.slice(0, max)}… (${text.length - max} more characters)` : text
