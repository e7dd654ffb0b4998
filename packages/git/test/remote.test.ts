import { homedir } from 'node:os'
import { describe, expect, it } from 'vitest'
import { canonicalRemote } from '../src/remote.ts'

describe('canonicalRemote', () => {
  it.each([
    ['git@github.com:Org/Repo.git', 'github.com/Org/Repo'],
    ['github.com:org/repo', 'github.com/org/repo'],
    ['git@GitHub.COM:/org/repo.git/', 'github.com/org/repo'],
    ['https://user:tok@github.com/org/repo.git', 'github.com/org/repo'],
    ['https://GitHub.com/org/repo/', 'github.com/org/repo'],
    ['http://host.example:8080/a/b.git?x=1#frag', 'host.example/a/b'],
    ['ssh://git@gitlab.example.com:2222/group/sub/repo.git', 'gitlab.example.com/group/sub/repo'],
    ['git+ssh://git@host/x/y.git', 'host/x/y'],
    ['ssh://[::1]:22/x/y', '[::1]/x/y'],
    ['git://host/x/y', 'host/x/y'],
    ['https://host//double//slash.git', 'host/double/slash'],
    ['  git@github.com:org/repo.git\n', 'github.com/org/repo'],
    ['persistent-https::https://host/x/y.git', 'host/x/y'],
    ['file:///srv/git/repo.git', 'local:/srv/git/repo.git'],
    ['file://localhost/srv/my%20repo/', 'local:/srv/my repo'],
    ['/srv/git/repo.git/', 'local:/srv/git/repo.git'],
    ['/srv/git/../git/repo', 'local:/srv/git/repo'],
  ])('%s → %s', (url, expected) => {
    expect(canonicalRemote(url)).toBe(expected)
  })

  it('resolves relative and home-relative local paths', () => {
    expect(canonicalRemote('../shared.git', '/work/app')).toBe('local:/work/shared.git')
    expect(canonicalRemote('./x', '/work/app')).toBe('local:/work/app/x')
    expect(canonicalRemote('~/repos/x', '/work/app')).toBe(`local:${homedir()}/repos/x`)
    // A bare relative path counts only when it exists.
    expect(canonicalRemote('node_modules', process.cwd())).toBe(`local:${process.cwd()}/node_modules`)
  })

  it.each([
    ['', 'unknown:'],
    ['   ', 'unknown:'],
    ['not a url', 'unknown:not a url'],
    ['  https://  ', 'unknown:https://'],
    ['https:///path/only', 'unknown:https:///path/only'],
    ['https://github.com', 'unknown:https://github.com'],
    ['git@github.com:', 'unknown:github.com:'],
    // Credentials never survive, even in a URL that cannot be parsed.
    ['https://u:ghp_TOKEN@github.com/org/my repo.git', 'unknown:https://github.com/org/my repo.git'],
    ['bad host:org/repo', 'unknown:bad host:org/repo'],
    ['https://exa mple.com/x', 'unknown:https://exa mple.com/x'],
    ['file://relative/path', 'unknown:file://relative/path'],
    ['nohost-no-such-dir', 'unknown:nohost-no-such-dir'],
    ['x::', 'unknown:x::'],
  ])('rejects %j as %j without throwing', (url, expected) => {
    expect(canonicalRemote(url, '/nonexistent-dir-for-test')).toBe(expected)
  })
})
