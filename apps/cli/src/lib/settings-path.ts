import { homedir } from 'node:os'
import { join } from 'node:path'

/** ~/.claude/settings.json, or <repo>/.claude/settings.json with --project. */
export function claudeSettingsPath(projectRoot: string | null): string {
  return projectRoot
    ? join(projectRoot, '.claude', 'settings.json')
    : join(homedir(), '.claude', 'settings.json')
}
