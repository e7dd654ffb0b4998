import type { JsonValue } from './types.ts'

// Values that look like credentials are never stored: memories are shared across sessions, agents, machines and
// (with the brain or Eruka) teammates. The patterns are the well-known token formats plus `name: value` pairs whose
// name says secret; a false positive costs a clear error message, a false negative costs a leaked key.

const PATTERNS: Array<{ kind: string; pattern: RegExp }> = [
  { kind: 'private key', pattern: /-----BEGIN (?:[A-Z ]+ )?PRIVATE KEY-----/ },
  { kind: 'AWS access key', pattern: /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/ },
  { kind: 'GitHub token', pattern: /\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{60,})\b/ },
  { kind: 'GitLab token', pattern: /\bglpat-[A-Za-z0-9_-]{20,}\b/ },
  { kind: 'Slack token', pattern: /\bxox[abposr]-[A-Za-z0-9-]{10,}\b/ },
  { kind: 'Anthropic key', pattern: /\bsk-ant-[A-Za-z0-9_-]{20,}\b/ },
  { kind: 'OpenAI key', pattern: /\bsk-(?:proj-)?[A-Za-z0-9_-]{32,}\b/ },
  { kind: 'Stripe key', pattern: /\b[sr]k_(?:live|test)_[A-Za-z0-9]{20,}\b/ },
  { kind: 'Google API key', pattern: /\bAIza[0-9A-Za-z_-]{35}\b/ },
  { kind: 'JWT', pattern: /\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/ },
  { kind: 'Eruka service key', pattern: /\beruka_sk_[A-Za-z0-9_]{16,}\b/ },
  { kind: 'password in a URL', pattern: /\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@]+:[^\s@/]{3,}@/i },
  { kind: 'bearer token', pattern: /\bBearer\s+[A-Za-z0-9._~+/-]{20,}=*/ },
  {
    // DB_PASSWORD=…, export GITHUB_TOKEN=…, "apiKey": "…": a secret-sounding name (alone or as the end of a longer
    // one, with _ or camelCase) assigned a value of 8+ characters.
    kind: 'secret assignment',
    pattern:
      /(?:^|[^A-Za-z0-9]|_|[a-z](?=[A-Z]))(?:password|passwd|pwd|secret|api[_-]?key|access[_-]?key|access[_-]?token|auth[_-]?token|token|client[_-]?secret|private[_-]?key)["']?\s*[:=]\s*["']?[^\s"',;]{8,}/i,
  },
]

/** Object keys whose value is a secret whatever it looks like: the name alone or ending a longer one (DB_PASSWORD,
 *  dbPassword, githubToken). */
const SECRET_FIELD =
  /(?:^|[_.-]|[a-z](?=[A-Z]))(?:password|passwd|pwd|secret|api[_-]?key|access[_-]?key|access[_-]?token|auth[_-]?token|client[_-]?secret|private[_-]?key|token)$/i

export interface SecretFinding {
  /** Where in the value: `$`, `$.db.password`, `$[2]`. */
  path: string
  kind: string
}

/**
 * Finds what looks like a credential anywhere in a JSON value (strings, and string values of secret-named fields).
 *
 * @example
 * findSecrets({ note: 'deploy with ghp_' + 'x'.repeat(36) }) // [{ path: '$.note', kind: 'GitHub token' }]
 */
export function findSecrets(value: JsonValue, path = '$'): SecretFinding[] {
  if (typeof value === 'string') {
    const hit = PATTERNS.find(({ pattern }) => pattern.test(value))
    return hit ? [{ path, kind: hit.kind }] : []
  }
  if (Array.isArray(value)) return value.flatMap((item, index) => findSecrets(item, `${path}[${index}]`))
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).flatMap(([name, item]) => {
      const at = `${path}.${name}`
      const scalar = typeof item === 'string' || typeof item === 'number' ? String(item) : null
      if (
        SECRET_FIELD.test(name) &&
        scalar !== null &&
        scalar.length >= 8 &&
        !scalar.startsWith('[REDACTED ')
      )
        return [{ path: at, kind: `"${name}" field` }]
      return findSecrets(item, at)
    })
  }
  return []
}

/** A string with each secret-looking part replaced by `[REDACTED <kind>]`. */
function redactText(text: string): string {
  let out = text
  for (const { kind, pattern } of PATTERNS) {
    out = out.replace(new RegExp(pattern.source, `${pattern.flags.replace('g', '')}g`), `[REDACTED ${kind}]`)
  }
  return out
}

/**
 * The value with the secret-looking parts of its strings replaced by `[REDACTED <kind>]` (the whole value of a
 * secret-named field), for callers that prefer storing the rest over refusing the whole memory.
 *
 * @example
 * redactSecrets({ note: 'use AKIAABCDEFGHIJKLMNOP', token: 'abcdefgh12345678' })
 * // { note: 'use [REDACTED AWS access key]', token: '[REDACTED "token" field]' }
 */
export function redactSecrets(value: JsonValue): JsonValue {
  if (typeof value === 'string') return redactText(value)
  if (Array.isArray(value)) return value.map(redactSecrets)
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([name, item]) => [
        name,
        SECRET_FIELD.test(name) &&
        (typeof item === 'string' || typeof item === 'number') &&
        String(item).length >= 8
          ? `[REDACTED "${name}" field]`
          : redactSecrets(item),
      ]),
    )
  }
  return value
}
