import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { hostname, tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ConfigError } from '../src/errors.ts'
import { handleFromUsername } from '../src/identity.ts'
import { configPath, loadConfig, updateConfigFile } from '../src/index.ts'

let home: string
let path: string
beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'dstack-config-'))
  path = join(home, '.dstack', 'config.yaml')
})
afterEach(() => rmSync(home, { recursive: true, force: true }))

const load = (env: NodeJS.ProcessEnv = {}) => loadConfig({ env, homeDir: home, username: 'Alice Liddell' })

function write(text: string, mode = 0o600) {
  mkdirSync(join(home, '.dstack'), { recursive: true })
  writeFileSync(path, text)
  chmodSync(path, mode)
}

describe('loadConfig', () => {
  it('works with no file at all: the embedded brain under ~/.dstack/brain, the OS user as agent', () => {
    const config = load()
    expect(config).toMatchObject({
      exists: false,
      home: join(home, '.dstack'),
      path,
      agent: { id: 'alice-liddell', displayName: 'alice-liddell', source: 'default' },
      machine: hostname(),
      brain: { driver: 'embedded', dataDir: join(home, '.dstack', 'brain') },
      brainSource: 'default',
      warnings: [],
    })
  })

  it('reads the file, expands ~ and relative paths, converts minutes', () => {
    write(
      `agent: alice\ndisplay_name: Alice\nmachine: alice-mbp\nbrain:\n  driver: embedded\n  data_dir: ~/brains/team\n  socket_dir: run\n  idle_timeout_minutes: 2\n`,
    )
    expect(load()).toMatchObject({
      exists: true,
      agent: { id: 'alice', displayName: 'Alice', source: 'file' },
      machine: 'alice-mbp',
      brain: {
        driver: 'embedded',
        dataDir: join(home, 'brains/team'),
        socketDir: join(home, '.dstack', 'run'),
        idleTimeoutMs: 120_000,
      },
      brainSource: 'file',
    })
  })

  it('lets the environment override the file', () => {
    write('agent: alice\nbrain:\n  driver: embedded\n')
    const config = load({
      DSTACK_AGENT: 'bob',
      DSTACK_MACHINE: 'ci',
      DSTACK_BRAIN_URL: 'postgres://u:p@db:5432/brain',
    })
    expect(config).toMatchObject({
      agent: { id: 'bob', source: 'env' },
      machine: 'ci',
      brain: { driver: 'postgres', url: 'postgres://u:p@db:5432/brain' },
      brainSource: 'env',
    })
    expect(load({ DSTACK_BRAIN_DIR: '/srv/brain' }).brain).toEqual({
      driver: 'embedded',
      dataDir: '/srv/brain',
    })
  })

  it('honours DSTACK_HOME and DSTACK_CONFIG', () => {
    const other = join(home, 'elsewhere')
    expect(configPath({ DSTACK_HOME: other }, home)).toBe(join(other, 'config.yaml'))
    expect(load({ DSTACK_HOME: other }).brain).toMatchObject({ dataDir: join(other, 'brain') })
    expect(configPath({ DSTACK_CONFIG: '~/x.yaml' }, home)).toBe(join(home, 'x.yaml'))
  })

  it('names file, line, column and key for a bad value', () => {
    write('agent: alice\nbrain:\n  driver: postgres\n  url: mysql://db/brain\n')
    const error = (() => {
      try {
        load()
      } catch (e) {
        return e
      }
    })()
    expect(error).toBeInstanceOf(ConfigError)
    expect((error as Error).message).toBe(
      `${path}: line 4, column 8: brain.url: must be a postgres:// or postgresql:// URL`,
    )
  })

  it('refuses unknown keys (typos), bad handles, YAML syntax errors and duplicate keys', () => {
    write('agnet: alice\n')
    expect(() => load()).toThrow(/line 1, column 8: \(top level\): Unrecognized key: "agnet"/)
    write('agent: alice\nbrain:\n  driver: embedded\n  datadir: /x\n')
    expect(() => load()).toThrow(/line 4, column 12: brain: Unrecognized key: "datadir"/)
    write('agent: Alice!\n')
    expect(() => load()).toThrow(/line 1, column 8: agent: an agent handle is/)
    write('agent: [unclosed\n')
    expect(() => load()).toThrow(/line \d+, column \d+: /)
    write('agent: a\nagent: b\n')
    expect(() => load()).toThrow(/Map keys must be unique/)
    write('brain:\n  driver: sqlite\n')
    expect(() => load()).toThrow(/brain.driver/)
  })

  it('validates environment overrides and refuses two brains at once', () => {
    expect(() => load({ DSTACK_AGENT: 'Not OK' })).toThrow(
      /environment variable DSTACK_AGENT: an agent handle/,
    )
    expect(() => load({ DSTACK_BRAIN_URL: 'http://x' })).toThrow(/DSTACK_BRAIN_URL: must be a postgres/)
    expect(() => load({ DSTACK_BRAIN_URL: 'postgres://h/db', DSTACK_BRAIN_DIR: '/x' })).toThrow(/not both/)
  })

  it('reads Supabase Realtime settings from the file or the environment, both parts or neither', () => {
    expect(load().supabase).toBeNull()
    const key = 'eyJhbGciOiJIUzI1NiJ9.anon-key-for-tests'
    write(`supabase:\n  url: https://abcd.supabase.co\n  key: ${key}\n`)
    expect(load().supabase).toEqual({ url: 'https://abcd.supabase.co', key })
    expect(
      load({ DSTACK_SUPABASE_URL: 'http://127.0.0.1:54321', DSTACK_SUPABASE_KEY: key }).supabase,
    ).toEqual({
      url: 'http://127.0.0.1:54321',
      key,
    })
    expect(() => load({ DSTACK_SUPABASE_URL: 'https://abcd.supabase.co' })).toThrow(
      /both DSTACK_SUPABASE_URL/,
    )
    expect(() => load({ DSTACK_SUPABASE_URL: 'ftp://x', DSTACK_SUPABASE_KEY: key })).toThrow(ConfigError)
    write('supabase:\n  url: https://abcd.supabase.co\n')
    expect(() => load()).toThrow(/supabase\.key/)
  })

  it('resolves memory settings: file default under DSTACK_HOME, eruka needs a URL, env over file', () => {
    expect(load().memory).toEqual({
      provider: 'file',
      dir: join(home, '.dstack', 'memory'),
      workspace: null,
      eruka: null,
    })
    write('memory:\n  provider: eruka\n  workspace: team-notes\n  eruka:\n    url: http://127.0.0.1:8080\n')
    expect(load().memory).toEqual({
      provider: 'eruka',
      dir: join(home, '.dstack', 'memory'),
      workspace: 'team-notes',
      eruka: { url: 'http://127.0.0.1:8080', authHeader: 'X-Service-Key', key: 'local' },
    })
    expect(
      load({ DSTACK_MEMORY_PROVIDER: 'brain', DSTACK_MEMORY_DIR: '~/notes', DSTACK_ERUKA_KEY: 'k' }).memory,
    ).toMatchObject({
      provider: 'brain',
      dir: join(home, 'notes'),
      eruka: { key: 'k' },
    })
    expect(() => load({ DSTACK_MEMORY_PROVIDER: 'sqlite' })).toThrow(/DSTACK_MEMORY_PROVIDER/)
    write('memory:\n  provider: eruka\n')
    expect(() => load()).toThrow(/needs memory\.eruka\.url/)
  })

  it('warns when the file can be read by others', () => {
    write('agent: alice\n', 0o644)
    expect(load().warnings).toEqual([`${path} can be read by other users (mode 644): run chmod 600 ${path}`])
  })

  it('treats an empty file as all defaults', () => {
    write('')
    expect(load()).toMatchObject({ exists: true, agent: { source: 'default' }, brainSource: 'default' })
  })
})

describe('updateConfigFile', () => {
  it('creates the file 0600, keeps comments and other keys on update', () => {
    updateConfigFile(path, { agent: 'alice' })
    expect(statSync(path).mode & 0o777).toBe(0o600)
    writeFileSync(path, `# my brain\nagent: alice # me\nmachine: laptop\n`)
    updateConfigFile(path, { display_name: 'Alice L.' })
    const text = readFileSync(path, 'utf8')
    expect(text).toContain('# my brain')
    expect(text).toContain('agent: alice # me')
    expect(load()).toMatchObject({ agent: { id: 'alice', displayName: 'Alice L.' }, machine: 'laptop' })
  })

  it('refuses an invalid change and leaves the file exactly as it was', () => {
    updateConfigFile(path, { agent: 'alice', brain: { driver: 'embedded' } })
    const before = readFileSync(path, 'utf8')
    expect(() => updateConfigFile(path, { agent: 'NOT VALID' })).toThrow(ConfigError)
    expect(() => updateConfigFile(path, { brain: { driver: 'postgres', url: 'nope' } })).toThrow(/brain.url/)
    expect(readFileSync(path, 'utf8')).toBe(before)
  })
})

describe('handleFromUsername', () => {
  it('always produces a valid handle', () => {
    expect(handleFromUsername('root')).toBe('root')
    expect(handleFromUsername('Jane.Doe')).toBe('jane.doe')
    expect(handleFromUsername('__weird__')).toBe('weird__')
    expect(handleFromUsername('!!!')).toBe('agent')
    expect(handleFromUsername('x'.repeat(100))).toHaveLength(63)
  })
})
