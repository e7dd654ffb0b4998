# shellcheck shell=bash
# Sourced by scripts/quickstart.sh and scripts/test.sh.
#
# Makes Node >= 22.12 and the pinned pnpm available on PATH, then installs the workspace.
# Missing tools are fetched from the npm registry into .toolchain/ (no root, nothing global);
# a second run finds them there and does nothing. Needs only some `npm` (Node 20 is fine).

DSTACK_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DSTACK_TOOLCHAIN="${DSTACK_TOOLCHAIN_DIR:-$DSTACK_ROOT/.toolchain}"
DSTACK_NODE_VERSION="22.23.3"
DSTACK_PNPM_VERSION="$(sed -n 's/.*"packageManager": *"pnpm@\([^"]*\)".*/\1/p' "$DSTACK_ROOT/package.json")"

toolchain_log() { printf '[toolchain] %s\n' "$*" >&2; }

toolchain_die() {
  printf '[toolchain] error: %s\n' "$*" >&2
  exit 1
}

# True when `node` on PATH is at least 22.12.
toolchain_node_ok() {
  command -v node >/dev/null 2>&1 &&
    node -e 'const [a,b]=process.versions.node.split(".").map(Number);process.exit(a>22||(a===22&&b>=12)?0:1)' 2>/dev/null
}

toolchain_pnpm_ok() {
  command -v pnpm >/dev/null 2>&1 && [ "$(pnpm --version 2>/dev/null)" = "$DSTACK_PNPM_VERSION" ]
}

# The npm package that carries a Node binary for this machine: node-<os>-<arch>.
toolchain_node_package() {
  local os arch
  case "$(uname -s)" in
    Linux) os=linux ;;
    Darwin) os=darwin ;;
    *) toolchain_die "unsupported OS $(uname -s): install Node >= 22.12 yourself and re-run" ;;
  esac
  case "$(uname -m)" in
    x86_64 | amd64) arch=x64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) toolchain_die "unsupported CPU $(uname -m): install Node >= 22.12 yourself and re-run" ;;
  esac
  printf 'node-%s-%s' "$os" "$arch"
}

toolchain_ensure() {
  local node_pkg wanted=()
  node_pkg="$(toolchain_node_package)"
  export PATH="$DSTACK_TOOLCHAIN/node_modules/$node_pkg/bin:$DSTACK_TOOLCHAIN/node_modules/.bin:$PATH"

  toolchain_node_ok || wanted+=("$node_pkg@$DSTACK_NODE_VERSION")
  toolchain_pnpm_ok || wanted+=("pnpm@$DSTACK_PNPM_VERSION")
  if [ "${#wanted[@]}" -gt 0 ]; then
    command -v npm >/dev/null 2>&1 || toolchain_die "npm not found: install any Node.js with npm, then re-run"
    toolchain_log "fetching ${wanted[*]} from the npm registry into $DSTACK_TOOLCHAIN"
    mkdir -p "$DSTACK_TOOLCHAIN"
    [ -f "$DSTACK_TOOLCHAIN/package.json" ] || printf '{"private":true}\n' >"$DSTACK_TOOLCHAIN/package.json"
    npm install --prefix "$DSTACK_TOOLCHAIN" --no-audit --no-fund --loglevel=error "${wanted[@]}" >&2 ||
      toolchain_die "npm install ${wanted[*]} failed"
    hash -r
    toolchain_node_ok || toolchain_die "node $(node -v 2>/dev/null) is still older than 22.12 after the install"
    toolchain_pnpm_ok || toolchain_die "pnpm $DSTACK_PNPM_VERSION is not runnable after the install"
  fi
  toolchain_log "node $(node -v), pnpm $(pnpm --version)"

  # pnpm must not try to reach corepack or update itself; the lockfile is the source of truth.
  export COREPACK_ENABLE_STRICT=0 npm_config_update_notifier=false
  (cd "$DSTACK_ROOT" && pnpm install --frozen-lockfile --prefer-offline --reporter=silent >&2) ||
    toolchain_die "pnpm install failed"
}

# Chromium for @dstack/browser, from Debian's archive (Playwright's own download is not reachable here, and the
# system package gets security updates). DSTACK_CHROMIUM points at another binary instead.
toolchain_chromium() {
  local bin="${DSTACK_CHROMIUM:-/usr/bin/chromium}"
  if [ -x "$bin" ]; then
    toolchain_log "chromium: $bin"
    return 0
  fi
  command -v apt-get >/dev/null 2>&1 ||
    toolchain_die "chromium not found at $bin and no apt-get: install Chromium and set DSTACK_CHROMIUM to its path"
  local sudo=""
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null 2>&1 || toolchain_die "installing chromium needs root: run 'apt-get install chromium' as root"
    sudo="sudo -n"
  fi
  toolchain_log "installing chromium from Debian's archive"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 &&
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-liberation >&2 ||
    toolchain_die "apt-get install chromium failed"
  [ -x /usr/bin/chromium ] || toolchain_die "chromium was installed but /usr/bin/chromium is missing"
  toolchain_log "chromium: $(/usr/bin/chromium --version 2>/dev/null)"
}

# Caddy and OpenSSH's server for @dstack/deploy's tests, from Debian's archive: the tests start their own sshd and
# caddy on free loopback ports, so the packages' own services must not run. policy-rc.d answering 101 stops
# invoke-rc.d from starting them during the install (there is no systemd to start them otherwise); a pre-existing
# policy-rc.d is put back afterwards, and any sshd or caddy the install still started is stopped by pid.
toolchain_deploy() {
  local sshd=/usr/sbin/sshd caddy=/usr/bin/caddy
  if [ -x "$sshd" ] && [ -x "$caddy" ] && command -v ssh >/dev/null 2>&1 && command -v ssh-keygen >/dev/null 2>&1; then
    toolchain_log "deploy: caddy $("$caddy" version 2>/dev/null | cut -d' ' -f1), $(ssh -V 2>&1)"
    return 0
  fi
  command -v apt-get >/dev/null 2>&1 ||
    toolchain_die "caddy or sshd missing and no apt-get: install caddy and openssh-server (no services needed)"
  local sudo=""
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null 2>&1 ||
      toolchain_die "installing caddy and openssh-server needs root: run 'apt-get install caddy openssh-server' as root"
    sudo="sudo -n"
  fi
  local policy=/usr/sbin/policy-rc.d saved="" before status=0 log
  log="$(mktemp)"
  before="$(pgrep -d ' ' -x 'sshd|caddy' || true)"
  if [ -e "$policy" ]; then
    saved="$policy.dstack-saved"
    $sudo mv -f "$policy" "$saved"
  fi
  printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null && $sudo chmod 755 "$policy"
  toolchain_log "installing caddy and openssh-server from Debian's archive (their services stay stopped)"
  # dpkg's chatter goes to a log that is shown only when the install fails.
  {
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
      $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        caddy openssh-server openssh-client
  } >"$log" 2>&1 || status=$?
  if [ -n "$saved" ]; then $sudo mv -f "$saved" "$policy"; else $sudo rm -f "$policy"; fi
  # Whatever a postinst started anyway (pids not running before the install).
  local pid
  for pid in $(pgrep -x 'sshd|caddy' || true); do
    case " $before " in *" $pid "*) ;; *) $sudo kill "$pid" 2>/dev/null || true ;; esac
  done
  if [ "$status" != 0 ]; then
    cat "$log" >&2
    rm -f "$log"
    toolchain_die "apt-get install caddy openssh-server failed"
  fi
  rm -f "$log"
  [ -x "$sshd" ] && [ -x "$caddy" ] || toolchain_die "caddy or openssh-server was installed but $caddy or $sshd is missing"
  toolchain_log "deploy: caddy $("$caddy" version 2>/dev/null | cut -d' ' -f1), $(ssh -V 2>&1)"
}
