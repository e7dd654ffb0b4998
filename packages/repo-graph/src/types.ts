// The model every part of @dstack/repo-graph shares: repositories, the packages their manifests declare, the edges
// between packages (each with the manifest line that creates it), and problems found on the way.

/** The JSON contract's version; bumped on any breaking change to the shapes below. */
export const GRAPH_SCHEMA = 'dstack.repo-graph/v1'

/** A git working tree found under one of the roots. */
export interface Repo {
  /** Its path relative to the root it was found under (`ares`, `libs/core`); unique within one graph. */
  id: string
  /** Absolute path of the working tree (symlinks resolved). */
  root: string
  /** `host/org/repo` from its origin remote, or `local:<root>` when it has none (see @dstack/git canonicalRemote). */
  canonical: string
}

export type Ecosystem = 'cargo' | 'npm' | 'go' | 'python'

/**
 * How a dependency reaches its target: a local `path` (Cargo path, npm file:/link:, go.mod replace => ../x, uv or
 * Poetry path source), a `git` URL that is some repository's remote, a `workspace` member of the same workspace
 * (Cargo workspace = true, npm workspace:, uv workspace source, go.work), or a `registry` dependency whose name
 * matches a package in the fleet.
 */
export type EdgeKind = 'path' | 'git' | 'workspace' | 'registry'

/** Which section declared the dependency. */
export type DependencyScope = 'normal' | 'dev' | 'build' | 'peer' | 'optional'

/** A place in a file; line is 1-based, null when the problem is the file as a whole. */
export interface SourceRef {
  /** Absolute path. */
  file: string
  line: number | null
}

/** A package (crate, npm package, Go module, Python project) declared by one manifest. */
export interface PackageNode {
  /** `<ecosystem>:<name>`, suffixed with `@<repo id>` when two repositories declare the same name. */
  id: string
  ecosystem: Ecosystem
  name: string
  version: string | null
  /** The Repo.id it lives in. */
  repo: string
  /** Absolute directory holding its manifest. */
  dir: string
  /** Absolute path of the manifest. */
  manifest: string
}

/** `from` depends on `to`. */
export interface Edge {
  from: string
  to: string
  kind: EdgeKind
  scope: DependencyScope
  /** What the manifest says, as written (`{ path = "../core" }`, `workspace:*`, `../core`, `>=1.2`). */
  spec: string
  /** The manifest line that creates the edge. */
  source: SourceRef
}

export type ProblemKind =
  /** The manifest cannot be parsed (bad TOML/JSON/go.mod syntax). */
  | 'parse'
  /** Parsed, but a field has the wrong shape (a dependency that is a number, a name that is not a string). */
  | 'invalid'
  /** A path dependency or workspace member that points at nothing the graph knows. */
  | 'dangling'
  /** A registry name that two or more fleet packages share, none in the same repository. */
  | 'ambiguous'
  /** A repository or directory that could not be read. */
  | 'unreadable'

/** Something wrong in the fleet, reported with where it is; never a crash. */
export interface Problem {
  kind: ProblemKind
  message: string
  source: SourceRef
}

/** Everything `buildGraph` knows about the fleet. */
export interface RepoGraph {
  schema: typeof GRAPH_SCHEMA
  /** The absolute roots searched. */
  roots: string[]
  repos: Repo[]
  packages: PackageNode[]
  edges: Edge[]
  problems: Problem[]
}
