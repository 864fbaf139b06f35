# test_config_file: `--config FILE` reads a command's long options from a file, one per line
# ("name value" or "name=value", a flag alone, '#' comment lines), before the command line, so
# the command line wins. A bad line is one line naming FILE:LINE, exit 2, and nothing written.
# The oracle for what an option did is the same option given on the command line, and the
# capture's packet count (each file's own count, read by tshark where it matters).

import json
import os
import subprocess

import pytest

from conftest import CAPTURES, run_env
from tshark_oracle import strict_json_line

CAPTURE = CAPTURES / 'ip_fragments.pcap'


def run(binary, *args, cwd=None):
    return subprocess.run([str(binary)] + [str(a) for a in args], capture_output=True,
                          timeout=120, env=run_env(), cwd=cwd)


def records(out):
    return [strict_json_line(line) for line in out.splitlines()]


def write(tmp_path, text, name='dnsprobe.conf'):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_options_from_the_file_act_as_on_the_command_line(dnsprobe_bin, tmp_path):
    conf = write(tmp_path, '# a sensor\n\n  observer-name   sensor fra 1  \n'
                           '--count=2\nformat json\n# count 1\n')
    from_file = run(dnsprobe_bin, 'replay', CAPTURE, '--config', conf)
    assert from_file.returncode == 0, from_file.stderr
    given = run(dnsprobe_bin, 'replay', CAPTURE, '--observer-name', 'sensor fra 1', '--count',
                2, '--format', 'json')
    assert from_file.stdout == given.stdout and from_file.stdout
    assert {r['observer']['name'] for r in records(from_file.stdout)} == {'sensor fra 1'}


def test_the_command_line_wins(dnsprobe_bin, tmp_path):
    conf = write(tmp_path, 'observer-name from-file\n')
    proc = run(dnsprobe_bin, 'replay', CAPTURE, '--observer-name', 'from-cli',
               '--config=%s' % conf)
    assert proc.returncode == 0, proc.stderr
    assert {r['observer']['name'] for r in records(proc.stdout)} == {'from-cli'}


def test_a_flag_alone_on_its_line(dnsprobe_bin, tmp_path):
    conf = write(tmp_path, 'discard\n')
    proc = run(dnsprobe_bin, 'replay', CAPTURE, '--config', conf)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == b'' and b'delivered' in proc.stderr


def test_check_reads_the_captures_file_for_what_they_share(dnsprobe_bin, tmp_path):
    """The service's ExecStartPre checks with the capture's own -B and --workers."""
    conf = write(tmp_path, 'interface lo\nbuffer-size 512KiB\nworkers 3\n'
                           'brokers kafka1:9092\nno-promisc\n')
    proc = run(dnsprobe_bin, 'check', '--config', conf)
    assert b'-B 512 KiB x 3 worker(s)' in proc.stdout, proc.stdout + proc.stderr
    proc = run(dnsprobe_bin, 'check', '--config', conf, '--workers', 1)
    assert b'-B 512 KiB x 1 worker(s)' in proc.stdout, proc.stdout + proc.stderr


@pytest.mark.parametrize('text,line,mention', [
    ('count 2\nwrokers 2\n', 2, "'wrokers' is not an option"),
    ('# c\n\ncount\n', 3, 'needs a value'),
    ('discard yes\n', 1, 'takes no value'),
    ('count 2\n\ncount many\n', 3, "--count: 'many'"),
    ('fragment-memory 0\n', 1, '--fragment-memory'),
    ('config other.conf\n', 1, 'may not be in a config file'),
])
def test_a_bad_line_names_file_and_line(dnsprobe_bin, tmp_path, text, line, mention):
    conf = write(tmp_path, text)
    out = tmp_path / 'records.json'
    proc = run(dnsprobe_bin, 'replay', CAPTURE, '--config', conf, '-o', out, cwd=tmp_path)
    assert proc.returncode == 2
    said = proc.stderr.decode().strip().splitlines()
    assert len(said) == 1, said
    assert said[0].startswith('dnsprobe: %s:%d: ' % (conf, line)) and mention in said[0], said
    assert not out.exists()


def test_a_missing_file_is_one_line_and_exit_2(dnsprobe_bin, tmp_path):
    proc = run(dnsprobe_bin, 'capture', '-i', 'lo', '--config', tmp_path / 'nope.conf')
    assert proc.returncode == 2
    said = proc.stderr.decode().strip().splitlines()
    assert len(said) == 1 and 'nope.conf' in said[0], said


def test_capture_takes_the_file_and_its_filter_with_spaces(dnsprobe_bin, tmp_path):
    if os.geteuid() != 0:
        pytest.skip('capture on lo needs root')
    conf = write(tmp_path, 'interface lo\nfilter udp port 5399 and host 127.0.0.9\n'
                           'idle-exit 1\nno-promisc\n')
    proc = run(dnsprobe_bin, 'capture', '--config', conf, '-o', tmp_path / 'out.json')
    assert proc.returncode == 0, proc.stderr
    start = next(l for l in proc.stderr.decode().splitlines() if 'capturing on lo' in l)
    assert start.endswith('filter: udp port 5399 and host 127.0.0.9'), start
    assert 'promiscuous' not in start
