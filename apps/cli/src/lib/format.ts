// Plain-text rendering for humans. JSON output never goes through here.

/** Aligned `key  value` lines. */
export function keyValues(rows: Array<[string, string | number | null | undefined]>): string {
  const width = Math.max(...rows.map(([key]) => key.length))
  return rows
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => `${key.padEnd(width)}  ${value ?? '-'}`)
    .join('\n')
}

/** Seconds as "3m 12s", "2h 5m", "4d 1h". */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds))
  if (s < 60) return `${s}s`
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`
  if (s < 86_400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`
  return `${Math.floor(s / 86_400)}d ${Math.floor((s % 86_400) / 3600)}h`
}

export function megabytes(bytes: number | null | undefined): string | null {
  return bytes == null ? null : `${(bytes / 1024 / 1024).toFixed(0)} MB`
}

const MARK = { ok: '✓', warn: '!', fail: '✗' } as const

/** One line per check: mark, name, detail, and the fix on the next line. */
export function checks(
  list: Array<{ name: string; status: keyof typeof MARK; detail: string; fix?: string }>,
): string {
  const width = Math.max(...list.map((c) => c.name.length))
  return list
    .map((c) => {
      const line = `${MARK[c.status]} ${c.name.padEnd(width)}  ${c.detail}`
      return c.fix && c.status !== 'ok' ? `${line}\n  ${' '.repeat(width)}  fix: ${c.fix}` : line
    })
    .join('\n')
}
