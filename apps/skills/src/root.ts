import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

/**
 * Where the skill sources are: the copy shipped in this package (bundle/, made by the build), or, in the dstack
 * repository, its skills/ folder.
 *
 * @example
 * readBundle(bundleRoot())
 */
export function bundleRoot(): string {
  // In the dstack repository the sources win over a bundle/ copy that may be older than them.
  const repo = fileURLToPath(new URL('../../../', import.meta.url))
  if (existsSync(`${repo}pnpm-workspace.yaml`) && existsSync(`${repo}skills`)) return `${repo}skills`
  const shipped = fileURLToPath(new URL('../bundle', import.meta.url))
  if (existsSync(shipped)) return shipped
  throw new Error(
    'the skill sources are missing: neither bundle/ (a built package) nor the repository skills/ folder',
  )
}
