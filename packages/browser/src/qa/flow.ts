// A QA flow: steps an agent (or CI) replays against a site, with assertions. Written as YAML or JSON.
import { readFileSync } from 'node:fs'
import { formatYamlIssue, parseYaml } from '@dstack/config'
import { z } from 'zod'
import { CommandError } from '../errors.ts'

const target = z.string().min(1)

/** What must hold at this point of the flow; every key given is checked. */
export const expectationSchema = z
  .strictObject({
    /** The visible text contains this. */
    text: z.string().min(1).optional(),
    /** The visible text does not contain this. */
    no_text: z.string().min(1).optional(),
    /** The URL contains this. */
    url: z.string().min(1).optional(),
    /** The title contains this. */
    title: z.string().min(1).optional(),
    /** This element (css or @ref) is visible. */
    visible: target.optional(),
    /** No console error or uncaught exception since the flow started. */
    no_console_errors: z.literal(true).optional(),
    /** No request failed or answered 4xx/5xx since the flow started. */
    no_failed_requests: z.literal(true).optional(),
  })
  .refine((e) => Object.keys(e).length > 0, 'an expect step needs at least one check')

export const stepSchema = z.union([
  z.strictObject({ goto: z.string().min(1) }),
  z.strictObject({ click: target }),
  z.strictObject({ fill: z.strictObject({ target, value: z.string(), secret: z.boolean().optional() }) }),
  z.strictObject({
    select: z.strictObject({ target, value: z.union([z.string(), z.array(z.string()).min(1)]) }),
  }),
  z.strictObject({ press: z.string().min(1) }),
  z.strictObject({
    wait: z.strictObject({
      text: z.string().optional(),
      url: z.string().optional(),
      target: target.optional(),
      ms: z.number().int().min(0).max(60_000).optional(),
    }),
  }),
  z.strictObject({
    screenshot: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'a screenshot name is letters, digits, . _ -'),
  }),
  z.strictObject({ expect: expectationSchema }),
])

export const flowSchema = z.strictObject({
  name: z.string().min(1).optional(),
  steps: z.array(stepSchema).min(1),
})

export type Flow = z.infer<typeof flowSchema>
export type Step = z.infer<typeof stepSchema>
export type Expectation = z.infer<typeof expectationSchema>

/**
 * Reads a flow file (YAML or JSON); a bad file is a CommandError naming the line and the step.
 *
 * @example
 * loadFlow('qa/login.yaml').steps[0] // { goto: '/login' }
 */
export function loadFlow(path: string): Flow {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    throw new CommandError('bad-flow', `cannot read ${path}: ${(error as Error).message}`)
  }
  const parsed = parseYaml(text, flowSchema)
  if (!parsed.ok)
    throw new CommandError('bad-flow', `${path}: ${parsed.issues.map(formatYamlIssue).join('; ')}`)
  return parsed.value
}

/** The flow `dstack qa <url>` runs when given none: load the page, no console errors, no failed requests. */
export const SMOKE_FLOW: Flow = {
  name: 'smoke',
  steps: [
    { goto: '' },
    { screenshot: 'loaded' },
    { expect: { no_console_errors: true, no_failed_requests: true } },
  ],
}
