// The systemd driver. This machine has no systemd (PID 1 is not systemd, and a unit cannot be started), so
// `systemctl` here is a TEST DOUBLE: a small sh script put first on PATH that reads a unit's WorkingDirectory,
// EnvironmentFile and ExecStart and runs it the way systemd would for Type=simple. It logs every call, so the test
// checks the exact argv the driver sends; the deploy around it (release, switch, health, rollback) is real.
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { tempDir } from '@dstack/git/testing'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { formatReport } from '../src/index.ts'
import { type Fleet, makeFleet } from './support/fleet.ts'
import { terminate } from './support/processes.ts'
import { NODE_BIN } from './support/service.ts'

const SYSTEMCTL_DOUBLE = `#!/bin/sh
# TEST DOUBLE of systemctl (no systemd on this machine): restart | stop | is-active [--quiet] | status, for units
# described in $FAKE_SYSTEMD/<unit> as WorkingDirectory=, EnvironmentFile=, ExecStart= lines.
echo "$*" >>"$FAKE_SYSTEMD/calls.log"
cmd=$1; shift
quiet=0; [ "$1" = --quiet ] && { quiet=1; shift; }
while [ "$1" = --no-pager ] || [ "$1" = -n ]; do [ "$1" = -n ] && shift; shift; done
unit=$1; def="$FAKE_SYSTEMD/$unit"; pidf="$FAKE_SYSTEMD/$unit.pid"
[ -f "$def" ] || { echo "Unit $unit not found." >&2; exit 5; }
alive() { [ -f "$pidf" ] && [ -e "/proc/$(cat "$pidf")" ] && ! sed 's/.*) //' "/proc/$(cat "$pidf")/stat" | grep -q '^Z'; }
stop() { if alive; then kill -TERM "$(cat "$pidf")"; i=0; while alive && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done; fi; rm -f "$pidf"; }
case $cmd in
  stop) stop ;;
  restart)
    stop
    wd=$(sed -n 's/^WorkingDirectory=//p' "$def"); envf=$(sed -n 's/^EnvironmentFile=//p' "$def")
    exec_start=$(sed -n 's/^ExecStart=//p' "$def")
    ( cd "$wd" && set -a && . "$envf" && set +a && exec setsid $exec_start >>"$FAKE_SYSTEMD/$unit.log" 2>&1 </dev/null ) &
    echo $! >"$pidf" ;;
  is-active) if alive; then [ $quiet = 1 ] || echo active; exit 0; else [ $quiet = 1 ] || echo failed; exit 3; fi ;;
  status) echo "* $unit"; tail -n 5 "$FAKE_SYSTEMD/$unit.log" 2>/dev/null; alive ;;
  *) echo "unsupported: $cmd" >&2; exit 1 ;;
esac
`

let fake: string
let savedPath: string | undefined
const fleets: Fleet[] = []

beforeAll(() => {
  fake = tempDir('dstack-fake-systemd-')
  mkdirSync(join(fake, 'bin'))
  writeFileSync(join(fake, 'bin', 'systemctl'), SYSTEMCTL_DOUBLE)
  chmodSync(join(fake, 'bin', 'systemctl'), 0o755)
  savedPath = process.env.PATH
  process.env.PATH = `${join(fake, 'bin')}:${process.env.PATH}`
  process.env.FAKE_SYSTEMD = fake
})
afterAll(() => {
  process.env.PATH = savedPath
  delete process.env.FAKE_SYSTEMD
})
afterEach(async () => {
  fleets.splice(0)
  const pidFile = join(fake, 'svc.service.pid')
  if (existsSync(pidFile)) await terminate([Number(readFileSync(pidFile, 'utf8'))])
  rmSync(pidFile, { force: true })
})

async function systemdFleet(): Promise<Fleet> {
  const f = await makeFleet({ process: undefined, systemd: { unit: 'svc.service' } })
  fleets.push(f)
  writeFileSync(
    join(fake, 'svc.service'),
    `WorkingDirectory=${f.root}/current\nEnvironmentFile=${f.root}/current/.env\nExecStart=${NODE_BIN} server.mjs\n`,
  )
  writeFileSync(join(fake, 'calls.log'), '')
  return f
}

const calls = () => readFileSync(join(fake, 'calls.log'), 'utf8').trim().split('\n').filter(Boolean)

describe('the systemd driver', () => {
  it('restarts the unit, checks it stayed active, and the unit serves the new release from current', async () => {
    const f = await systemdFleet()
    const first = await f.deploy()
    expect(first.outcome, formatReport(first)).toBe('deployed')
    expect(await f.get()).toBe('200 ok 1.0.0')
    expect(calls()).toEqual(['restart svc.service', 'is-active --quiet svc.service'])
    await f.repo.setVersion('2.0.0')
    expect((await f.deploy()).outcome).toBe('deployed')
    expect(await f.get()).toBe('200 ok 2.0.0')
  })

  it('a unit that dies on start is rolled back: current goes back and the unit is restarted on it', async () => {
    const f = await systemdFleet()
    await f.deploy()
    await f.repo.setVersion('2.0.0', 'crash')
    writeFileSync(join(fake, 'calls.log'), '')
    const report = await f.deploy()
    expect(report.outcome, formatReport(report)).toBe('rolled-back')
    expect(['restart', 'health']).toContain(report.failedStep)
    expect(report.rollback.map((s) => s.id)).toEqual(['switch-back', 'restart-previous', 'health-previous'])
    expect(calls().filter((c) => c.startsWith('restart'))).toEqual([
      'restart svc.service',
      'restart svc.service',
    ])
    expect(await f.get()).toBe('200 ok 1.0.0')
  })

  it('with sudo: true every systemctl call is `sudo -n systemctl …` (a sudoers rule for systemctl alone is enough)', async () => {
    // `sudo` here is a TEST DOUBLE too: it logs its argv and runs the rest (the tests already run as root).
    writeFileSync(
      join(fake, 'bin', 'sudo'),
      `#!/bin/sh\necho "sudo $*" >>"$FAKE_SYSTEMD/calls.log"\n[ "$1" = -n ] && shift\nexec "$@"\n`,
    )
    chmodSync(join(fake, 'bin', 'sudo'), 0o755)
    const f = await systemdFleet()
    f.service.systemd = { unit: 'svc.service', sudo: true }
    f.write()
    expect((await f.deploy()).outcome).toBe('deployed')
    const sudo = calls().filter((c) => c.startsWith('sudo '))
    expect(sudo).toEqual([
      'sudo -n systemctl restart svc.service',
      'sudo -n systemctl is-active --quiet svc.service',
    ])
    expect(await f.get()).toBe('200 ok 1.0.0')
  })
})
