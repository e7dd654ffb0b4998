// What a command-line client needs, without playwright-core: the CLI loads this on every `dstack browse`.
export { BrowserClient, type ClientOptions, daemonStatus, stopDaemon, VERSION } from './client.ts'
export { batchCommandsSchema, type CommandReply } from './daemon/protocol.ts'
export { BrowserBusyError, BrowserError, BrowserUnavailableError, CommandError } from './errors.ts'
export { type Expectation, type Flow, flowSchema, loadFlow, SMOKE_FLOW, type Step } from './qa/flow.ts'
export { type QaOptions, type QaReport, runQa, type StepReport } from './qa/run.ts'
