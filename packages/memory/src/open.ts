import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import type { Brain, BrainConfig } from '@dstack/brain-schema'
import { BrainProvider } from './providers/brain.ts'
import { ErukaProvider } from './providers/eruka.ts'
import { FileProvider } from './providers/file.ts'
import type { MemoryProvider } from './types.ts'

export interface OpenMemoryOptions {
  provider: 'file' | 'brain' | 'eruka'
  workspace: string
  /** File provider: the root holding one directory per workspace. */
  dir?: string
  /** Brain provider: an open brain, or the config to open one. */
  brain?: Brain | BrainConfig
  /** Eruka provider: the server and its key. */
  eruka?: { url: string; authHeader: string; key: string } | null
}

/**
 * Opens the configured provider for a workspace.
 *
 * @example
 * const memory = await openMemory({ provider: 'file', dir: '/home/me/.dstack/memory', workspace: 'acme-api' })
 */
export async function openMemory(options: OpenMemoryOptions): Promise<MemoryProvider> {
  switch (options.provider) {
    case 'file':
      if (!options.dir) throw new Error('the file memory provider needs a directory')
      return FileProvider.open({ root: options.dir, workspace: options.workspace })
    case 'brain':
      if (!options.brain) throw new Error('the brain memory provider needs a brain')
      return BrainProvider.open({ brain: options.brain, workspace: options.workspace })
    case 'eruka':
      if (!options.eruka) throw new Error('the eruka memory provider needs memory.eruka.url')
      return ErukaProvider.open({
        url: options.eruka.url,
        workspace: options.workspace,
        auth: { header: options.eruka.authHeader, value: options.eruka.key },
      })
  }
}

/**
 * The default workspace of a repository: its canonical name made readable and lowercase, plus a short hash of the
 * exact name so two repositories never share one (`github.com/acme/api-v2` and `github.com/acme-api/v2` read the
 * same) and case-insensitive file systems never merge two.
 *
 * @example
 * workspaceForRepo('github.com/acme/api') // 'github.com-acme-api-<8 hex>'
 */
export function workspaceForRepo(canonical: string): string {
  const readable = canonical
    .toLowerCase()
    .replace(/^local:/, 'local-')
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^[^a-z0-9]+/, '')
    .replace(/-+$/, '')
  const hash = createHash('sha256').update(canonical).digest('hex').slice(0, 8)
  const head = readable.length > 118 ? readable.slice(-118).replace(/^[^a-z0-9]+/, '') : readable
  return head ? `${head}-${hash}` : hash
}

/**
 * Where the file provider keeps memories for work in `repoRoot`: the repository's own `.dstack/memory` when it has
 * one (shared with the team through git), else the configured directory.
 *
 * @example
 * memoryDirFor('/home/me/.dstack/memory', '/home/me/src/api') // '/home/me/src/api/.dstack/memory' if it exists
 */
export function memoryDirFor(configured: string, repoRoot: string | null): string {
  if (repoRoot) {
    const local = join(repoRoot, '.dstack', 'memory')
    if (existsSync(local)) return local
  }
  return configured
}
