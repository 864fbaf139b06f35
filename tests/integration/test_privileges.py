# test_privileges: `--user NAME` drops root once the inputs are open.  While a
# timed replay runs, /proc/PID/status (the kernel's view, an independent oracle)
# must show every uid and gid of the user, the user's groups from the system's
# user database, no capabilities and no_new_privs, and records must keep coming
# after that.  Output files are created as the user.  The same check for
# `dnsprobe capture -i` on a veth in a namespace of the test's own runs once
# capture has a --user option; until then it is skipped.
#
# Needs root (to have privileges to drop).  Files the user writes go to a
# folder the test makes and gives to the user; it is removed afterwards.

import json
import os
import pathlib
import pwd
import re
import select
import shutil
import signal
import subprocess
import tempfile
import time
import uuid

import pytest

from test_replay_timing import make_timed_capture

USER = 'nobody'

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason='needs root to drop privileges')


@pytest.fixture(scope='module')
def user():
    return pwd.getpwnam(USER)


@pytest.fixture
def user_dir(user):
    """A folder the user may write (pytest's own tmp folders are root's alone)."""
    path = tempfile.mkdtemp(prefix='dnsprobe-priv-')
    os.chown(path, user.pw_uid, user.pw_gid)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope='module')
def long_capture(tmp_path_factory):
    path = tmp_path_factory.mktemp('privileges') / 'timed.pcap'
    count = make_timed_capture(path, duration=2.0, pairs=41)
    return path, count


def proc_status(pid):
    fields = {}
    with open('/proc/%d/status' % pid) as fh:
        for line in fh:
            key, _sep, value = line.partition(':')
            fields[key] = value.split()
    return fields


def assert_runs_as(pid, user):
    status = proc_status(pid)
    assert status['Uid'] == [str(user.pw_uid)] * 4, status['Uid']     # real, effective, saved, fs
    assert status['Gid'] == [str(user.pw_gid)] * 4, status['Gid']
    assert sorted(int(g) for g in status['Groups']) == sorted(
        set(os.getgrouplist(user.pw_name, user.pw_gid)))
    assert int(status['CapEff'][0], 16) == 0 and int(status['CapPrm'][0], 16) == 0
    assert int(status['CapAmb'][0], 16) == 0
    assert status['NoNewPrivs'] == ['1']


class LineReader:
    """Whole lines from a pipe as they arrive, waiting at most a given time."""

    def __init__(self, pipe):
        self.fd = pipe.fileno()
        self.pending = b''
        self.closed = False

    def read(self, wanted, timeout):
        """Up to wanted lines within timeout seconds."""
        lines = []
        deadline = time.monotonic() + timeout
        while len(lines) < wanted:
            if b'\n' in self.pending:
                line, self.pending = self.pending.split(b'\n', 1)
                lines.append(line)
                continue
            left = deadline - time.monotonic()
            if self.closed or left <= 0:
                break
            ready, _w, _x = select.select([self.fd], [], [], min(left, 0.2))
            if ready:
                chunk = os.read(self.fd, 65536)
                self.pending += chunk
                self.closed = not chunk
        return lines

    def rest(self):
        while not self.closed:
            chunk = os.read(self.fd, 65536)
            self.pending += chunk
            self.closed = not chunk
        return self.pending.splitlines()


def test_replay_runs_as_the_user_and_keeps_publishing(dnsprobe_bin, long_capture, user,
                                                      user_dir):
    # Later --loop passes open the file again, as the user: it must be readable to them.
    path = shutil.copy(long_capture[0], user_dir)
    count = long_capture[1]
    summary = os.path.join(user_dir, 'summary.json')
    metrics = os.path.join(user_dir, 'dnsprobe.prom')
    proc = subprocess.Popen([str(dnsprobe_bin), 'replay', str(path), '--speed', '1', '--loop',
                             '0', '--user', USER, '--summary-json', summary, '--stats-file',
                             metrics], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    output = LineReader(proc.stdout)
    try:
        first = output.read(5, timeout=20)
        assert len(first) == 5, 'no output'
        assert_runs_as(proc.pid, user)
        later = output.read(count, timeout=20)   # another whole pass
        assert len(later) == count, 'output stopped after the privileges were dropped'
        assert_runs_as(proc.pid, user)
    finally:
        proc.send_signal(signal.SIGTERM)
        rest = output.rest()
        rc = proc.wait(timeout=30)
    stderr = proc.stderr.read().decode()
    assert rc == 0, stderr
    result = json.loads(open(summary).read())
    assert result['records'] == len(first) + len(later) + len(rest)
    assert result['balanced'] is True
    for written in (summary, metrics):
        assert os.stat(written).st_uid == user.pw_uid, written


def test_file_the_user_cannot_read_later_is_found_before_reading(dnsprobe, long_capture):
    """A later --loop pass opens the file again as the --user user: that it cannot is found
    (as that user) before the first packet is read, not after a whole pass."""
    path = long_capture[0]       # in pytest's folder, which only root may enter
    run = dnsprobe.replay([path], '--loop', '2', '--user', USER, summary=False)
    assert run.rc == 2, run.describe()
    assert run.lines == []
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and str(path) in lines[0] and '--user ' + USER in lines[0], run.stderr


def test_output_file_is_created_as_the_user(dnsprobe, captures_dir, user, user_dir):
    output = os.path.join(user_dir, 'records.jsonl')
    run = dnsprobe.replay([captures_dir / 'names.pcap'], '--user', USER, output=output,
                          summary=False)
    run.check_clean()
    assert os.stat(output).st_uid == user.pw_uid
    assert len(run.lines) > 0


def test_output_folder_the_user_cannot_write_fails_clearly(dnsprobe, captures_dir, tmp_path):
    output = tmp_path / 'records.jsonl'     # pytest's folder: root's alone
    run = dnsprobe.replay([captures_dir / 'names.pcap'], '--user', USER, output=output,
                          summary=False)
    assert run.rc == 2
    assert len(run.stderr.splitlines()) == 1 and str(output) in run.stderr, run.stderr
    assert not output.exists()


def test_unknown_user_and_root_are_refused(dnsprobe, captures_dir):
    for name, says in (('dnsprobe-no-such-user', 'no such user'), ('root', 'that is root')):
        run = dnsprobe.raw(['replay', captures_dir / 'names.pcap', '--user', name])
        assert run.rc == 2
        assert run.stdout == b''
        assert len(run.stderr.splitlines()) == 1 and says in run.stderr, run.stderr


def test_without_root_only_the_same_user_is_accepted(dnsprobe_bin, captures_dir, user):
    def become_user():
        os.setgroups([])
        os.setgid(user.pw_gid)
        os.setuid(user.pw_uid)

    capture = str(captures_dir / 'names.pcap')
    other = subprocess.run([str(dnsprobe_bin), 'replay', capture, '--user', 'daemon', '-o',
                            '/dev/null'], capture_output=True, text=True, preexec_fn=become_user,
                           timeout=60)
    assert other.returncode == 2
    assert 'needs the probe to start as root' in other.stderr
    same = subprocess.run([str(dnsprobe_bin), 'replay', capture, '--user', USER, '-o',
                           '/dev/null'], capture_output=True, text=True, preexec_fn=become_user,
                          timeout=60)
    assert same.returncode == 0, same.stderr


# --- live capture: runs once `dnsprobe capture` has --user ---------------------------------


def capture_has_user_option(dnsprobe_bin):
    proc = subprocess.run([str(dnsprobe_bin), 'capture', '--help'], capture_output=True,
                          text=True, timeout=60)
    return proc.returncode == 0 and re.search(r'--user\b', proc.stdout) is not None


SENDER = r'''
import sys
from scapy.all import DNS, DNSQR, IP, UDP, Ether, sendp
iface, prefix, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
sendp([Ether() / IP(src='10.99.8.2', dst='10.99.8.1') / UDP(sport=41000 + i, dport=53) /
       DNS(id=i, rd=1, qd=DNSQR(qname='%s%d.privileges.example' % (prefix, i)))
       for i in range(count)], iface=iface, verbose=False, inter=0.002)
'''


def wait_for_line(pipe, text, timeout):
    reader = LineReader(pipe)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in reader.read(1, timeout=deadline - time.monotonic()):
            if text in line:
                return True
    return False


def test_capture_runs_as_the_user_and_keeps_capturing(dnsprobe_bin, user):
    if not capture_has_user_option(dnsprobe_bin):
        pytest.skip('dnsprobe capture has no --user option yet')
    tag = uuid.uuid4().hex[:6]
    ns, a, b = 'dnsprobe-priv-' + tag, 'dpp%sa' % tag, 'dpp%sb' % tag
    subprocess.run(['ip', 'netns', 'add', ns], check=True)
    capture = None
    try:
        for cmd in (['link', 'add', a, 'type', 'veth', 'peer', 'name', b],
                    ['addr', 'add', '10.99.8.1/24', 'dev', a],
                    ['addr', 'add', '10.99.8.2/24', 'dev', b],
                    ['link', 'set', a, 'up'], ['link', 'set', b, 'up']):
            subprocess.run(['ip', '-n', ns] + cmd, check=True)
        # `ip netns exec` runs dnsprobe in its own place (exec, no fork): capture.pid is it.
        capture = subprocess.Popen(['ip', 'netns', 'exec', ns, str(dnsprobe_bin), 'capture',
                                    '-i', a, '--user', USER, '-o', '-'],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert wait_for_line(capture.stderr, b'capturing on', timeout=20), 'capture did not start'
        send = ['ip', 'netns', 'exec', ns, '/usr/bin/python3', '-c', SENDER, b]
        subprocess.run(send + ['before', '50'], check=True, timeout=120)
        assert_runs_as(capture.pid, user)
        subprocess.run(send + ['after', '50'], check=True, timeout=120)
        time.sleep(1)
        capture.send_signal(signal.SIGTERM)
        out, err = capture.communicate(timeout=30)
        assert capture.returncode == 0, err.decode()
        names = [json.loads(line)['dns']['question']['name'] for line in out.splitlines()]
        # Every query sent after the switch was captured too.
        assert sorted(n for n in names if n.startswith('after')) == sorted(
            'after%d.privileges.example' % i for i in range(50))
    finally:
        if capture and capture.poll() is None:
            capture.kill()
            capture.wait()
        subprocess.run(['ip', 'netns', 'del', ns], capture_output=True)
