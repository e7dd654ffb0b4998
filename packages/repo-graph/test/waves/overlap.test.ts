import { describe, expect, it } from 'vitest'
import { findOverlaps, isGlob, matchesAny, patternOverlap } from '../../src/waves/overlap.ts'

describe('patternOverlap', () => {
  it('literal vs literal: equal paths only', () => {
    expect(patternOverlap('src/a.ts', 'src/a.ts')).toEqual({
      left: 'src/a.ts',
      right: 'src/a.ts',
      rule: 'same-path',
      files: ['src/a.ts'],
    })
    expect(patternOverlap('src/a.ts', 'src/b.ts')).toBeNull()
    expect(patternOverlap('src/a', 'src/a.ts')).toBeNull()
  })

  it('literal vs glob: the glob matches the path (either side, dotfiles included)', () => {
    expect(patternOverlap('src/**/*.ts', 'src/a/x.ts')).toMatchObject({
      rule: 'path-matches-glob',
      files: ['src/a/x.ts'],
    })
    expect(patternOverlap('src/a/x.ts', 'src/**/*.ts')).toMatchObject({
      left: 'src/a/x.ts',
      files: ['src/a/x.ts'],
    })
    expect(patternOverlap('src/**', 'src/.env')).not.toBeNull()
    expect(patternOverlap('src/*.ts', 'src/a/x.ts')).toBeNull()
    expect(patternOverlap('src/**/*.ts', 'src/a/x.md')).toBeNull()
  })

  it('glob vs glob: apart only when directories are disjoint or fixed endings differ', () => {
    expect(patternOverlap('src/a/**', 'src/b/**')).toBeNull()
    expect(patternOverlap('src/**/*.ts', 'docs/**')).toBeNull()
    expect(patternOverlap('srcx/**', 'src/**')).toBeNull()
    expect(patternOverlap('**/*.ts', '**/*.md')).toBeNull()
    expect(patternOverlap('**/index.ts', '**/main.ts')).toBeNull()
    // Conservative: these may share a file.
    expect(patternOverlap('src/**', 'src/a/*.ts')).toMatchObject({ rule: 'globs-may-intersect', files: [] })
    expect(patternOverlap('**/*.ts', 'src/**/*.test.ts')).not.toBeNull()
    expect(patternOverlap('src/*.{ts,md}', 'src/*.md')).not.toBeNull()
    expect(patternOverlap('*.ts', 'src/**/index.ts')).not.toBeNull()
    expect(patternOverlap('src/a?.ts', 'src/*b.ts')).not.toBeNull()
  })

  it('names the tracked files two globs share', () => {
    const trackedFiles = ['src/a/x.ts', 'src/a/y.md', 'src/b/z.ts', 'README.md']
    expect(patternOverlap('src/**/*.ts', 'src/a/**', { trackedFiles })).toEqual({
      left: 'src/**/*.ts',
      right: 'src/a/**',
      rule: 'globs-may-intersect',
      files: ['src/a/x.ts'],
    })
  })
})

describe('findOverlaps', () => {
  it('lists every overlapping pair, and nothing for disjoint lists', () => {
    const found = findOverlaps(['src/**/*.ts', 'README.md'], ['src/a/x.ts', 'docs/a.md', 'README.md'])
    expect(found.map((o) => [o.left, o.right, o.rule])).toEqual([
      ['src/**/*.ts', 'src/a/x.ts', 'path-matches-glob'],
      ['README.md', 'README.md', 'same-path'],
    ])
    expect(findOverlaps(['src/a/**'], ['src/b/**', 'docs/x.md'])).toEqual([])
  })
})

describe('helpers', () => {
  it('isGlob and matchesAny', () => {
    expect(isGlob('src/**/*.ts')).toBe(true)
    expect(isGlob('src/index.ts')).toBe(false)
    expect(matchesAny('src/a/x.ts', ['docs/**', 'src/**/*.ts'])).toBe(true)
    expect(matchesAny('src/a/x.ts', ['src/a/x.tsx', 'src/*.ts'])).toBe(false)
    expect(matchesAny('a.txt', ['a.txt'])).toBe(true)
  })
})
