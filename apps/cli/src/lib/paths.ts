import { resolve } from 'node:path'
import { InvalidInputError } from '@dstack/brain-schema'
import { repoRelativePath } from '@dstack/git'

/** A file argument (relative to the current directory, or absolute) as a path relative to the repository root. */
export function repoFile(root: string, file: string): string {
  const relative = repoRelativePath(root, resolve(process.cwd(), file))
  if (!relative) {
    throw new InvalidInputError('file', [
      {
        code: 'custom',
        path: ['file'],
        message: `${file} is outside the repository at ${root}`,
        input: file,
      },
    ])
  }
  return relative
}
