// The detached daemon process: `node main.js '<json options>'`, started by the client (see client.ts).
import { z } from 'zod'
import { daemonFiles } from './files.ts'
import { startDaemon } from './server.ts'

const options = z
  .strictObject({
    workspace: z.string(),
    home: z.string(),
    version: z.string(),
    settings: z.strictObject({
      allowEval: z.boolean(),
      allowDomains: z.array(z.string()).nullable(),
      idleMinutes: z.number().positive(),
    }),
  })
  .parse(JSON.parse(process.argv[2] ?? '{}'))

const daemon = await startDaemon({
  workspace: options.workspace,
  files: daemonFiles(options.workspace, options.home),
  settings: options.settings,
  version: options.version,
})
process.stderr.write(
  `[dstack browser] pid ${process.pid} on 127.0.0.1:${daemon.port} for ${options.workspace}\n`,
)
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const)
  process.on(signal, () => void daemon.close(signal).then(() => process.exit(0)))
