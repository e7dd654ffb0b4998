import { homedir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { dstackHome } from '@dstack/config'
import { installLauncher, type Launcher, repositoryAt } from '@dstack/hooks'

/** Where `dstack hooks …` works: the settings file, how its hooks reach dstack, where backups go. */
export interface HookTarget {
  path: string
  launcher: Launcher
  backupDir?: string
}

/**
 * ~/.claude/settings.json with this machine's launcher by path; or, with `project`, the repository's shared
 * .claude/settings.json with a per-user launcher (no one's home directory committed) and backups kept out of the
 * repository.
 */
export function hookTarget(project: boolean): HookTarget {
  const launcherPath = join(dstackHome(), 'bin', 'dstack')
  if (!project) {
    return {
      path: join(homedir(), '.claude', 'settings.json'),
      launcher: { kind: 'path', path: launcherPath },
    }
  }
  return {
    path: join(repositoryAt(process.cwd()).root, '.claude', 'settings.json'),
    launcher: { kind: 'per-user' },
    backupDir: join(dstackHome(), 'backups'),
  }
}

/**
 * Writes (or keeps) $DSTACK_HOME/bin/dstack, the launcher hooks and the plugin's shim run: this Node on this CLI.
 */
export function installThisLauncher(): string {
  const entry = fileURLToPath(new URL('../../bin/run.js', import.meta.url))
  const hookEntry = fileURLToPath(new URL('../../bin/hook.cjs', import.meta.url))
  return installLauncher({ node: process.execPath, entry, hookEntry })
}
