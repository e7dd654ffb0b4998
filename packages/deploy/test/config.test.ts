// The boundary: dstack.yaml's deploy: map, secrets, the .env a release gets, and the migration check.
import { execFileSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { git, tempDir } from '@dstack/git/testing'
import { WorkspaceFileError } from '@dstack/repo-graph'
import { describe, expect, it } from 'vitest'
import {
  breakingChanges,
  deployOrder,
  envFileText,
  loadDeployFile,
  pgEnv,
  releaseName,
  resolveEnv,
  resolveService,
  SecretError,
} from '../src/index.ts'

function deployFile(yaml: string): string {
  const dir = tempDir('dstack-deploy-config-')
  const file = join(dir, 'dstack.yaml')
  writeFileSync(file, yaml)
  return file
}

function problems(yaml: string): string[] {
  try {
    loadDeployFile(deployFile(yaml))
  } catch (error) {
    if (error instanceof WorkspaceFileError) return error.problems
    throw error
  }
  return []
}

describe('dstack.yaml deploy:', () => {
  it('accepts a full service and fills the defaults', () => {
    const file = loadDeployFile(
      deployFile(`deploy:
  api:
    repo: .
    build: [cargo build --release]
    artifact: target/release
    hosts: [local, "ssh://deploy@vps1.example.com:2222"]
    root: /srv/api
    process: { command: [./api, --port, "3000"] }
    health: { url: "http://127.0.0.1:3000/health", status: 200 }
    caddy: { config: Caddyfile }
    migrations: { dir: migrations }
    env: { PORT: "3000" }
    secrets: { DATABASE_URL: { env: API_DATABASE_URL } }
`),
    )
    const api = resolveService(file, 'api')
    expect(api).toMatchObject({
      keep: 5,
      lock_ttl_s: 1200,
      caddy: { admin: 'http://127.0.0.1:2019', adapter: 'caddyfile' },
      migrations: { database_env: 'DATABASE_URL', backup: true },
      process: { stop_timeout_ms: 10_000, boot_check_ms: 500 },
      health: { retries: 5, timeout_ms: 2000 },
    })
    expect(api.repoDir).toBe(join(file.path, '..'))
  })

  it('names the line of every problem', () => {
    const found = problems(`deploy:
  api:
    root: srv/api
    hosts: ["ftp://nope"]
    process: { command: [] }
    restart_with: magic
`)
    expect(found).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/line 3.*deploy\.api\.root.*absolute path/),
        expect.stringMatching(/line 4.*deploy\.api\.hosts\.0.*ssh:\/\//),
        expect.stringMatching(/line 5.*deploy\.api\.process\.command/),
        expect.stringMatching(/line 6.*restart_with/),
      ]),
    )
  })

  it('refuses both service managers at once, names that are not safe, and paths that leave the release', () => {
    expect(
      problems(
        'deploy:\n  api:\n    root: /srv/api\n    systemd: { unit: api }\n    process: { command: [./api] }\n',
      ),
    ).toEqual([expect.stringContaining('either systemd or process')])
    expect(problems('deploy:\n  "../evil":\n    root: /srv/x\n').join()).toMatch(
      /deploy\.\.\.\/evil: Invalid key/,
    )
    expect(problems('deploy:\n  api:\n    root: /srv/../etc\n').join()).toMatch(/no \.\./)
    expect(
      problems('deploy:\n  api:\n    root: /srv/api\n    caddy: { config: ../../etc/caddy }\n').join(),
    ).toMatch(/inside the release/)
  })

  it('an unknown service lists the known ones', () => {
    const file = loadDeployFile(deployFile('deploy:\n  api:\n    repo: .\n    root: /srv/api\n'))
    expect(() => resolveService(file, 'web')).toThrow(/no service "web" under deploy: \(known: api\)/)
  })

  it('is still a workspace file: repo-graph keys keep working beside deploy:', () => {
    const file = loadDeployFile(
      deployFile(
        'roots: [.]\nrepos:\n  api: { build: make }\ndeploy:\n  api:\n    repo: .\n    root: /srv/api\n',
      ),
    )
    expect(file.repos.api?.build).toEqual(['make'])
  })
})

describe('secrets and the release .env', () => {
  it('reads secrets from the environment and from files; a missing one names its source, never a value', () => {
    const dir = tempDir('dstack-secrets-')
    writeFileSync(join(dir, 'token'), 'from-file\n')
    const file = loadDeployFile(
      deployFile(`deploy:
  api:
    repo: .
    root: /srv/api
    env: { PORT: "3000" }
    secrets: { TOKEN: { file: ${join(dir, 'token')} }, DB: { env: TEST_DB_URL } }
`),
    )
    const api = resolveService(file, 'api')
    const env = resolveEnv(api, dir, { TEST_DB_URL: 'postgres://u:pw12345@h/db' })
    expect(env.values).toEqual({ PORT: '3000', TOKEN: 'from-file', DB: 'postgres://u:pw12345@h/db' })
    expect(env.secretValues).toEqual(['from-file', 'postgres://u:pw12345@h/db'])
    expect(() => resolveEnv(api, dir, {})).toThrow(SecretError)
    expect(() => resolveEnv(api, dir, {})).toThrow(
      'secret DB: the environment variable TEST_DB_URL is not set',
    )
  })

  it('the .env survives sh exactly: quotes, dollars, backticks and newlines stay literal', () => {
    const values = { A: "it's", B: '$(touch /tmp/x) `id` $HOME', C: 'two\nlines', D: '' }
    const dir = tempDir('dstack-env-')
    writeFileSync(join(dir, '.env'), envFileText(values))
    const out = execFileSync(
      'sh',
      [
        '-c',
        'set -a; . ./.env; set +a; for k in A B C D; do printf "%s=%s\\0" "$k" "$(printenv "$k")"; done',
      ],
      { cwd: dir, encoding: 'utf8', env: { PATH: process.env.PATH } },
    )
    expect(out.split('\0').slice(0, -1)).toEqual(Object.entries(values).map(([k, v]) => `${k}=${v}`))
  })
})

describe('the migration check', () => {
  it('flags what the running release may not survive, with file and line', () => {
    const sql = `create table a (id int);
alter table users drop column email;
alter table users rename column name to full_name;
alter table users alter column age type bigint;
alter table users alter column age set not null;
alter table users add column tenant int not null;
drop table sessions;
truncate audit;
drop view report;
`
    expect(breakingChanges('0003.sql', sql).map((b) => `${b.line} ${b.rule}`)).toEqual([
      '2 drops a column',
      '3 renames a table or column',
      '4 changes a column type',
      '5 makes a column NOT NULL',
      '6 adds a NOT NULL column without a default',
      '7 drops a table',
      '8 empties a table',
      '9 drops a view, function or type',
    ])
  })

  it('passes expand-style changes, and ignores comments, strings and function bodies', () => {
    const sql = `-- drop table users;
/* alter table users drop column x; */
create table t (id int);
alter table users add column tenant int not null default 0;
alter table users add column nickname text;
alter table users drop constraint users_email_key;
alter table users alter column age drop not null;
insert into notes values ('drop table users;');
create function f() returns void as $$ begin truncate t; end $$ language plpgsql;
create index concurrently users_email on users (email);
`
    expect(breakingChanges('0004.sql', sql)).toEqual([])
  })

  it('turns a database URL into PG* lines for stdin (the password never reaches argv)', () => {
    expect(pgEnv('postgres://app:p%40ss@127.0.0.1:5433/shop?sslmode=disable')).toBe(
      'PGHOST=127.0.0.1\nPGPORT=5433\nPGUSER=app\nPGPASSWORD=p@ss\nPGDATABASE=shop\nPGSSLMODE=disable\n',
    )
    expect(() => pgEnv('mysql://x@y/z')).toThrow('must start with postgres://')
    expect(() => pgEnv('not a url')).toThrow('is not a URL')
  })

  it('release names sort by time and carry the commit', () => {
    expect(releaseName(new Date('2026-11-23T15:30:12.345Z'), 'abc123')).toBe('20261123T153012Z-abc123')
    expect(releaseName(new Date('2026-11-23T15:30:12Z'), null)).toBe('20261123T153012Z')
  })
})

describe('--all order', () => {
  it('deploys a service after the services its repository depends on', async () => {
    const dir = tempDir('dstack-deploy-order-')
    for (const [name, deps] of [
      ['core', {}],
      ['api', { core: 'file:../core' }],
      ['web', { api: 'file:../api' }],
    ] as const) {
      mkdirSync(join(dir, name))
      git(join(dir, name), 'init', '-q')
      writeFileSync(
        join(dir, name, 'package.json'),
        JSON.stringify({ name, version: '1.0.0', dependencies: deps }),
      )
    }
    const file = join(dir, 'dstack.yaml')
    writeFileSync(
      file,
      'roots: [.]\ndeploy:\n  web-app: { repo: web, root: /srv/web }\n  api: { root: /srv/api }\n  core-svc: { repo: core, root: /srv/core }\n',
    )
    expect(await deployOrder(loadDeployFile(file))).toEqual(['core-svc', 'api', 'web-app'])
  })
})
