// Where dstack keeps things. A separate entry point (`@dstack/config/paths`) with no dependencies, because hooks
// need these paths on every tool call and cannot afford to load zod and yaml (~60 ms) to get them.

import { homedir } from 'node:os'
import { isAbsolute, join, resolve } from 'node:path'

/**
 * Expands `~` and makes a path absolute (relative paths are relative to `base`).
 *
 * @example
 * expandPath('~/.dstack/brain', '/home/me', '/etc') // '/home/me/.dstack/brain'
 */
export function expandPath(path: string, homeDir: string, base: string): string {
  if (path === '~') return homeDir
  if (path.startsWith('~/')) return join(homeDir, path.slice(2))
  return isAbsolute(path) ? path : resolve(base, path)
}

/** Where dstack keeps its per-machine state: DSTACK_HOME or ~/.dstack. */
export function dstackHome(env: NodeJS.ProcessEnv = process.env, homeDir = homedir()): string {
  return env.DSTACK_HOME ? expandPath(env.DSTACK_HOME, homeDir, process.cwd()) : join(homeDir, '.dstack')
}

/** The config file to read: DSTACK_CONFIG or <home>/config.yaml. */
export function configPath(env: NodeJS.ProcessEnv = process.env, homeDir = homedir()): string {
  return env.DSTACK_CONFIG
    ? expandPath(env.DSTACK_CONFIG, homeDir, process.cwd())
    : join(dstackHome(env, homeDir), 'config.yaml')
}

/**
 * The outbox directory hooks append to and commands flush: <DSTACK_HOME>/outbox.
 *
 * @example
 * outboxDir() // '/home/me/.dstack/outbox'
 */
export function outboxDir(env: NodeJS.ProcessEnv = process.env, homeDir = homedir()): string {
  return join(dstackHome(env, homeDir), 'outbox')
}
