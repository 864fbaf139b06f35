# test_pcap_evidence: -w FILE writes the frames behind the records as a pcap (tcpdump's -w),
# rotated by -C SIZE and -G SECONDS with tcpdump's names. Checked against tshark reading the
# written files and the original capture, and against a reading of the pcap format in Python
# (the frames' bytes), never against dnsprobe's own view of them.

import json
import os
import pathlib
import pwd
import shutil
import socket
import struct
import subprocess
import tempfile
import time

import pytest

from conftest import CORPUS, SANITIZER_MARKS, run_env

PCAPS = CORPUS / 'pcap'
MIXED = PCAPS / 'dnscap__dns.pcap'         # 82 DNS frames among ARP and ICMP
MANY = PCAPS / 'compactor__dns.pcap'       # thousands of DNS frames
# Messages rebuilt from TCP segments and IP fragments: the completing frame is the evidence.
REBUILT = [PCAPS / 'dnscap__dnso1tcp.pcap', PCAPS / 'dnscap__frags.pcap',
           PCAPS / 'tcpdump__dns_tcp.pcap', PCAPS / 'go-dnscollector__dnsdump_udp+tcp.pcap']


@pytest.fixture(autouse=True)
def needs_corpus_and_tshark():
    if not PCAPS.is_dir():
        pytest.skip('public DNS corpus not found at %s' % PCAPS)
    if not shutil.which('tshark'):
        pytest.skip('needs tshark (scripts/setup installs it)')


def run(binary, *args, cwd=None, env=None):
    proc = subprocess.run([str(binary)] + [str(a) for a in args], capture_output=True,
                          text=True, timeout=300, env=env or run_env(), cwd=cwd)
    assert not any(mark in proc.stderr for mark in SANITIZER_MARKS), proc.stderr
    return proc


def replay(binary, tmp_path, capture, *args):
    records = tmp_path / 'records.json'
    proc = run(binary, 'replay', '-r', capture, '-o', records, *args, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    return [json.loads(line) for line in records.read_text().splitlines()]


def tshark_fields(path, *fields, extra=()):
    cmd = ['tshark', '-n', '-r', str(path), '-T', 'fields', '-E', 'occurrence=f']
    for f in fields:
        cmd += ['-e', f]
    out = subprocess.run(cmd + list(extra), capture_output=True, text=True, timeout=300,
                         check=True).stdout
    return [line.split('\t') for line in out.splitlines()]


def pcap_frames(path):
    """(seconds, fraction, bytes, link type) of every frame of a classic pcap file, read here."""
    data = pathlib.Path(path).read_bytes()
    magic = data[:4]
    endian = {b'\xd4\xc3\xb2\xa1': '<', b'\x4d\x3c\xb2\xa1': '<',
              b'\xa1\xb2\xc3\xd4': '>', b'\xa1\xb2\x3c\x4d': '>'}[magic]
    link_type = struct.unpack(endian + 'I', data[20:24])[0]
    frames, at = [], 24
    while at < len(data):
        sec, frac, caplen, _ = struct.unpack(endian + 'IIII', data[at:at + 16])
        frames.append((sec, frac, data[at + 16:at + 16 + caplen], link_type))
        at += 16 + caplen
    return frames


def messages_of_records(records):
    return sorted((r['dns']['id'], r['dns']['question']['name']) for r in records)


def messages_of_tshark(path):
    rows = tshark_fields(path, 'dns.id', 'dns.qry.name', extra=['-Y', 'dns'])
    return sorted((int(i, 16), name) for i, name in rows)


def test_the_written_file_holds_the_messages_of_the_records_and_no_other_frame(dnsprobe_bin,
                                                                               tmp_path):
    records = replay(dnsprobe_bin, tmp_path, MIXED, '-w', 'evidence.pcap')
    evidence = tmp_path / 'evidence.pcap'
    assert len(records) == 82
    # tshark reads the file alone and finds the same DNS messages as the records.
    assert messages_of_tshark(evidence) == messages_of_records(records)
    # Every frame of the file is DNS to tshark: no ARP or ICMP frame of the capture went in.
    protocols = [row[0] for row in tshark_fields(evidence, 'frame.protocols')]
    assert len(protocols) == 82 and all(p.endswith(':dns') for p in protocols)
    # The frames are the capture's own, byte for byte, with its link type and timestamps.
    original = pcap_frames(MIXED)
    dns_numbers = {int(row[0]) for row in tshark_fields(MIXED, 'frame.number', extra=['-Y', 'dns'])}
    wanted = [f for n, f in enumerate(original, 1) if n in dns_numbers]
    written = pcap_frames(evidence)
    assert [(f[2], f[3]) for f in written] == [(f[2], f[3]) for f in wanted]
    assert [(s, ns // 1000) for s, ns, _, _ in written] == [(s, us) for s, us, _, _ in wanted]


def test_records_the_policy_dropped_leave_their_frames_out(dnsprobe_bin, tmp_path):
    (tmp_path / 'rules.txt').write_text('in-addr.arpa reverse\n')
    records = replay(dnsprobe_bin, tmp_path, MIXED, '-w', 'evidence.pcap', '--classify',
                     'rules.txt', '--drop-category', 'reverse')
    # tshark: 48 messages for google.com, 34 reverse lookups, which the policy drops.
    assert len(records) == 48
    assert messages_of_tshark(tmp_path / 'evidence.pcap') == messages_of_records(records)
    assert {name for _, name in messages_of_records(records)} == {'google.com'}


@pytest.mark.parametrize('capture', REBUILT, ids=lambda p: p.name)
def test_a_rebuilt_message_is_evidenced_by_the_frame_that_completed_it(dnsprobe_bin, tmp_path,
                                                                       capture):
    records = replay(dnsprobe_bin, tmp_path, capture, '-w', 'evidence.pcap')
    # tshark shows a message rebuilt from segments or fragments in the frame that completed it:
    # those frames, and only those, are in the file.
    dns_numbers = [int(row[0]) for row in tshark_fields(capture, 'frame.number',
                                                        extra=['-Y', 'dns'])]
    original = pcap_frames(capture)
    written = pcap_frames(tmp_path / 'evidence.pcap')
    assert len(records) == len(dns_numbers)
    assert [f[2] for f in written] == [original[n - 1][2] for n in dns_numbers]


def test_file_size_rotation_bounds_every_file_and_loses_no_frame(dnsprobe_bin, tmp_path):
    whole = tmp_path / 'whole'
    whole.mkdir()
    replay(dnsprobe_bin, whole, MANY, '-w', 'all.pcap')
    records = replay(dnsprobe_bin, tmp_path, MANY, '-w', 'ev.pcap', '-C', '20k')
    names = sorted((p.name for p in tmp_path.glob('ev.pcap*')),
                   key=lambda n: int(n[len('ev.pcap'):] or 0))
    # tcpdump's names: FILE, then FILE1, FILE2... with no gap.
    assert len(names) > 3
    assert names == ['ev.pcap'] + ['ev.pcap%d' % i for i in range(1, len(names))]
    for name in names:
        assert (tmp_path / name).stat().st_size <= 20 * 1024, name
    rotated = [f for name in names for f in pcap_frames(tmp_path / name)]
    assert rotated == pcap_frames(whole / 'all.pcap')
    assert len(rotated) == len(records)


def test_time_rotation_names_files_by_strftime_as_tcpdump(dnsprobe_bin, tmp_path):
    env = dict(run_env(), TZ='UTC')
    records_path = tmp_path / 'records.json'
    pattern = 'dns-%Y%m%d-%H%M%S.pcap'
    proc = run(dnsprobe_bin, 'replay', '-r', MIXED, '-o', records_path, '-w', pattern, '-G', '10',
               cwd=tmp_path, env=env)
    assert proc.returncode == 0, proc.stderr
    # The expected files, from tshark's times of the DNS frames: a frame G seconds or more after
    # the current file's first begins a new file named by its own time.
    expected, start = {}, None
    for (epoch,) in tshark_fields(MIXED, 'frame.time_epoch', extra=['-Y', 'dns']):
        second = int(float(epoch))
        if start is None or second - start >= 10:
            start = second
        name = time.strftime(pattern, time.gmtime(start))
        expected[name] = expected.get(name, 0) + 1
    assert len(expected) > 2
    got = {p.name: len(pcap_frames(p)) for p in tmp_path.glob('dns-*.pcap')}
    assert got == expected


def test_size_and_time_rotation_together_number_the_strftime_names(dnsprobe_bin, tmp_path):
    env = dict(run_env(), TZ='UTC')
    proc = run(dnsprobe_bin, 'replay', '-r', MANY, '-o', 'records.json', '-w', 'd-%H%M%S.pcap',
               '-G', '3600', '-C', '20k', cwd=tmp_path, env=env)
    assert proc.returncode == 0, proc.stderr
    # One period (the capture is shorter than an hour): its strftime name, then 1, 2...
    (epoch,) = tshark_fields(MANY, 'frame.time_epoch', extra=['-c', '1'])[0]
    base = time.strftime('d-%H%M%S.pcap', time.gmtime(int(float(epoch))))
    names = {p.name for p in tmp_path.glob('d-*')}
    assert len(names) > 3
    assert names == {base} | {'%s%d' % (base, i) for i in range(1, len(names))}
    assert all((tmp_path / n).stat().st_size <= 20 * 1024 for n in names)


def test_each_file_has_one_link_type_and_another_link_type_starts_the_next(dnsprobe_bin,
                                                                           tmp_path):
    raw = PCAPS / 'tcpdump__LINKTYPE_RAW_ipv4.pcap'
    replay(dnsprobe_bin, tmp_path, MIXED, '-r', raw, '-w', 'ev.pcap')
    first, second = pcap_frames(tmp_path / 'ev.pcap'), pcap_frames(tmp_path / 'ev.pcap1')
    assert {f[3] for f in first} == {1} and len(first) == 82
    assert [f[3] for f in second] == [101]
    assert second[0][2] == pcap_frames(raw)[0][2]


def test_a_run_without_dns_leaves_an_empty_pcap(dnsprobe_bin, tmp_path):
    replay(dnsprobe_bin, tmp_path, PCAPS / 'tcpdump__dns_tcp_8053.pcap', '-w', 'ev.pcap')
    assert tshark_fields(tmp_path / 'ev.pcap', 'frame.number') == []


@pytest.mark.parametrize('args,words', [
    (['-w', 'ev.pcap', '-C', '0'], "-C: '0'"),
    (['-w', 'ev.pcap', '-C', '10x'], "-C: '10x'"),
    (['-w', 'ev.pcap', '-C', ''], "-C: ''"),
    (['-w', 'ev.pcap', '-G', '0'], "-G: '0'"),
    (['-w', 'ev.pcap', '-G', '1.5'], "-G: '1.5'"),
    (['-C', '10'], 'add -w'),
    (['-G', '60'], 'add -w'),
    (['-w', ''], '-w: give the name'),
    (['-w', '-'], '-w: give the name'),
    (['-w', 'no-such-folder/ev.pcap'], 'does not exist'),
])
def test_bad_values_are_one_line_exit_2_and_write_nothing(dnsprobe_bin, tmp_path, args, words):
    proc = run(dnsprobe_bin, 'replay', '-r', MIXED, '-o', 'records.json', *args, cwd=tmp_path)
    assert proc.returncode == 2
    assert len(proc.stderr.splitlines()) == 1 and words in proc.stderr, proc.stderr
    assert list(tmp_path.iterdir()) == []


def test_evidence_that_cannot_be_written_is_one_line_exit_1_and_the_records_are_kept(
        dnsprobe_bin, tmp_path):
    if not os.path.exists('/dev/full'):
        pytest.skip('needs /dev/full')
    proc = run(dnsprobe_bin, 'replay', '-r', MIXED, '-o', 'records.json', '-w', '/dev/full',
               cwd=tmp_path)
    assert proc.returncode == 1
    lines = [l for l in proc.stderr.splitlines() if '-w:' in l]
    assert len(lines) == 1 and '/dev/full' in lines[0] and 'No space left' in lines[0], proc.stderr
    assert len((tmp_path / 'records.json').read_text().splitlines()) == 82


def test_capture_with_several_workers_needs_worker_in_the_name(dnsprobe_bin, tmp_path):
    for name, words in (('ev.pcap', 'put {worker} in the name'),
                        ('ev-{worker}', 'after {worker}')):
        proc = run(dnsprobe_bin, 'capture', '-i', 'lo', '--workers', '2', '-c', '1', '-w', name,
                   '-o', 'records.json', cwd=tmp_path)
        if 'Operation not permitted' in proc.stderr:
            pytest.skip('live capture needs CAP_NET_RAW')
        assert proc.returncode == 2, proc.stderr
        assert words in proc.stderr.splitlines()[-1]
        assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize('workers,names', [(1, ['live.pcap']),
                                           (2, ['live-0.pcap', 'live-1.pcap'])])
def test_live_capture_writes_the_queries_it_recorded(dnsprobe_bin, tmp_path, workers, names):
    port = 53000 + os.getpid() % 2000 + workers
    name = 'live.pcap' if workers == 1 else 'live-{worker}.pcap'
    # With several workers -c is not used: a worker waiting on an idle queue holds its share of
    # the count (all three queries are one flow, so one worker gets them).
    stop = ['-c', '3'] if workers == 1 else ['--idle-exit', '3']
    probe = subprocess.Popen([str(dnsprobe_bin), 'capture', '-i', 'lo', '--dns-port', str(port),
                              '--workers', str(workers), *stop, '--duration', '60',
                              '-w', name, '-o', 'records.json', 'udp', 'port', str(port)],
                             stderr=subprocess.PIPE, text=True, cwd=tmp_path, env=run_env())
    line = probe.stderr.readline()
    if 'capturing on lo' not in line:
        probe.kill()
        pytest.skip('live capture on lo not possible here: ' + line.strip())
    sent = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for i in range(3):
            qid = 0x5000 + i
            qname = 'evidence%d.pcapout.test' % i
            labels = b''.join(bytes([len(p)]) + p.encode() for p in qname.split('.'))
            s.sendto(struct.pack('>HHHHHH', qid, 0x0100, 1, 0, 0, 0) + labels + b'\0' +
                     struct.pack('>HH', 1, 1), ('127.0.0.1', port))
            sent.append((qid, qname))
    probe.stderr.read()
    assert probe.wait(timeout=90) == 0
    records = [json.loads(l) for l in (tmp_path / 'records.json').read_text().splitlines()]
    assert messages_of_records(records) == sent
    assert sorted(p.name for p in tmp_path.glob('live*')) == names
    rows = [row for n in names for row in tshark_fields(
        tmp_path / n, 'dns.id', 'dns.qry.name', extra=['-d', 'udp.port==%d,dns' % port])]
    assert sorted((int(i, 16), n) for i, n in rows) == sent


def test_with_user_the_evidence_is_created_as_that_user(dnsprobe_bin, tmp_path):
    if os.geteuid() != 0:
        pytest.skip('--user needs root')
    nobody = pwd.getpwnam('nobody')
    folder = pathlib.Path(tempfile.mkdtemp(prefix='dnsprobe-pcapout-'))  # nobody may reach it
    try:
        os.chown(folder, nobody.pw_uid, nobody.pw_gid)
        proc = run(dnsprobe_bin, 'replay', '-r', MIXED, '--user', 'nobody', '-o', 'records.json',
                   '-w', 'ev.pcap', cwd=folder)
        assert proc.returncode == 0, proc.stderr
        assert (folder / 'ev.pcap').stat().st_uid == nobody.pw_uid
        assert len(pcap_frames(folder / 'ev.pcap')) == 82
        # A folder only root may write: refused in one line, exit 2, as that user.
        root_only = folder / 'root-only'
        root_only.mkdir(mode=0o755)
        proc = run(dnsprobe_bin, 'replay', '-r', MIXED, '--user', 'nobody', '-o',
                   folder / 'r2.json', '-w', root_only / 'ev.pcap')
        assert proc.returncode == 2
        assert len(proc.stderr.splitlines()) == 1 and '-w: cannot create' in proc.stderr, \
            proc.stderr
        assert not (root_only / 'ev.pcap').exists() and not (folder / 'r2.json').exists()
    finally:
        shutil.rmtree(folder)
