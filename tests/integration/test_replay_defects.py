"""Replay defects of issue 12 (items 3, 5, 10 and part of 14), each checked against an
independent source: tshark's count of DNS messages, RFC 791's reassembly timeout, the
descriptor limit the kernel enforces, and Python's own calendar for capture times.

The captures these tests need are built here with scapy and struct (pcapng blocks as in
draft-ietf-opsawg-pcapng), not committed as blobs."""

import datetime
import resource
import struct
import subprocess

import pytest
from scapy.all import DNS, DNSQR, IP, UDP, Ether, fragment, raw, wrpcap

from conftest import CAPTURES, run_env
from tshark_oracle import run_tshark


def tshark_dns_messages(path):
    """DNS messages tshark decodes in one pass of the capture (reassembling as dnsprobe does)."""
    out = subprocess.run(['tshark', '-r', str(path), '-o', 'ip.defragment:TRUE',
                          '-o', 'tcp.desegment_tcp_streams:TRUE', '-Y', 'dns',
                          '-T', 'fields', '-e', 'dns.id'],
                         capture_output=True, text=True, check=True).stdout
    return sum(len(line.split(',')) for line in out.splitlines() if line)


@pytest.mark.parametrize('name', ['tcp_dns.pcap', 'ip_fragments.pcap'])
def test_loop_gives_n_times_the_records(dnsprobe, name):
    """--loop 3 gives three times what one pass has: reassembly starts afresh each pass."""
    capture = CAPTURES / name
    per_pass = tshark_dns_messages(capture)
    assert per_pass > 0
    run = dnsprobe.replay([capture], '--loop', 3)
    run.check_clean()
    assert len(run.lines) == 3 * per_pass, run.describe()
    assert run.summary['records'] == 3 * per_pass
    assert run.summary['balanced']


def test_fragments_of_one_pass_never_join_the_next(dnsprobe, tmp_path):
    """The first fragment of a datagram at 0 s, its last at 100 s: RFC 791's timer (30 s here)
    forbids joining them, in one pass and across passes, where capture time goes back."""
    query = IP(src='10.99.0.1', dst='10.99.0.2', id=4242) / UDP(sport=40000, dport=53) / DNS(
        id=9, qd=DNSQR(qname='a' * 60 + '.example.org'))
    first, last = fragment(query, fragsize=48)[0], fragment(query, fragsize=48)[-1]
    frames = [Ether() / first, Ether() / last]
    frames[0].time, frames[1].time = 1000.0, 1100.0
    capture = tmp_path / 'fragments-100s-apart.pcap'
    wrpcap(str(capture), frames)
    run = dnsprobe.replay([capture], '--loop', 2)
    run.check_clean()
    assert run.lines == [], 'a datagram was rebuilt from fragments 100 s apart\n' + run.describe()
    reasons = run.summary['abandoned_reasons']
    assert reasons.get('held_at_pass_end') == 1, reasons
    assert run.summary['balanced']


def test_many_files_under_a_small_descriptor_limit(dnsprobe, tmp_path):
    """1,100 files with 64 descriptors allowed: each file is opened only when its turn comes."""
    files = []
    for i in range(1100):
        link = tmp_path / ('part-%04d.pcap' % i)
        link.symlink_to(CAPTURES / 'rcodes.pcap')
        files.append(link)
    per_file = tshark_dns_messages(CAPTURES / 'rcodes.pcap')

    def small_limit():
        resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))

    out = tmp_path / 'out.json'
    proc = subprocess.run([str(dnsprobe.binary), 'replay', *map(str, files), '-o', str(out)],
                          capture_output=True, text=True, env=run_env(), preexec_fn=small_limit,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert len(out.read_bytes().splitlines()) == 1100 * per_file


def test_bad_file_among_many_is_named_once_before_anything_is_written(dnsprobe, tmp_path):
    bad = tmp_path / 'bad.pcap'
    bad.write_bytes(b'not a capture at all, just text\n')
    out = tmp_path / 'out.json'
    run = dnsprobe.raw(['replay', CAPTURES / 'tcp_dns.pcap', bad, '-o', out])
    assert run.rc == 2
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].count(str(bad)) == 1, run.stderr
    assert not out.exists()


@pytest.mark.parametrize('args, option', [
    (['-', '--loop', '2'], '--loop'),
    (['-', '--loop', '0'], '--loop'),
    ([str(CAPTURES / 'tcp_dns.pcap'), '-'], "'-'"),
])
def test_standard_input_read_twice_is_refused_up_front(dnsprobe, tmp_path, args, option):
    out = tmp_path / 'out.json'
    with open(CAPTURES / 'tcp_dns.pcap', 'rb') as stdin:
        proc = subprocess.run([str(dnsprobe.binary), 'replay', *args, '-o', str(out)],
                              stdin=stdin, capture_output=True, text=True, env=run_env(),
                              timeout=60)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and option in lines[0], proc.stderr
    assert not out.exists()


def test_standard_input_once_works(dnsprobe, tmp_path):
    with open(CAPTURES / 'tcp_dns.pcap', 'rb') as stdin:
        proc = subprocess.run([str(dnsprobe.binary), 'replay', '-'], stdin=stdin,
                              capture_output=True, env=run_env(), timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert len(proc.stdout.splitlines()) == tshark_dns_messages(CAPTURES / 'tcp_dns.pcap')


def pcapng_with_seconds(path, seconds):
    """One DNS query in a pcapng file whose interface counts time in whole seconds
    (if_tsresol 10^0), stamped `seconds`."""
    pkt = raw(Ether() / IP(src='10.99.0.1', dst='10.99.0.2') / UDP(sport=40000, dport=53) /
              DNS(id=7, qd=DNSQR(qname='example.org')))

    def block(kind, body):
        body += b'\0' * (-len(body) % 4)
        return struct.pack('<II', kind, 12 + len(body)) + body + struct.pack('<I', 12 + len(body))

    shb = block(0x0A0D0D0A, struct.pack('<IHHq', 0x1A2B3C4D, 1, 0, -1))
    if_tsresol_1s = struct.pack('<HHB3x', 9, 1, 0) + struct.pack('<HH', 0, 0)
    idb = block(1, struct.pack('<HHI', 1, 0, 0) + if_tsresol_1s)
    epb = block(6, struct.pack('<IIIII', 0, seconds >> 32, seconds & 0xffffffff, len(pkt),
                               len(pkt)) + pkt)
    path.write_bytes(shb + idb + epb)


def test_pcapng_time_past_2262_saturates_instead_of_wrapping(dnsprobe, tmp_path):
    """2^40 s after 1970 cannot be held in 64-bit nanoseconds: the record says the last instant
    that can (as Python's calendar computes it), not a wrapped time."""
    capture = tmp_path / 'far-future.pcapng'
    pcapng_with_seconds(capture, 1 << 40)
    fields = run_tshark(capture, 'dns', fields=['frame.time_epoch'])
    assert fields and fields[0]['frame.time_epoch'][0].startswith('1099511627776')
    run = dnsprobe.replay([capture])
    run.check_clean()
    (record,) = run.records()
    last = datetime.datetime(1970, 1, 1) + datetime.timedelta(microseconds=(2**63 - 1) // 1000)
    assert record['@timestamp'] == last.strftime('%Y-%m-%dT%H:%M:%S.%f') + '807Z'


@pytest.mark.parametrize('speed', ['1e-300', '0', '1e-7', '2e9'])
def test_speed_out_of_range_is_refused(dnsprobe, tmp_path, speed):
    out = tmp_path / 'out.json'
    run = dnsprobe.raw(['replay', CAPTURES / 'tcp_dns.pcap', '--speed', speed, '-o', out])
    assert run.rc == 2
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and '--speed' in lines[0] and '0.000001' in lines[0], run.stderr
    assert not out.exists()
