# test_options: every long option of replay, capture and check, read from their --help, given a
# bad value, gives an error that names that option (or, for a value only the run can check, the
# value itself) and no other option of the command, and leaves no file behind. Two option groups
# once shared codes: --fragment-datagrams abc answered about --stats-interval, and
# --fragment-memory 8 wrote a stats file named "8" while the pool stayed at 4 MiB. So the
# reassembly bounds are also checked for their effect, on captures built here with scapy.

import json
import os
import re
import subprocess

import pytest

from conftest import CAPTURES, run_env

COMMANDS = ('replay', 'capture', 'check')
BAD = 'bad!value'  # not a number, a keyword, a user or an interface
HELP_LINE = re.compile(r'^ {2}(?:-(\w), )? *--([a-z][\w-]*)( \S)?', re.M)
REPLAY_FILE = CAPTURES / 'ip_fragments.pcap'
NO_DIR = '/nonexistent-dnsprobe-dir/out'
# EAL arguments that start DPDK without hugepages or devices, so --port is what fails.
EAL_NO_DEVICES = '--no-huge -m 512 --no-pci'


def long_options(binary, command):
    """{long name: (short letter or None, takes a value)} from `dnsprobe COMMAND --help`."""
    usage = subprocess.run([str(binary), command, '--help'], capture_output=True, text=True,
                           check=True).stdout
    return {m.group(2): (m.group(1), m.group(3) is not None) for m in HELP_LINE.finditer(usage)}


def bad_use(command, name, takes_value):
    """(arguments, what the error must mention) for a bad value of --name."""
    special = {
        # Values any string fits: only emptiness, or the run itself, can be wrong.
        ('*', 'output'): (['--output', ''], None),
        ('*', 'brokers'): (['--brokers', ''], None),
        ('*', 'topic'): (['--topic', ''], None),
        ('*', 'stats-file'): (['--stats-file', ''], None),
        ('*', 'observer-name'): (['--observer-name', ''], None),
        ('*', 'write'): (['--write', ''], None),
        ('replay', 'summary-json'): (['--summary-json', NO_DIR], NO_DIR),
        ('replay', 'read'): (['--read', NO_DIR], NO_DIR),
        ('capture', 'summary-json'): (['-i', 'lo', '--duration', '1', '--summary-json', NO_DIR],
                                      NO_DIR),
        ('capture', 'interface'): (['--interface', BAD], BAD),
        ('capture', 'filter'): (['-i', 'lo', '--filter', '(('], None),
        ('capture', 'user'): (['-i', 'lo', '--user', BAD], None),
        ('capture', 'port'): (['--port', BAD, '--eal', EAL_NO_DEVICES], None),
        ('capture', 'eal'): (['--eal', '--no-such-eal-option'], '--no-such-eal-option'),
        ('check', 'interface'): (['--interface', BAD], BAD),
    }
    for key in ((command, name), ('*', name)):
        if key in special:
            return special[key]
    return (['--%s' % name, BAD] if takes_value else ['--%s=%s' % (name, BAD)]), None


def cases(binary):
    for command in COMMANDS:
        for name, (short, takes_value) in sorted(long_options(binary, command).items()):
            yield command, name, short, takes_value


@pytest.fixture(scope='module')
def option_cases(dnsprobe_bin):
    found = list(cases(dnsprobe_bin))
    # The parse must find the options, or the test below would check nothing.
    names = {(c, n) for c, n, _, _ in found}
    assert {('replay', 'fragment-memory'), ('capture', 'stats-file'), ('check', 'fix')} <= names
    return found


def test_every_long_option_reports_its_own_bad_value(dnsprobe_bin, option_cases, tmp_path):
    wrong = []
    for command, name, short, takes_value in option_cases:
        args, mention = bad_use(command, name, takes_value)
        if command == 'capture' and '-i' in args and os.geteuid() != 0:
            continue  # opening lo needs root
        cwd = tmp_path / ('%s-%s' % (command, name))
        cwd.mkdir()
        cmd = [str(dnsprobe_bin), command] + ([str(REPLAY_FILE)] if command == 'replay' else [])
        proc = subprocess.run(cmd + args, capture_output=True, text=True, cwd=cwd, timeout=120,
                              env=run_env())
        # check prints its verdicts on stdout; the commands print errors on stderr.
        said = proc.stderr + (proc.stdout if command == 'check' else '')
        if 'without DPDK' in said and name in ('port', 'eal'):
            continue
        lines = [line for line in said.splitlines() if mention and mention in line
                 or re.search(r'(^|[\s\'])(--%s|-%s)\b' % (name, short or name), line)]
        # (every usage error may point at --help; --rate-limit is not named by
        # --rate-limit-per-client)
        others = {n for c, n, _, _ in option_cases if c == command and n not in (name, 'help')
                  and any(re.search(r'--%s(?![\w-])' % re.escape(n), line) for line in lines)}
        left = sorted(p.name for p in cwd.iterdir())
        if proc.returncode == 0 or not lines or others or left:
            wrong.append('%s --%s: exit %d, files left %s, other options named %s:\n%s'
                         % (command, name, proc.returncode, left, sorted(others), said[-600:]))
    assert not wrong, '\n\n'.join(wrong)


# --------------------------------------------------------------------------
# The reassembly bounds take effect.
# --------------------------------------------------------------------------

def big_response(n):
    """A DNS response of about 59 KB over IPv4/UDP, as one IP packet (scapy)."""
    from scapy.layers.dns import DNS, DNSQR, DNSRR
    from scapy.layers.inet import IP, UDP
    name = 'big%d.example' % n
    return (IP(src='192.0.2.53', dst='198.51.100.%d' % (n + 1), id=1000 + n)
            / UDP(sport=53, dport=40000 + n)
            / DNS(id=n, qr=1, qd=DNSQR(qname=name),
                  an=DNSRR(rrname=name, type='TXT', rdata=[b'x' * 255] * 230)))


def write_fragments(path, datagrams, order):
    """Writes the fragments (1480-byte payloads) of `datagrams` responses in the order
    order(list of fragment lists) gives, over Ethernet, 1 ms apart."""
    from scapy.layers.inet import IP, fragment
    from scapy.layers.l2 import Ether
    from scapy.utils import wrpcap
    pieces = [fragment(IP(bytes(big_response(n))), fragsize=1480) for n in range(datagrams)]
    frames = []
    for i, f in enumerate(order(pieces)):
        frame = Ether(src='02:00:00:00:00:01', dst='02:00:00:00:00:02') / f
        frame.time = 1700000000 + i / 1000
        frames.append(frame)
    wrpcap(str(path), frames)
    return sum(len(p) for p in pieces)


def interleaved(pieces):
    """Fragment 1 of every datagram, then fragment 2 of every datagram, and so on."""
    return [p[i] for i in range(max(map(len, pieces))) for p in pieces if i < len(p)]


def all_but_last_first(pieces):
    """Every datagram's fragments but the last, then the last fragments: all held at once."""
    return [f for p in pieces for f in p[:-1]] + [p[-1] for p in pieces]


def replay_summary(dnsprobe_bin, capture, cwd, *args):
    summary = cwd / 'summary.json'
    proc = subprocess.run([str(dnsprobe_bin), 'replay', str(capture), '-o', '/dev/null',
                           '--summary-json', str(summary)] + list(args),
                          capture_output=True, text=True, cwd=cwd, timeout=120, env=run_env())
    assert proc.returncode == 0, proc.stderr
    left = sorted(p.name for p in cwd.iterdir() if p.name != 'summary.json')
    assert not left, 'files written into the working folder: %s\n%s' % (left, proc.stderr)
    s = json.loads(summary.read_text())
    summary.unlink()
    assert s['balanced'], s
    return s


def test_fragment_datagrams_bounds_the_table(dnsprobe_bin, tmp_path):
    capture = tmp_path / 'interleaved.pcap'
    fragments = write_fragments(capture, 2, interleaved)
    cwd = tmp_path / 'run'
    cwd.mkdir()
    s = replay_summary(dnsprobe_bin, capture, cwd)
    assert s['ip_fragments'] == fragments and s['reassembled_datagrams'] == 2, s
    assert s['records'] == 2, s
    # With room for one datagram, each datagram's next fragment finds the other one held.
    s = replay_summary(dnsprobe_bin, capture, cwd, '--fragment-datagrams', '1')
    assert s['reassembled_datagrams'] == 0 and s['records'] == 0, s
    assert s['abandoned_reasons'].get('fragment_table_full', 0) > 0, s


def test_fragment_memory_bounds_the_pool(dnsprobe_bin, tmp_path):
    capture = tmp_path / 'held.pcap'
    datagrams = 30  # 30 x 59 KB held at once: more than 1 MiB, less than the default 4 MiB
    write_fragments(capture, datagrams, all_but_last_first)
    cwd = tmp_path / 'run'
    cwd.mkdir()
    s = replay_summary(dnsprobe_bin, capture, cwd)
    assert s['reassembled_datagrams'] == datagrams and s['records'] == datagrams, s
    s = replay_summary(dnsprobe_bin, capture, cwd, '--fragment-memory', '1')
    assert s['abandoned_reasons'].get('fragment_memory', 0) > 0, s
    assert s['reassembled_datagrams'] < datagrams, s
    s = replay_summary(dnsprobe_bin, capture, cwd, '--fragment-memory', '8')
    assert s['reassembled_datagrams'] == datagrams, s
