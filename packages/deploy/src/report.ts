import type { DeployPlan, Step } from './plan.ts'
import { describeStep } from './plan.ts'
import type { DeployReport, StepRun } from './run.ts'
import { shellLine } from './targets/index.ts'
import type { Target } from './targets/target.ts'

const OUTCOME: Record<DeployReport['outcome'], string> = {
  deployed: 'deployed',
  'rolled-back': 'FAILED, rolled back',
  aborted: 'FAILED before going live (nothing changed)',
  failed: 'FAILED, and could not restore the previous release: needs a person',
  refused: 'refused (nothing was changed)',
}

/**
 * A report as people read it: the outcome and why first, then each step with its time, then the rollback.
 *
 * @example
 * console.log(formatReport(report))
 * // api → local: FAILED, rolled back (2.4 s)
 * //   why: health: http://127.0.0.1:3000/health: status 500, expected 200
 */
export function formatReport(report: DeployReport): string {
  const lines = [
    `${report.service} → ${report.target}: ${OUTCOME[report.outcome]} (${seconds(report.durationMs)})`,
    `  release ${report.release}${report.previous ? `, previous ${report.previous}` : ', first release'}; serving ${report.serving ?? 'nothing'}`,
  ]
  if (report.reason) lines.push(`  why: ${report.reason}`)
  const block = (title: string, runs: StepRun[]) => {
    if (runs.length === 0) return
    lines.push(`  ${title}:`)
    for (const r of runs) {
      lines.push(
        `    ${r.status === 'ok' ? '✓' : '✗'} ${r.title.padEnd(58)} ${seconds(r.durationMs).padStart(7)}`,
      )
      if (r.error) lines.push(`        ${r.error.split('\n').join('\n        ')}`)
    }
  }
  block('steps', report.steps)
  block('rollback', report.rollback)
  block('finish', report.finish)
  return lines.join('\n')
}

/**
 * A plan as the dry run prints it: every command exactly as the run will execute it, numbered, then the rollback
 * for each point a failure can happen, then the finishing steps.
 *
 * @example
 * console.log(formatPlan(plan, target))
 */
export function formatPlan(plan: DeployPlan, target: Target): string {
  const lines = [
    `${plan.action} ${plan.service} → ${plan.target}: release ${plan.release}${plan.previous ? ` (current ${plan.previous})` : ' (first release)'}`,
  ]
  if (plan.migrations.pending.length > 0)
    lines.push(`  migrations to apply: ${plan.migrations.pending.join(', ')}`)
  for (const b of plan.migrations.breaking)
    lines.push(`  ! not backward-compatible: ${b.file}:${b.line} ${b.rule}: ${b.statement}`)
  if (plan.refusal) lines.push(`  REFUSED: ${plan.refusal}`)
  const show = (step: Step, n: string, note = '') => {
    lines.push(`  ${n} ${step.title}${note}`)
    lines.push(`     $ ${commandLine(target, step)}`)
  }
  for (const [i, s] of plan.steps.entries()) show(s, `${String(i + 1).padStart(2)}.`)
  lines.push('  on failure:')
  for (const [i, s] of plan.rollback.entries()) show(s, `r${i + 1}.`, ` (if ${s.when})`)
  lines.push('  always:')
  for (const [i, s] of plan.finish.entries()) show(s, `f${i + 1}.`)
  return lines.join('\n')
}

/** A step's command as one line, with what it reads on stdin (never the values). */
export function commandLine(target: Target, step: Step): string {
  const command =
    step.on === 'http' ? describeStep(target, step).join(' ') : shellLine(describeStep(target, step))
  const stdin = step.stdin
  if (!stdin) return command
  if (stdin.kind === 'tar') return `${shellLine(stdin.argv)} | ${command}`
  if (stdin.kind === 'env')
    return `${command} < .env(${[...stdin.keys, ...stdin.secrets.map((k) => `${k}=***`)].join(', ')})`
  if (stdin.kind === 'pg') return `${command} < PG* connection (hidden)`
  return `${command} < history line`
}

function seconds(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`
}
