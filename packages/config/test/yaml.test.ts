import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { formatYamlIssue, parseYaml } from '../src/yaml.ts'

const schema = z.strictObject({
  repos: z.record(z.string(), z.strictObject({ build: z.string() })).optional(),
})

describe('parseYaml', () => {
  it('returns the value and the line of any path in it', () => {
    const result = parseYaml('repos:\n  api:\n    build: make\n', schema)
    expect(result.ok).toBe(true)
    if (!result.ok) return
    expect(result.value).toEqual({ repos: { api: { build: 'make' } } })
    expect(result.lineOf(['repos', 'api', 'build'])).toBe(3)
    expect(result.lineOf(['repos', 'api', 'missing'])).toBe(3) // the closest enclosing node
  })

  it('locates schema issues, unknown keys at the key, and syntax errors', () => {
    const bad = parseYaml('repos:\n  api:\n    build: 3\n    bild: x\n', schema)
    expect(bad.ok).toBe(false)
    if (bad.ok) return
    expect(bad.issues.map(formatYamlIssue).sort()).toEqual([
      'line 3, column 12: repos.api.build: Invalid input: expected string, received number',
      'line 4, column 11: repos.api: Unrecognized key: "bild"',
    ])
    const syntax = parseYaml('repos: [unclosed\n', schema)
    expect(syntax.ok).toBe(false)
    if (!syntax.ok) expect(syntax.issues[0]).toMatchObject({ kind: 'syntax', line: 2 })
    const duplicate = parseYaml('repos: {}\nrepos: {}\n', schema)
    expect(duplicate.ok).toBe(false)
  })

  it('refuses an alias bomb with an issue instead of throwing or expanding it', () => {
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x]']
    for (let i = 0; i < 8; i++)
      bomb.push(
        `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [*${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}]`,
      )
    const result = parseYaml(bomb.join('\n'), z.unknown())
    expect(result.ok).toBe(false)
    if (!result.ok)
      expect(result.issues[0]).toMatchObject({ kind: 'syntax', message: expect.stringMatching(/alias/i) })
  })
})
