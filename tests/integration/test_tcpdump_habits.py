# test_tcpdump_habits: the spellings a tcpdump user types work as in tcpdump, or fail loudly
# with one line naming the spelling that does: `replay -r FILE`, `-c COUNT`, `-p` (tcpdump's
# "no promiscuous mode", which used to be --dns-port here), `-B` with a unit (tcpdump counts
# KiB, a bare number here is MiB), and one spelling of the buffer option in check and capture.
# The live side (a trailing filter expression, -p, -c on a real interface) is in
# test_live_capture.py. The oracle for packet counts is tshark reading the same file.

import json
import os
import shutil
import subprocess

import pytest

from conftest import CAPTURES, run_env

CAPTURE = CAPTURES / 'ip_fragments.pcap'
MANY = CAPTURES / 'eth_ipv4_udp_edns.pcap'


def run(binary, *args, cwd=None):
    return subprocess.run([str(binary)] + [str(a) for a in args], capture_output=True,
                          text=True, timeout=120, env=run_env(), cwd=cwd)


def tshark_packets(path):
    if not shutil.which('tshark'):
        pytest.skip('needs tshark (scripts/setup installs it)')
    out = subprocess.run(['tshark', '-n', '-r', str(path), '-T', 'fields', '-e', 'frame.number'],
                         capture_output=True, text=True, timeout=120, check=True).stdout
    return len(out.split())


def summary_of(binary, tmp_path, *args):
    summary = tmp_path / 'summary.json'
    proc = run(binary, 'replay', *args, '-o', '/dev/null', '--summary-json', summary)
    assert proc.returncode == 0, proc.stderr
    return json.loads(summary.read_text())


def test_replay_dash_r_reads_the_file_and_dash_c_stops_after_count(dnsprobe_bin, tmp_path):
    capture = max((p for p in CAPTURES.glob('*.pcap')), key=tshark_packets)
    total = tshark_packets(capture)
    assert total >= 3
    assert summary_of(dnsprobe_bin, tmp_path, '-r', capture)['packets'] == total
    assert summary_of(dnsprobe_bin, tmp_path, '-r', capture, '-c', 2)['packets'] == 2
    assert summary_of(dnsprobe_bin, tmp_path, capture, '--count', 2)['packets'] == 2
    # The same records as naming the file.
    by_name = run(dnsprobe_bin, 'replay', capture).stdout
    by_r = run(dnsprobe_bin, 'replay', '-r', capture).stdout
    assert by_r == by_name and by_r


@pytest.mark.parametrize('command,args', [
    ('replay', [CAPTURE, '-p', '5353']),
    ('replay', [CAPTURE, '-p5353']),
    ('capture', ['-i', 'lo', '-p', '5353']),
    ('capture', ['-i', 'lo', '-p5353']),
])
def test_old_dash_p_port_is_refused_naming_dns_port(dnsprobe_bin, tmp_path, command, args):
    proc = run(dnsprobe_bin, command, *args, cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and '--dns-port' in lines[0], proc.stderr
    assert not list(tmp_path.iterdir())


def test_dns_port_long_option_still_works(dnsprobe_bin, tmp_path):
    assert summary_of(dnsprobe_bin, tmp_path, CAPTURE, '--dns-port', 5353)['packets'] > 0


@pytest.mark.parametrize('value', ['4096', '0', '3TiB', '2048MiB', '12x'])
def test_capture_buffer_refuses_what_is_not_a_size_and_says_the_unit(dnsprobe_bin, tmp_path,
                                                                      value):
    proc = run(dnsprobe_bin, 'capture', '-i', 'lo', '-B', value, cwd=tmp_path)
    assert proc.returncode == 2
    line = proc.stderr.strip()
    assert "'%s'" % value in line and 'KiB' in line and 'MiB' in line, line


def check_buffer_line(binary, *args):
    proc = run(binary, 'check', '-i', 'lo', *args)
    assert proc.returncode in (0, 1, 2), proc.stderr
    return next(line for line in proc.stdout.splitlines() if 'capture-buffer' in line)


@pytest.mark.parametrize('spelling', ['-B', '--buffer-size'])
def test_check_takes_the_buffer_option_as_capture_spells_it(dnsprobe_bin, spelling):
    assert '-B 512 KiB x 1 worker(s)' in check_buffer_line(dnsprobe_bin, spelling, '512KiB')
    assert '-B 2048 MiB x 1 worker(s)' in check_buffer_line(dnsprobe_bin, spelling, '2GiB')
    assert '-B 64 MiB x 1 worker(s)' in check_buffer_line(dnsprobe_bin, spelling, '64')


def test_check_and_capture_help_spell_the_buffer_option_the_same(dnsprobe_bin):
    for command in ('check', 'capture'):
        usage = run(dnsprobe_bin, command, '--help').stdout
        assert '-B, --buffer-size SIZE' in usage, command


def test_eal_arguments_after_double_dash_still_go_to_eal(dnsprobe_bin, tmp_path):
    proc = run(dnsprobe_bin, 'capture', '--', '--no-such-eal-option', cwd=tmp_path)
    if 'without DPDK' in proc.stderr:
        pytest.skip('built without DPDK')
    assert proc.returncode != 0
    assert 'filter' not in proc.stderr, proc.stderr
