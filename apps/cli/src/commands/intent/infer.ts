import { type InferResult, inferIntent } from '@dstack/brain-schema'
import { Flags } from '@oclif/core'
import { DstackCommand } from '../../lib/command.ts'
import { BRAIN_EXIT_HELP } from '../../lib/exit-codes.ts'

export default class IntentInfer extends DstackCommand {
  static override summary =
    'Infer the intent from a prompt, without any LLM (what the UserPromptSubmit hook does)'
  static override description =
    `With no active intent, a prompt of three words or more becomes one (its first line is the
title). An inferred intent gets the latest prompt as its body; a written one is left alone.

${BRAIN_EXIT_HELP}.`
  static override examples = [
    `<%= config.bin %> intent infer --prompt "Add rate limiting to the login endpoint"`,
  ]
  static override flags = { prompt: Flags.string({ required: true, description: 'the prompt text' }) }

  async run(): Promise<InferResult> {
    const { flags } = await this.parse(IntentInfer)
    const result = await this.withWorkspace((ws) =>
      inferIntent(ws.brain.db, ws.scope, { prompt: flags.prompt }),
    )
    this.say(
      result.action === 'skipped'
        ? `skipped: ${result.reason}`
        : `${result.action}: "${result.intent.title}"`,
    )
    return result
  }
}
