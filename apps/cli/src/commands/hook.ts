import { HOOK_EVENTS, runHook } from '@dstack/hooks'
import { Args, Command, Flags } from '@oclif/core'

// Not a DstackCommand: a hook prints exactly what Claude Code expects (no --json wrapper) and exits 0 or 2.
// bin/run.js serves `dstack hook <Event>` without loading oclif; this class gives it --help and a fallback.
export default class Hook extends Command {
  static override summary = 'Run a Claude Code hook event (reads the event JSON on stdin)'
  static override description =
    `Installed by \`dstack hooks install\`; not usually run by hand. PostToolUse, UserPromptSubmit,
Stop, PreCompact and SessionEnd append to the local outbox and return in milliseconds, brain up or down. SessionStart
prints the team digest as additionalContext. PreToolUse on \`git push\` runs the conflict pre-check.

Exit codes: 0 whatever happens (hooks fail open), except 2 when --strict pre-check finds overlaps (the push is blocked) or --strict-gate finds open questions (the
commit is blocked).`
  static override examples = [
    `echo '{"session_id":"s1","cwd":"/repo","prompt":"Add rate limiting"}' | <%= config.bin %> hook UserPromptSubmit`,
  ]
  static override args = { event: Args.string({ required: true, options: [...HOOK_EVENTS] }) }
  static override flags = {
    strict: Flags.boolean({ description: 'PreToolUse: block a push that overlaps (exit 2)' }),
    'strict-gate': Flags.boolean({
      description: 'PreToolUse: block a commit with open quality-gate questions (exit 2)',
    }),
  }

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Hook)
    const chunks: Buffer[] = []
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
    const result = await runHook(args.event, Buffer.concat(chunks).toString('utf8'), {
      strict: flags.strict,
      strictGate: flags['strict-gate'],
    })
    if (result.stdout) process.stdout.write(result.stdout)
    if (result.stderr) process.stderr.write(`${result.stderr}\n`)
    process.exitCode = result.exitCode
  }
}
