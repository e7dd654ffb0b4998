/**
 * What the deploy names does not exist: a release, a host of the service, or an earlier release to go back to.
 *
 * @example
 * try { planRollback(service, target, state, { to: 'nope' }) } catch (e) { if (e instanceof NotFoundError) … }
 */
export class NotFoundError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'NotFoundError'
  }
}

/**
 * The request makes no sense as given (rolling back to the release that is already current, reusing a release name).
 *
 * @example
 * planRollback(service, target, state, { to: state.current! }) // throws UsageError
 */
export class UsageError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'UsageError'
  }
}
