/** config.yaml or a DSTACK_* variable is wrong. `problems` each name the place and say what to change. */
export class ConfigError extends Error {
  readonly source: string
  readonly problems: string[]

  constructor(source: string, problems: string[]) {
    super(`${source}: ${problems.join('; ')}`)
    this.name = 'ConfigError'
    this.source = source
    this.problems = problems
  }
}
