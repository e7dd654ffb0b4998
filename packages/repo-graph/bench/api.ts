// The parts of @dstack/repo-graph the bench drives, in this process (from source).
import { affected, buildGraph, discoverRepos, repoStates } from '../src/index.ts'

export const api = { affected, buildGraph, discoverRepos, repoStates }
export type Api = typeof api
