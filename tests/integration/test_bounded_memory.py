"""Bounded memory under hostile traffic (issue 5): replaying, again and again, a capture full of
unfinished IP fragments or of half-open TCP streams must keep the probe's resident memory flat.
The reassembly tables are bounded (docs/operations.md), so the peak resident set of a 20-pass
replay may not exceed that of a 5-pass replay by more than a few MiB, and stays under a fixed
bound above what the probe needs to replay an empty capture; and the accounting shows the
tables giving up on the unfinished items as new ones come. Peak RSS is the kernel's own
ru_maxrss of the finished process (wait4), not a sample."""

import json
import os
import subprocess
import threading

import pytest

from conftest import ASAN, CAPTURES, REPO, SANITIZER_MARKS, run_env, strict_json_line

HOSTILE = REPO / 'tests' / 'captures' / 'hostile'
FLOODS = ['mem_unfinished_fragments.pcap', 'mem_half_open_tcp.pcap']
FLOOD_ITEMS = 10000  # datagrams or streams per pass, none of them ever completed
SHORT_LOOP, LONG_LOOP = 5, 20
# How much more a 20-pass replay may hold at its peak than a 5-pass one.
GROWTH_LIMIT_MIB = 4
# The reassembly pools by default (4 MiB of fragments, 16 MiB of TCP stream bytes) plus their
# tables and slack; AddressSanitizer's shadow memory and quarantine need far more.
ABOVE_IDLE_LIMIT_MIB = 512 if ASAN else 48
TIMEOUT = 3600 if ASAN else 900


def supports_loop(binary):
    proc = subprocess.run([str(binary), 'replay', '--help'], capture_output=True, timeout=60)
    return b'--loop' in proc.stdout


def replay_peak(binary, files, loops, tmp_path):
    """Replays files loops times; returns (peak RSS in MiB, parsed records, summary path)."""
    summary = tmp_path / ('summary-%s-%d.json' % (os.path.basename(str(files[0])), loops))
    if supports_loop(binary):
        args = [str(f) for f in files] + ['--loop', str(loops)]
    else:
        args = [str(f) for f in files] * loops
    cmd = [str(binary), 'replay'] + args + ['--output', '-', '--summary-json', str(summary)]
    out_path = tmp_path / 'records.out'
    err_path = tmp_path / 'stderr.out'
    with open(out_path, 'wb') as out, open(err_path, 'wb') as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=run_env())
        watchdog = threading.Timer(TIMEOUT, proc.kill)
        watchdog.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            watchdog.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
    stderr = err_path.read_text(errors='replace')
    where = 'command: %s\nstderr:\n%s' % (' '.join(cmd), stderr[-3000:])
    assert proc.returncode == 0, 'exit %d (killed after %d s?)\n%s' % (proc.returncode, TIMEOUT,
                                                                      where)
    assert not any(mark in stderr for mark in SANITIZER_MARKS), 'sanitizer report\n' + where
    records = [strict_json_line(line) for line in out_path.read_bytes().splitlines()]
    with open(summary) as fh:
        parsed = json.load(fh)
    return usage.ru_maxrss / 1024.0, records, parsed


@pytest.fixture(scope='module')
def idle_peak(dnsprobe_bin, tmp_path_factory):
    """Peak RSS of replaying a capture with no packets: the probe's own fixed cost."""
    peak, _, _ = replay_peak(dnsprobe_bin, [CAPTURES / 'empty.pcap'], 1,
                             tmp_path_factory.mktemp('idle'))
    return peak


@pytest.mark.parametrize('name', FLOODS)
def test_memory_stays_flat_under_a_flood(dnsprobe_bin, idle_peak, tmp_path, name):
    capture = HOSTILE / name
    assert capture.is_file(), ('%s missing: run /usr/bin/python3 scripts/make-hostile-captures'
                               % capture)
    peaks = {}
    for loops in (SHORT_LOOP, LONG_LOOP):
        peak, records, summary = replay_peak(dnsprobe_bin, [capture], loops, tmp_path)
        assert summary['balanced'] is True, summary
        names = [r['dns'].get('question', {}).get('name') for r in records]
        assert names == ['sentinel.example'] * loops, (
            'only the sentinel query of each pass may come out, got %s' % names[:10])
        given_up = sum(n for reason, n in summary['abandoned_reasons'].items()
                       if reason != 'held_at_exit')
        assert given_up >= (loops - 1) * FLOOD_ITEMS, (
            '%s: after %d passes of %d unfinished items only %d were given up (%s): the '
            'reassembly tables are not bounded' % (name, loops, FLOOD_ITEMS, given_up,
                                                    summary['abandoned_reasons']))
        peaks[loops] = peak

    growth = peaks[LONG_LOOP] - peaks[SHORT_LOOP]
    assert growth <= GROWTH_LIMIT_MIB, (
        '%s: peak RSS grew by %.1f MiB from %d to %d passes (%.1f -> %.1f MiB): memory is not '
        'bounded' % (name, growth, SHORT_LOOP, LONG_LOOP, peaks[SHORT_LOOP], peaks[LONG_LOOP]))
    above_idle = peaks[LONG_LOOP] - idle_peak
    assert above_idle <= ABOVE_IDLE_LIMIT_MIB, (
        '%s: peak RSS %.1f MiB is %.1f MiB above an idle replay (%.1f MiB); the bound is %d MiB'
        % (name, peaks[LONG_LOOP], above_idle, idle_peak, ABOVE_IDLE_LIMIT_MIB))
