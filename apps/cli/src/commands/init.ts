import { type BrainUpResult, brainUp } from '@dstack/brain-schema'
import { type ConfigFile, loadConfig, updateConfigFile } from '@dstack/config'
import { Flags } from '@oclif/core'
import { agentOf, DstackCommand } from '../lib/command.ts'
import { EXIT } from '../lib/exit-codes.ts'
import { keyValues } from '../lib/format.ts'

export default class Init extends DstackCommand {
  static override summary = 'Write ~/.dstack/config.yaml (mode 0600) and make the brain ready'
  static override description =
    `Sets the given keys in the config file, keeping everything else in it (comments too), then runs
\`dstack brain up\`. Without --brain-url the brain is embedded (PGlite under ~/.dstack/brain).

Exit codes: 0 done, 2 a value is invalid (the file is left unchanged), 3 the existing config is invalid,
4 brain unreachable.`
  static override examples = [
    '<%= config.bin %> init --agent alice --name "Alice Liddell"',
    '<%= config.bin %> init --agent bob --brain-url postgres://postgres:secret@db.example.supabase.co:5432/postgres',
  ]
  static override flags = {
    agent: Flags.string({ description: 'your handle: lowercase letters, digits, . _ -' }),
    name: Flags.string({ description: 'display name shown to teammates' }),
    email: Flags.string({ description: 'email shown to teammates' }),
    machine: Flags.string({ description: 'name of this machine (default: hostname)' }),
    'brain-url': Flags.string({
      description: 'use a Postgres brain (a local server or a Supabase connection string)',
    }),
    'brain-dir': Flags.string({ description: 'use an embedded brain with its data in this directory' }),
    'no-brain': Flags.boolean({ description: 'only write the config file' }),
  }

  async run(): Promise<{ configPath: string; agent: string; brain: BrainUpResult | null }> {
    const { flags } = await this.parse(Init)
    if (flags['brain-url'] && flags['brain-dir'])
      this.error('use --brain-url or --brain-dir, not both', { exit: EXIT.USAGE })
    const changes: Partial<ConfigFile> = {
      ...(flags.agent ? { agent: flags.agent } : {}),
      ...(flags.name ? { display_name: flags.name } : {}),
      ...(flags.email ? { email: flags.email } : {}),
      ...(flags.machine ? { machine: flags.machine } : {}),
      ...(flags['brain-url'] ? { brain: { driver: 'postgres' as const, url: flags['brain-url'] } } : {}),
      ...(flags['brain-dir'] ? { brain: { driver: 'embedded' as const, data_dir: flags['brain-dir'] } } : {}),
    }
    // An invalid existing file stops here (exit 3) before anything is changed.
    const { path } = this.settings()
    try {
      updateConfigFile(path, changes)
    } catch (error) {
      // A bad flag value: nothing was written.
      this.error((error as Error).message, { exit: EXIT.USAGE })
    }
    const config = loadConfig()
    const brain = flags['no-brain'] ? null : await brainUp(config.brain, { agent: agentOf(config) })
    this.say(
      keyValues([
        ['config', `${path} (mode 600)`],
        ['agent', `${config.agent.id} (${config.agent.displayName})`],
        [
          'brain',
          brain
            ? `${brain.driver} at ${brain.location}, schema ${brain.schemaVersion}`
            : 'not touched (--no-brain)',
        ],
      ]),
    )
    return { configPath: path, agent: config.agent.id, brain }
  }
}
