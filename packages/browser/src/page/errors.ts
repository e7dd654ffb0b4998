import { CommandError } from '../errors.ts'

/**
 * Why a ref or selector could not be used:
 * - `unknown`: never issued for this tab, or a selector that matches nothing;
 * - `navigated`: the document the ref came from is gone (navigation, reload, closed frame);
 * - `stale`: the element was removed, replaced or hidden;
 * - `changed`: the element is still there but its role or name is not what the snapshot showed;
 * - `ambiguous`: a selector matches more than one element;
 * - `invalid`: a selector that does not parse.
 */
export type RefErrorCode = 'unknown' | 'navigated' | 'stale' | 'changed' | 'ambiguous' | 'invalid'

/** A ref or selector that is refused rather than risk acting on the wrong element. */
export class RefError extends CommandError {
  declare readonly code: RefErrorCode
  /** The ref or selector as given. */
  readonly target: string

  constructor(code: RefErrorCode, target: string, message: string, hint: string) {
    super(code, `${message} ${hint}`, hint)
    this.target = target
  }
}

/**
 * The element a snapshot or text read was scoped to went away between resolving it and reading it.
 *
 * @example
 * if (result.missingRoot) throw scopeGone('@e12')
 */
export function scopeGone(target: string): RefError {
  return new RefError('stale', target, `${target} is no longer on the page.`, 'Take a new snapshot.')
}

/** Options from outside (a command line, a request body) that do not validate. */
export class PageOptionsError extends CommandError {
  constructor(what: string, issues: string) {
    super('bad-options', `bad ${what} options: ${issues}`, `fix the ${what} options and try again`)
  }
}
