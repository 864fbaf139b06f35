# test_output_defects: what the user sees when the output goes wrong (issue 12, items 2, 4, 9
# and the broken-pipe part of 14). A full disk makes records failed, never delivered; SIGHUP
# stops like SIGTERM and a second signal leaves no temporary file; a bad output path is found
# before the first packet is read (exit 2, one line, nothing written); a reader of standard
# output that goes away (| head -1) ends the run with a summary instead of death by SIGPIPE.
#
# The expectations come from the situation the test builds, not from dnsprobe: a 64 KiB tmpfs
# cannot hold the records, a signal is sent at a known point, a folder is not a file.

import json
import os
import pathlib
import re
import signal
import subprocess
import time

import pytest

from conftest import CAPTURES, run_env

# 14 DNS records per pass (tests/captures/README.md), about 500 bytes each.
CAPTURE = CAPTURES / 'rcodes.pcap'
RECORDS_PER_PASS = 14
SUMMARY = re.compile(r'records: (\d+) delivered, (\d+) failed, (\d+) in flight')


def summary_counts(stderr):
    found = SUMMARY.findall(stderr)
    assert found, 'no summary line on stderr:\n' + stderr
    return tuple(int(n) for n in found[-1])


@pytest.fixture
def small_tmpfs(tmp_path):
    """A 64 KiB tmpfs mounted in a temporary folder (needs root)."""
    mnt = tmp_path / 'small'
    mnt.mkdir()
    if os.geteuid() != 0:
        pytest.skip('mounting a tmpfs needs root')
    rc = subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', str(mnt)],
                        capture_output=True)
    if rc.returncode != 0:
        pytest.skip('cannot mount a tmpfs: %s' % rc.stderr.decode(errors='replace'))
    yield mnt
    subprocess.run(['umount', str(mnt)], check=True)


# --------------------------------------------------------------------------
# Item 2: a failed write is failed, not delivered.
# --------------------------------------------------------------------------

# 20 passes (about 140 KB) fit in the write buffer and fail only at the end; 200 passes
# (about 1.4 MB) fail while the replay still runs.
@pytest.mark.parametrize('passes', [20, 200])
def test_full_disk_counts_records_failed(dnsprobe_bin, small_tmpfs, tmp_path, passes):
    out = small_tmpfs / 'out.json'
    summary_path = tmp_path / 'summary.json'
    proc = subprocess.run([str(dnsprobe_bin), 'replay', str(CAPTURE), '--loop', str(passes),
                           '-o', str(out), '--summary-json', str(summary_path)],
                          capture_output=True, env=run_env(), timeout=120)
    stderr = proc.stderr.decode()
    assert proc.returncode == 1, stderr
    assert 'No space left on device' in stderr
    assert os.listdir(small_tmpfs) == [], 'a partial file was left: %s' % os.listdir(small_tmpfs)
    records = RECORDS_PER_PASS * passes
    # Nothing reached the disk for good: not one record is delivered.
    delivered, failed, in_flight = summary_counts(stderr)
    assert (delivered, in_flight) == (0, 0), stderr
    assert failed == records, stderr
    assert '[UNBALANCED]' not in stderr
    s = json.loads(summary_path.read_text())
    assert s['records'] == records
    assert s['delivered'] == 0, s
    assert s['failed'] + s['records_rejected'] == records, s
    assert s['failed'] + s['in_flight'] == s['records_to_sink'], s
    # The summary is the last thing said, after the error that decided it.
    lines = stderr.strip().splitlines()
    assert 'packets:' in lines[-1], stderr


def test_written_file_holds_what_is_delivered(dnsprobe_bin, tmp_path):
    out = tmp_path / 'out.json'
    summary_path = tmp_path / 'summary.json'
    proc = subprocess.run([str(dnsprobe_bin), 'replay', str(CAPTURE), '--loop', '200', '-o',
                           str(out), '--summary-json', str(summary_path)],
                          capture_output=True, env=run_env(), timeout=120)
    assert proc.returncode == 0, proc.stderr
    s = json.loads(summary_path.read_text())
    assert s['delivered'] == out.read_bytes().count(b'\n') == 200 * RECORDS_PER_PASS
    assert (s['failed'], s['in_flight'], s['balanced']) == (0, 0, True)


# --------------------------------------------------------------------------
# Item 4: SIGHUP and a second signal.
# --------------------------------------------------------------------------

def start_endless_replay(dnsprobe_bin, folder, *extra):
    """A replay that loops until stopped, once its temporary file has records in it."""
    proc = subprocess.Popen([str(dnsprobe_bin), 'replay', str(CAPTURE), '--loop', '0', '-o',
                             str(folder / 'out.json'), *extra],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=run_env())
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        temporary = [f for f in os.listdir(folder) if '.tmp' in f]
        if temporary and os.path.getsize(folder / temporary[0]) > 1 << 20:
            return proc
        time.sleep(0.05)
    proc.kill()
    pytest.fail('the replay did not start writing')


def stop_with(dnsprobe_bin, folder, signo):
    folder.mkdir()
    summary_path = folder / 'summary.json'
    proc = start_endless_replay(dnsprobe_bin, folder, '--summary-json', str(summary_path))
    proc.send_signal(signo)
    _, err = proc.communicate(timeout=60)
    return proc.returncode, err.decode(), summary_path


def test_sighup_stops_like_sigterm(dnsprobe_bin, tmp_path):
    rc_term, _, _ = stop_with(dnsprobe_bin, tmp_path / 'term', signal.SIGTERM)
    rc, err, summary_path = stop_with(dnsprobe_bin, tmp_path / 'hup', signal.SIGHUP)
    assert rc >= 0, 'killed by signal %d' % -rc
    assert rc == rc_term == 0, err
    delivered, failed, in_flight = summary_counts(err)
    assert (failed, in_flight) == (0, 0)
    assert sorted(os.listdir(tmp_path / 'hup')) == ['out.json', 'summary.json']
    assert (tmp_path / 'hup' / 'out.json').read_bytes().count(b'\n') == delivered > 0
    assert json.loads(summary_path.read_text())['delivered'] == delivered


def temporary_files(folder):
    return [f for f in os.listdir(folder) if '.tmp' in f]


# Both signals are made pending while the probe is stopped, so the second is handled before the
# probe can finish its file: the handler itself must remove the temporary file. Which of the two
# the kernel hands over first is its choice.
@pytest.mark.parametrize('first, second', [(signal.SIGINT, signal.SIGTERM),
                                           (signal.SIGHUP, signal.SIGINT),
                                           (signal.SIGTERM, signal.SIGHUP)])
def test_second_signal_leaves_no_temporary_file(dnsprobe_bin, tmp_path, first, second):
    proc = start_endless_replay(dnsprobe_bin, tmp_path)
    proc.send_signal(signal.SIGSTOP)
    proc.send_signal(first)
    proc.send_signal(second)
    proc.send_signal(signal.SIGCONT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode in (128 + first, 128 + second), err
    assert b'second signal' in err
    assert os.listdir(tmp_path) == [], 'files left: %s' % os.listdir(tmp_path)


def test_sigint_twice_leaves_no_temporary_file(dnsprobe_bin, tmp_path):
    proc = start_endless_replay(dnsprobe_bin, tmp_path)
    proc.send_signal(signal.SIGINT)
    time.sleep(0.005)
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=60)
    assert temporary_files(tmp_path) == []


# --------------------------------------------------------------------------
# Item 9: bad output paths are found before the first packet.
# --------------------------------------------------------------------------

def bad_paths(base):
    missing = base / 'missing' / 'x.json'
    return [
        ('--output', ['-o', str(base)]),
        ('--output', ['-o', '']),
        ('--output', ['-o', str(missing)]),
        ('--summary-json', ['--summary-json', str(missing)]),
        ('--summary-json', ['--summary-json', str(base)]),
        ('--summary-json', ['--summary-json', '']),
        ('--stats-file', ['--stats-file', str(base / 'missing' / 'x.prom')]),
    ]


CASES = [c[1] for c in bad_paths(pathlib.Path('/BASE'))]


def check_refused(proc, option, workdir, before):
    stderr = proc.stderr.decode()
    assert proc.returncode == 2, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, 'expected one line, got:\n' + stderr
    assert lines[0].startswith('dnsprobe: ' + option), lines[0]
    assert 'delivered' not in stderr
    assert proc.stdout == b''
    assert sorted(os.listdir(workdir)) == before, 'something was written'


@pytest.mark.parametrize('case', range(len(CASES)))
def test_replay_checks_output_paths_first(dnsprobe_bin, tmp_path, case):
    workdir = tmp_path / 'work'
    workdir.mkdir()
    (workdir / 'existing').mkdir()
    option, args = bad_paths(workdir / 'existing')[case]
    before = sorted(os.listdir(workdir))
    proc = subprocess.run([str(dnsprobe_bin), 'replay', str(CAPTURE), '--loop', '3', *args],
                          capture_output=True, cwd=workdir, env=run_env(), timeout=60)
    check_refused(proc, option, workdir, before)
    assert os.listdir(workdir / 'existing') == []


@pytest.mark.parametrize('case', [0, 1, 3])
def test_capture_checks_output_paths_first(dnsprobe_bin, tmp_path, case):
    if os.geteuid() != 0:
        pytest.skip('capturing on lo needs root')
    workdir = tmp_path / 'work'
    workdir.mkdir()
    (workdir / 'existing').mkdir()
    option, args = bad_paths(workdir / 'existing')[case]
    before = sorted(os.listdir(workdir))
    proc = subprocess.run([str(dnsprobe_bin), 'capture', '-i', 'lo', '--duration', '1', *args],
                          capture_output=True, cwd=workdir, env=run_env(), timeout=60)
    check_refused(proc, option, workdir, before)


# --------------------------------------------------------------------------
# Item 14 (part): a reader of standard output that goes away.
# --------------------------------------------------------------------------

def test_closed_stdout_ends_the_run_with_a_summary(dnsprobe_bin, tmp_path):
    """dnsprobe replay X -o - | head -1"""
    summary_path = tmp_path / 'summary.json'
    dnsprobe = subprocess.Popen([str(dnsprobe_bin), 'replay', str(CAPTURE), '--loop', '0', '-o',
                                 '-', '--summary-json', str(summary_path)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=run_env())
    head = subprocess.run(['head', '-1'], stdin=dnsprobe.stdout, capture_output=True, timeout=60)
    dnsprobe.stdout.close()
    _, err = dnsprobe.communicate(timeout=60)
    err = err.decode()
    assert json.loads(head.stdout)['dns']['question']['name']
    assert dnsprobe.returncode >= 0, 'killed by signal %d' % -dnsprobe.returncode
    assert dnsprobe.returncode == 1, err
    assert 'broken pipe' in err.lower()
    assert 'check the disk' not in err
    delivered, failed, in_flight = summary_counts(err)
    assert failed > 0 and in_flight == 0
    assert '[UNBALANCED]' not in err
    s = json.loads(summary_path.read_text())
    assert s['balanced'] is True
    assert s['delivered'] + s['failed'] + s['records_rejected'] == s['records']


def test_replay_checks_summary_folder_as_the_user(dnsprobe_bin, tmp_path):
    """--user: the summary is written as that user at exit, so its folder is checked at start."""
    if os.geteuid() != 0:
        pytest.skip('--user needs root')
    os.chmod(tmp_path, 0o700)   # root's own: the user may not create a file in it
    proc = subprocess.run([str(dnsprobe_bin), 'replay', str(CAPTURE), '--loop', '3', '--user',
                           'nobody', '-o', '/dev/null', '--summary-json',
                           str(tmp_path / 'summary.json')],
                          capture_output=True, env=run_env(), timeout=60)
    check_refused(proc, '--summary-json', tmp_path, [])


# --------------------------------------------------------------------------
# Item 2 for live capture: one worker, and two workers sharing one file.
# --------------------------------------------------------------------------

@pytest.mark.parametrize('workers', [1, 2])
def test_capture_full_disk_counts_records_failed(dnsprobe_bin, small_tmpfs, tmp_path, workers):
    dns_message = pytest.importorskip('dns.message')
    import socket
    summary_path = tmp_path / 'summary.json'
    cap = subprocess.Popen([str(dnsprobe_bin), 'capture', '-i', 'lo', '--workers', str(workers),
                            '-o', str(small_tmpfs / 'out.json'), '--summary-json',
                            str(summary_path), '--duration', '5'],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=run_env())
    time.sleep(1.5)   # the capture is open once its start-up line is out; this is ample
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for i in range(1000):   # about 300 bytes of JSON each: far more than 64 KiB
        query = dns_message.make_query('q%d.example.com' % i, 'A').to_wire()
        sock.sendto(query, ('127.0.0.1', 53))
        if i % 50 == 0:
            time.sleep(0.01)
    sock.close()
    _, err = cap.communicate(timeout=60)
    err = err.decode()
    assert cap.returncode == 1, err
    assert 'No space left on device' in err
    assert os.listdir(small_tmpfs) == []
    delivered, failed, in_flight = summary_counts(err)
    assert (delivered, in_flight) == (0, 0), err
    s = json.loads(summary_path.read_text())
    assert s['records'] >= 500, s
    assert s['delivered'] == 0 and s['failed'] + s['records_rejected'] == s['records'], s
    assert s['failed'] + s['in_flight'] == s['records_to_sink'] and s['balanced'], s
