import { type FSWatcher, watch } from 'node:fs'
import { readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'

// Watches a directory tree with one non-recursive fs.watch per directory. Node's `recursive: true` on Linux is
// emulated and loses events (a file replaced by rename, then unlinked, was never reported in our tests); a watch
// per directory sees every create, rename and unlink of its entries on every platform.

/**
 * Reports the relative, `/`-separated path of every entry created, changed, renamed or removed under `root`,
 * skipping dot-names. New sub-directories are watched as they appear (files already in them are reported); a
 * removed directory's watchers are dropped. Resolves once the existing tree is watched. Best effort: events may repeat, and a burst may be coalesced.
 *
 * @example
 * const tree = await watchTree('/repo/.dstack/memory/acme', (rel) => console.log('changed', rel))
 * tree.close()
 */
export async function watchTree(root: string, onPath: (rel: string) => void): Promise<{ close(): void }> {
  const watchers = new Map<string, FSWatcher>()
  let closed = false

  const drop = (relDir: string): void => {
    for (const [rel, watcher] of watchers)
      if (rel === relDir || rel.startsWith(`${relDir}/`)) {
        watcher.close()
        watchers.delete(rel)
      }
  }

  const add = async (relDir: string, announce: boolean): Promise<void> => {
    if (closed || watchers.has(relDir)) return
    const dir = relDir === '' ? root : join(root, ...relDir.split('/'))
    let watcher: FSWatcher
    try {
      watcher = watch(dir, (_event, name) => {
        if (name === null || name.startsWith('.')) return
        void changed(relDir === '' ? name : `${relDir}/${name}`)
      })
    } catch {
      return // vanished before we got to it
    }
    watcher.on('error', () => drop(relDir))
    watchers.set(relDir, watcher)
    // Entries that appeared before the watch started: sub-directories to watch, files to report.
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => [])
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue
      const rel = relDir === '' ? entry.name : `${relDir}/${entry.name}`
      if (entry.isDirectory()) await add(rel, announce)
      else if (announce) onPath(rel)
    }
  }

  const changed = async (rel: string): Promise<void> => {
    if (closed) return
    const info = await stat(join(root, ...rel.split('/'))).catch(() => null)
    if (closed) return
    if (info?.isDirectory()) await add(rel, true)
    else {
      if (!info) drop(rel)
      onPath(rel)
    }
  }

  await add('', false)
  return {
    close() {
      closed = true
      for (const watcher of watchers.values()) watcher.close()
      watchers.clear()
    },
  }
}
