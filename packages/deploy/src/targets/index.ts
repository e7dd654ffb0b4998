import type { ServiceConfig } from '../config.ts'
import { LocalTarget } from './local.ts'
import { SshTarget } from './ssh.ts'
import type { Target } from './target.ts'

export { LocalTarget } from './local.ts'
export { shellLine, shellQuote } from './quote.ts'
export { SSH_CONNECTION_FAILED, SshTarget, type SshTargetOptions } from './ssh.ts'
export type { ExecOptions, Target } from './target.ts'

/**
 * The target for one of a service's hosts: `local`, or an SSH host with the service's ssh settings.
 *
 * @example
 * const target = openTarget('ssh://deploy@vps1', service.ssh)
 */
export function openTarget(host: string, ssh: ServiceConfig['ssh']): Target {
  if (host === 'local') return new LocalTarget()
  return new SshTarget({
    url: host,
    identityFile: ssh.identity_file,
    knownHosts: ssh.known_hosts,
    connectTimeoutS: ssh.connect_timeout_s,
  })
}
