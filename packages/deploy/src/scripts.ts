// The few things a deploy does on a target that are more than one command. Each is a fixed POSIX sh program run as
// `sh -c <script> <name> <args…>`: values arrive as positional parameters ("$1"), never pasted into the script, so
// a release name or a path from the config cannot change what runs. They use only POSIX sh and coreutils.

/** `sh -c SCRIPT name args…` as an argv. */
export function script(body: string, name: string, ...args: string[]): string[] {
  return ['sh', '-c', body, `dstack-${name}`, ...args]
}

/** Exit status of the lock step when someone else holds a live lock. */
export const LOCKED_EXIT = 75
/** Exit status of the lock step when `current` is not what the plan was made from. */
export const MOVED_EXIT = 76

/**
 * lock <dir> <token> <ttl_s> <owner> <expected current|-> — takes the deploy lock, a directory made complete under a
 * private name and renamed into place (rename of a directory onto an existing one fails), so the lock is never seen
 * half-written. A lock past its expiry is stale: it is renamed aside, and only if the renamed one is still the stale
 * one (not a lock a racer just took) is it removed; otherwise it is put back. Then checks that `current` is still
 * what the plan expects, and gives the lock back if not.
 */
export const LOCK = `set -u
lock=$1 token=$2 ttl=$3 owner=$4 expect=$5
root=\${lock%/.dstack/lock}
mkdir -p "\${lock%/*}" || exit 1
now=$(date +%s)
fresh="$lock.new.$token"
rm -rf "$fresh"; mkdir "$fresh" || exit 1
printf '%s\\n' "$token" >"$fresh/token"
printf '%s\\n' $((now + ttl)) >"$fresh/expires"
printf '%s\\n' "$owner" >"$fresh/owner"
if ! mv -T "$fresh" "$lock" 2>/dev/null; then
  held=$(cat "$lock/token" 2>/dev/null || echo)
  exp=$(cat "$lock/expires" 2>/dev/null || echo 0)
  if [ -n "$held" ] && [ "$now" -lt "$exp" ]; then
    rm -rf "$fresh"
    echo "locked by $(cat "$lock/owner" 2>/dev/null), until $(date -u -d "@$exp" +%FT%TZ 2>/dev/null || echo "$exp")" >&2
    exit ${LOCKED_EXIT}
  fi
  aside="$lock.stale.$token"
  if mv -T "$lock" "$aside" 2>/dev/null; then
    if [ "$(cat "$aside/token" 2>/dev/null || echo)" = "$held" ]; then
      echo "took over a stale lock: $(cat "$aside/owner" 2>/dev/null || echo unknown), expired at $exp"
      rm -rf "$aside"
    else
      mv -T "$aside" "$lock" 2>/dev/null
    fi
  fi
  if ! mv -T "$fresh" "$lock" 2>/dev/null; then
    rm -rf "$fresh"
    echo "locked: another deploy took the stale lock first" >&2
    exit ${LOCKED_EXIT}
  fi
fi
cur=$(readlink "$root/current" 2>/dev/null || echo -)
cur=\${cur#releases/}
if [ "$cur" != "$expect" ]; then
  [ "$(cat "$lock/token" 2>/dev/null)" = "$token" ] && rm -rf "$lock"
  echo "current is $cur, but the plan was made for $expect: plan again" >&2
  exit ${MOVED_EXIT}
fi
echo "locked until $(date -u -d "@$((now + ttl))" +%FT%TZ 2>/dev/null || echo $((now + ttl)))"`

/** unlock <dir> <token> — removes the lock only if it is still ours (a lock we lost to a takeover is left alone). */
export const UNLOCK = `lock=$1 token=$2
if [ "$(cat "$lock/token" 2>/dev/null)" = "$token" ]; then rm -rf "$lock"; echo unlocked
elif [ -d "$lock" ]; then echo "the lock is not ours any more; left in place" >&2
else echo "no lock held"; fi`

/** force-unlock <dir> — removes any lock (an operator's explicit takeover), printing whose it was. */
export const FORCE_UNLOCK = `lock=$1
if [ -d "$lock" ]; then echo "removed the lock of $(cat "$lock/owner" 2>/dev/null || echo unknown)"; rm -rf "$lock"
else echo "no lock held"; fi`

/**
 * receive <dir> <name> — unpacks a tar stream of <name> from stdin into a new release directory: a directory named
 * <name> becomes the release, a file is put inside it. Unpacked under a private name first, so a broken upload never
 * leaves a release that looks complete.
 */
export const RECEIVE = `set -e
dest=$1 name=$2
mkdir -p "\${dest%/*}"
rm -rf "$dest.partial"; mkdir "$dest.partial"
tar -C "$dest.partial" -xf -
if [ -d "$dest.partial/$name" ] && [ ! -L "$dest.partial/$name" ]; then
  mv -T "$dest.partial/$name" "$dest"; rmdir "$dest.partial"
else
  mv -T "$dest.partial" "$dest"
fi
echo "received $(du -sk "$dest" | cut -f1) KiB"`

/** write-file <path> — stdin becomes the file, mode 0600, replaced atomically (the release's .env with secrets). */
export const WRITE_PRIVATE = `set -e
umask 077
cat >"$1.tmp"
mv -f "$1.tmp" "$1"`

/** switch <root> <release> — points `current` at releases/<release> with one rename (never a missing `current`). */
export const SWITCH = `set -e
[ -d "$1/releases/$2" ] || { echo "no release $2 under $1/releases" >&2; exit 1; }
ln -sfn "releases/$2" "$1/.current.$2"
mv -T "$1/.current.$2" "$1/current"
echo "current -> releases/$2"`

/** unlink-current <root> — the first release failed: there is nothing to go back to. */
export const UNLINK_CURRENT = `rm -f "$1/current"; echo "current removed (no earlier release)"`

/**
 * proc <restart|stop> <root> <name> <dir> <stop_timeout_ms> <boot_check_ms> [argv…] — the process driver. Stops the running instance
 * (SIGTERM, then SIGKILL after the timeout; the pid is only trusted if its start time still matches), then starts argv
 * in <dir> with its .env, in a session of its own so it outlives this command and the SSH connection, and checks it is
 * still up a moment later (a crash on boot fails the step with the end of its log).
 */
export const PROCESS = `set -u
mode=$1 root=$2 name=$3 dir=$4 grace_ms=$5 boot_ms=$6; shift 6
run="$root/.dstack/run"; log="$root/logs/$name.log"
mkdir -p "$run" "$root/logs"
started() { sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f20; }
alive() { [ -e "/proc/$1" ] && ! sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | grep -q '^Z'; }
if [ -f "$run/$name.pid" ]; then
  read -r pid since <"$run/$name.pid" || true
  if [ -n "\${pid:-}" ] && alive "$pid" && [ "$(started "$pid")" = "\${since:-}" ]; then
    # The whole process group: the service was started as a session leader, so its workers go too.
    kill -TERM -- -"$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
    waited=0
    while alive "$pid" && [ "$waited" -lt "$grace_ms" ]; do sleep 0.05; waited=$((waited + 50)); done
    if alive "$pid"; then
      kill -KILL -- -"$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null
      waited=0; while alive "$pid" && [ "$waited" -lt 5000 ]; do sleep 0.05; waited=$((waited + 50)); done
      echo "stopped $pid (killed after $grace_ms ms)"
    else echo "stopped $pid"; fi
  fi
  rm -f "$run/$name.pid"
fi
[ "$mode" = stop ] && exit 0
cd "$dir" || exit 1
printf '\\n== %s start %s\\n' "$(date -u +%FT%TZ)" "$dir" >>"$log"
from=$(wc -c <"$log")
# .env is loaded in the service's own shell (its keys never change this script), which then becomes the service.
setsid sh -c 'if [ -f .env ]; then set -a; . ./.env; set +a; fi; exec "$@"' dstack-service "$@" >>"$log" 2>&1 </dev/null &
pid=$!
for i in 1 2 3 4 5 6; do [ -n "$(started "$pid")" ] && break; sleep 0.05; done
printf '%s %s\\n' "$pid" "$(started "$pid")" >"$run/$name.pid"
waited=0
while alive "$pid" && [ "$waited" -lt "$boot_ms" ]; do sleep 0.05; waited=$((waited + 50)); done
if ! alive "$pid"; then
  echo "$name exited at boot; its log ends:" >&2
  tail -c +$((from + 1)) "$log" | tail -n 20 >&2
  kill -KILL -- -"$pid" 2>/dev/null # a child it left (a service that daemonizes is not supported)
  rm -f "$run/$name.pid"
  exit 1
fi
echo "started $name as pid $pid"`

/** proc-status <root> <name> — `running <pid>` or `stopped`. */
export const PROCESS_STATUS = `pidf="$1/.dstack/run/$2.pid"
if [ -f "$pidf" ] && read -r pid since <"$pidf" && [ -e "/proc/$pid" ] && [ "$(sed 's/.*) //' "/proc/$pid/stat" | cut -d' ' -f20)" = "$since" ]; then echo "running $pid"; else echo stopped; fi`

/** systemd <unit> [sudo] — restart, then make sure it stayed up (every systemctl through `sudo -n` with `sudo`, so a
 *  sudoers rule for systemctl alone is enough); on failure print its status. */
export const SYSTEMD_RESTART = `s=; [ "$2" = sudo ] && s='sudo -n'
$s systemctl restart "$1" || { $s systemctl status --no-pager -n 20 "$1" >&2; exit 1; }
sleep 0.3
$s systemctl is-active --quiet "$1" || { echo "$1 is not active after the restart" >&2; $s systemctl status --no-pager -n 20 "$1" >&2; exit 1; }
echo "$1 restarted"`

/** with-pg — exports the PG* lines on stdin (the connection, password included) and runs argv with them. */
export const WITH_PG = `while IFS= read -r kv; do case $kv in PG*=*) export "$kv" ;; esac; done
exec "$@"`

/** backup <file> — pg_dump (custom format) of the database named by the PG* environment into <file>. */
export const BACKUP = `umask 077 && mkdir -p "\${1%/*}" && exec pg_dump --format=custom --no-password --file="$1"`

/**
 * prune <root> <keep> <keep-name…> — removes the oldest releases beyond <keep>, never one of the names given (the
 * new release and the one before it), and the partial uploads of failed deploys.
 */
export const PRUNE = `root=$1 keep=$2; shift 2
cd "$root/releases" || exit 0
rm -rf ./*.partial
n=0
for r in $(ls -1 | sort -r); do
  n=$((n + 1))
  skip=0; for k in "$@"; do [ "$r" = "$k" ] && skip=1; done
  if [ "$n" -gt "$keep" ] && [ "$skip" = 0 ]; then rm -rf "./$r" && echo "removed $r"; fi
done
true`

/** remove-release <root> <release> — a release that never went live. */
export const REMOVE_RELEASE = `rm -rf "$1/releases/$2" "$1/releases/$2.partial"; echo "removed $2"`

/** append <file> — stdin is appended as one line (history). */
export const APPEND = `mkdir -p "\${1%/*}" && cat >>"$1"`

/**
 * inspect <root> <history lines> — what planning needs, read-only: current release, releases on disk, the lock, and the history's
 * recent history, as `key value` lines.
 */
export const INSPECT = `root=$1
cur=$(readlink "$root/current" 2>/dev/null || echo -)
echo "current \${cur#releases/}"
ls -1 "$root/releases" 2>/dev/null | grep -v '\\.partial$' | sed 's/^/release /'
if [ -d "$root/.dstack/lock" ]; then
  echo "lock $(cat "$root/.dstack/lock/expires" 2>/dev/null || echo 0) $(date +%s) $(cat "$root/.dstack/lock/owner" 2>/dev/null)"
fi
tail -n "$2" "$root/.dstack/history.jsonl" 2>/dev/null | sed 's/^/history /'
true`
