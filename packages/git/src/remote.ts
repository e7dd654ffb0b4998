import { existsSync } from 'node:fs'
import { homedir } from 'node:os'
import { resolve } from 'node:path'

const SCHEME_URL = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/(.*)$/s
const TRANSPORT_HELPER = /^[A-Za-z][A-Za-z0-9+.-]*::(.*)$/s
// `[user@]host:path`; git takes a colon before the first slash to mean this form.
const SCP_LIKE = /^(?:[^@/\s]+@)?([^@/:\s[\]]+|\[[^\]\s]+\]):(.*)$/s
const HOST = /^(?:[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?|\[[0-9A-Fa-f:.]+\])$/

/**
 * Normalises a remote URL to `host/path`, so every clone of a repository (ssh or https, with or without `.git`,
 * credentials or a port) gets the same identity: lowercase host, no user, password or port, no `.git` suffix or
 * trailing slash, path case kept. A local path or `file://` URL becomes `local:<absolute path>` (relative paths are
 * resolved against `cwd`). Input that is none of these comes back trimmed as `unknown:<input>`, minus any `user:password@`. Never throws.
 *
 * @example
 * canonicalRemote('git@github.com:Org/Repo.git') // 'github.com/Org/Repo'
 * canonicalRemote('https://user:tok@github.com/org/repo.git/') // 'github.com/org/repo'
 * canonicalRemote('ssh://git@gitlab.example.com:2222/group/sub/repo.git') // 'gitlab.example.com/group/sub/repo'
 * canonicalRemote('/srv/git/tools.git') // 'local:/srv/git/tools.git'
 */
export function canonicalRemote(url: string, cwd: string = process.cwd()): string {
  const input = url.trim()
  // Even an unparseable URL never carries credentials into the brain: drop anything like user:token@.
  const unknown = `unknown:${input.replace(/^([a-z][a-z0-9+.-]*:\/\/)?[^/@\s]*@/i, '$1')}`
  if (input === '') return unknown

  const helper = TRANSPORT_HELPER.exec(input)
  if (helper) {
    const inner = canonicalRemote(helper[1]!, cwd)
    return inner.startsWith('unknown:') ? unknown : inner
  }

  const scheme = SCHEME_URL.exec(input)
  if (scheme) {
    const rest = scheme[2]!
    if (scheme[1]!.toLowerCase() === 'file') {
      // file:///abs/path, or file://localhost/abs/path
      const path = rest.startsWith('/') ? rest : rest.replace(/^localhost(?=\/)/i, '')
      if (!path.startsWith('/')) return unknown
      return localPath(decode(path), cwd)
    }
    const slash = rest.indexOf('/')
    const authority = slash === -1 ? rest : rest.slice(0, slash)
    const hostPort = authority.slice(authority.lastIndexOf('@') + 1)
    const host = hostPort.startsWith('[')
      ? hostPort.slice(0, hostPort.indexOf(']') + 1)
      : hostPort.replace(/:\d*$/, '')
    const path = slash === -1 ? '' : rest.slice(slash).replace(/[?#].*$/s, '')
    return remote(host, path) ?? unknown
  }

  if (/^(?:\/|\.\.?(?:\/|$))/.test(input)) return localPath(input, cwd)
  if (input === '~' || input.startsWith('~/')) return localPath(homedir() + input.slice(1), cwd)
  if (/^[A-Za-z]:[\\/]/.test(input)) return localPath(input, cwd)

  const scp = SCP_LIKE.exec(input)
  if (scp) return remote(scp[1]!, scp[2]!) ?? unknown

  // A bare relative path is a valid remote only if it is actually there.
  try {
    if (!/[\s:]/.test(input) && existsSync(resolve(cwd, input))) return localPath(input, cwd)
  } catch {
    // fall through
  }
  return unknown
}

function remote(host: string, rawPath: string): string | null {
  if (!HOST.test(host)) return null
  const path = rawPath
    .replace(/\/{2,}/g, '/')
    .replace(/^\/+/, '')
    .replace(/\/+$/, '')
    .replace(/\.git$/i, '')
    .replace(/\/+$/, '')
  if (path === '' || /[\s\0]/.test(path)) return null
  return `${host.toLowerCase()}/${path}`
}

function localPath(path: string, cwd: string): string {
  return `local:${resolve(cwd, path)}`
}

function decode(path: string): string {
  try {
    return decodeURIComponent(path)
  } catch {
    return path
  }
}
