import { type Check, diagnoseBrain } from '@dstack/brain-schema'
import { ConfigError, type DstackConfig, loadConfig } from '@dstack/config'
import { DstackCommand } from '../lib/command.ts'
import { EXIT } from '../lib/exit-codes.ts'
import { checks as formatChecks } from '../lib/format.ts'

export default class Doctor extends DstackCommand {
  static override summary =
    'Check this machine: Node, config, brain reachable, schema version, agent registered'
  static override description =
    `Each failing check says how to fix it. Starts an embedded brain's server if it is stopped.

Exit codes: 0 healthy (warnings allowed), 6 at least one check failed.`
  static override examples = ['<%= config.bin %> doctor', '<%= config.bin %> doctor --json']

  async run(): Promise<{ healthy: boolean; checks: Check[] }> {
    const checks: Check[] = []
    const [major = 0, minor = 0] = process.versions.node.split('.').map(Number)
    checks.push(
      major > 22 || (major === 22 && minor >= 12)
        ? { name: 'node', status: 'ok', detail: process.version }
        : {
            name: 'node',
            status: 'fail',
            detail: `${process.version} is older than 22.12`,
            fix: 'install Node 22.12 or newer',
          },
    )
    let config: DstackConfig | undefined
    try {
      config = loadConfig()
      checks.push(
        config.exists
          ? { name: 'config', status: 'ok', detail: config.path }
          : {
              name: 'config',
              status: 'warn',
              detail: `no ${config.path}: using defaults (agent ${config.agent.id}, embedded brain)`,
              fix: 'dstack init --agent <your-handle>',
            },
      )
      for (const warning of config.warnings)
        checks.push({ name: 'config mode', status: 'fail', detail: warning, fix: `chmod 600 ${config.path}` })
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error
      checks.push({
        name: 'config',
        status: 'fail',
        detail: error.message,
        fix: `edit ${error.source} at the line shown`,
      })
    }
    if (config) checks.push(...(await diagnoseBrain(config.brain, config.agent.id)))

    const healthy = checks.every((check) => check.status !== 'fail')
    this.say(formatChecks(checks))
    if (!healthy) process.exitCode = EXIT.UNHEALTHY
    return { healthy, checks }
  }
}
