# test_dpdk: `dnsprobe capture` through DPDK's real poll-mode drivers, with EAL in no-hugepage
# mode (--no-huge --no-pci --no-shconf -m 512), and the choice between DPDK and libpcap.
# - net_pcap feeds capture files through the PMD: the records equal what `replay` makes of the
#   same file, timestamps included (one queue per rx_pcap file, one worker per queue);
# - a capture split by a symmetric flow hash (computed here) into N files gives N queues: the N
#   workers together make exactly the records of the whole capture, each flow on one worker;
# - net_af_packet with qpairs=2 on a veth pair in namespaces the test makes, with live DNS
#   traffic (unbound and dnsperf): both directions of every flow reach the same worker;
# - a build without DPDK (-Ddpdk=disabled, built here in build-nodpdk) and an EAL that fails or
#   finds no port fall back to libpcap on -i with one warning line;
# - wrong EAL arguments, a port that does not exist, too little memory: one line, non-zero exit;
# - --count stops after exactly N packets over several workers; SIGTERM under load flushes and
#   exits 0 with the ports' counters.
# Oracles: replay of the same file (itself checked against tshark elsewhere), tshark's packet
# counts, the flow hash and file split done here, dnsperf's own counts.
#
# Needs root and a dnsprobe built with DPDK (the tests skip otherwise).

import collections
import json
import os
import pathlib
import shutil
import signal
import struct
import subprocess
import uuid
import zlib

import pytest

from conftest import CAPTURES, CORPUS, REPO, SANITIZER_MARKS, run_env
from test_live_capture import (Capture, Lab, by_type, flow_of, query_names, read_records,
                               stop_leftover_captures)  # noqa: F401 (autouse fixture)
from tshark_oracle import count_packets

EAL = ['--no-huge', '--no-pci', '--no-shconf', '-m', '512']
TIMEOUT = 300

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason='needs root for DPDK and namespaces')


@pytest.fixture(scope='module')
def dpdk_bin(dnsprobe_bin):
    probe = subprocess.run([str(dnsprobe_bin), 'capture', '--backend', 'dpdk', '--eal',
                            '--no-such-eal-option'], capture_output=True, text=True,
                           timeout=60, env=run_env())
    if 'built without DPDK' in probe.stderr:
        pytest.skip('%s is built without DPDK' % dnsprobe_bin)
    return dnsprobe_bin


class Result:
    def __init__(self, cmd, proc):
        self.cmd = cmd
        self.rc = proc.returncode
        self.stderr = proc.stderr.decode('utf-8', 'replace')

    @property
    def lines(self):
        return [line for line in self.stderr.splitlines() if line.strip()]

    def describe(self):
        return 'command: %s\nexit: %s\nstderr:\n%s' % (' '.join(self.cmd), self.rc,
                                                       self.stderr[-4000:])

    def check_clean(self):
        for mark in SANITIZER_MARKS:
            assert mark not in self.stderr, 'sanitizer report\n' + self.describe()
        assert self.rc == 0, self.describe()


def run(binary, args, timeout=TIMEOUT):
    cmd = [str(binary)] + [str(a) for a in args]
    proc = subprocess.run(cmd, capture_output=True, timeout=timeout, env=run_env())
    return Result(cmd, proc)


def net_pcap_args(files, first_port=0, per_device=16):
    """--vdev arguments for net_pcap devices with one rx_pcap (one queue) per file."""
    args = []
    for d in range(0, len(files), per_device):
        queues = ''.join(',rx_pcap=%s' % f for f in files[d:d + per_device])
        args.append('--vdev=net_pcap%d%s' % (first_port + d // per_device, queues))
    return args


def capture_from_files(binary, files, out, *args):
    """Captures through net_pcap until the files are read (net_pcap never says end of file)."""
    return run(binary, ['capture', '-o', out, '--idle-exit', 1] + list(args) + ['--'] + EAL +
               net_pcap_args(files))


def replay_lines(binary, path, tmp_path):
    out = tmp_path / ('replay-%s.json' % uuid.uuid4().hex[:8])
    r = run(binary, ['replay', path, '-o', out])
    r.check_clean()
    return out.read_bytes().splitlines()


# A pcap file as (header, [(record header, frame bytes)]), read and written byte for byte.
def read_pcap(path):
    data = pathlib.Path(path).read_bytes()
    magic = data[:4]
    endian = {b'\xd4\xc3\xb2\xa1': '<', b'\xa1\xb2\xc3\xd4': '>'}.get(magic)
    assert endian, '%s is not a microsecond pcap file' % path
    records, at = [], 24
    while at + 16 <= len(data):
        caplen = struct.unpack(endian + 'I', data[at + 8:at + 12])[0]
        records.append((data[at:at + 16], data[at + 16:at + 16 + caplen]))
        at += 16 + caplen
    return data[:24], records


def write_pcap(path, header, records):
    with open(path, 'wb') as fh:
        fh.write(header)
        for record_header, frame in records:
            fh.write(record_header + frame)


def symmetric_flow_hash(frame):
    """crc32 of the sorted endpoints: the same for both directions; 0 for what is not IP."""
    from scapy.layers.inet import IP, TCP, UDP
    from scapy.layers.inet6 import IPv6
    from scapy.layers.l2 import Ether
    pkt = Ether(frame)
    ip = pkt.getlayer(IP) or pkt.getlayer(IPv6)
    if ip is None:
        return 0
    l4 = pkt.getlayer(UDP) or pkt.getlayer(TCP)
    sport, dport = (l4.sport, l4.dport) if l4 is not None else (0, 0)
    ends = sorted([(str(ip.src), sport), (str(ip.dst), dport)])
    return zlib.crc32(repr(ends).encode())


def synthetic_capture(path, flows=150):
    """Queries and responses of many flows (IPv4 and IPv6, UDP), microsecond timestamps,
    interleaved so that every queue of a split sees its flows' packets in order."""
    from decimal import Decimal

    from scapy.layers.dns import DNS, DNSQR, DNSRR
    from scapy.layers.inet import IP, UDP
    from scapy.layers.inet6 import IPv6
    from scapy.layers.l2 import Ether
    from scapy.utils import PcapWriter

    writer = PcapWriter(str(path), linktype=1, sync=True)
    t = Decimal('1700000000.000001')
    for i in range(flows):
        if i % 3 == 0:
            client, server, ip = '2001:db8:21::%x' % (i + 16), '2001:db8:21::1', IPv6
        else:
            client, server, ip = '10.99.21.%d' % (10 + i % 200), '10.99.21.1', IP
        sport = 20000 + i
        name = 'q%d.split.test' % i
        query = (Ether(src='02:00:00:00:00:02', dst='02:00:00:00:00:01') /
                 ip(src=client, dst=server) / UDP(sport=sport, dport=53) /
                 DNS(id=i, rd=1, qd=DNSQR(qname=name)))
        answer = (Ether(src='02:00:00:00:00:01', dst='02:00:00:00:00:02') /
                  ip(src=server, dst=client) / UDP(sport=53, dport=sport) /
                  DNS(id=i, qr=1, aa=1, rd=1, qd=DNSQR(qname=name),
                      an=DNSRR(rrname=name, ttl=300, rdata='10.99.21.%d' % (i % 250))))
        for pkt in (query, answer):
            pkt.time = t
            writer.write(pkt)
            t += Decimal('0.000137')
    writer.close()


def split_by_flow(path, parts, outdir):
    header, records = read_pcap(path)
    shares = [[] for _ in range(parts)]
    for record in records:
        shares[symmetric_flow_hash(record[1]) % parts].append(record)
    files = []
    for i, share in enumerate(shares):
        files.append(outdir / ('part-%d.pcap' % i))
        write_pcap(files[-1], header, share)
    return files


@pytest.fixture(scope='module')
def synthetic(tmp_path_factory):
    path = tmp_path_factory.mktemp('dpdk-captures') / 'flows.pcap'
    synthetic_capture(path)
    return path


def test_net_pcap_records_equal_replay_of_the_corpus_capture(dpdk_bin, tmp_path):
    path = CORPUS / 'pcap' / 'compactor__dns.pcap'
    if not path.exists():
        pytest.skip('public DNS corpus not found at %s' % CORPUS)
    out, summary = tmp_path / 'dpdk.json', tmp_path / 'summary.json'
    r = capture_from_files(dpdk_bin, [path], out, '--summary-json', summary)
    r.check_clean()
    assert out.read_bytes().splitlines() == replay_lines(dpdk_bin, path, tmp_path)
    frames = count_packets(path)
    s = json.loads(summary.read_text())
    assert s['packets'] == frames and s['balanced'] is True
    # The time with traffic lies within the run: from the first burst to the last.
    elapsed, receiving = s['capture'].pop('elapsed_s'), s['capture'].pop('receiving_s')
    assert 0 < receiving <= elapsed, s['capture']
    assert s['capture'] == {'drop_source': 'nic', 'received': frames, 'kernel_dropped': 0,
                            'interface_dropped': 0, 'nic_missed': 0, 'nic_errors': 0,
                            'nic_no_mbuf': 0, 'unread': 0}
    startup = [line for line in r.lines if line.startswith('dnsprobe: DPDK port 0')]
    assert len(startup) == 1 and 'one queue per rx_pcap file' in startup[0], r.stderr


def ethernet_test_captures():
    """The Ethernet captures with microsecond timestamps in tests/captures (net_pcap hands
    frames over as Ethernet and reads timestamps in microseconds)."""
    found = []
    for path in sorted(CAPTURES.glob('*.pcap')):
        with open(path, 'rb') as fh:
            head = fh.read(24)
        if len(head) < 24 or head[:4] not in (b'\xd4\xc3\xb2\xa1', b'\xa1\xb2\xc3\xd4'):
            continue
        endian = '<' if head[:4] == b'\xd4\xc3\xb2\xa1' else '>'
        if struct.unpack(endian + 'I', head[20:24])[0] == 1 and path.stat().st_size > 24:
            found.append(path)
    return found


def test_net_pcap_one_queue_per_file_equals_replay_of_each_file(dpdk_bin, tmp_path):
    files = ethernet_test_captures()
    if not files:
        pytest.skip('no Ethernet test captures in %s (scripts/make-test-captures)' % CAPTURES)
    r = capture_from_files(dpdk_bin, files, tmp_path / 'worker-{worker}.json')
    r.check_clean()
    for worker, path in enumerate(files):
        got = (tmp_path / ('worker-%d.json' % worker)).read_bytes().splitlines()
        assert got == replay_lines(dpdk_bin, path, tmp_path), path.name


def test_net_pcap_tunnel_captures_equal_replay(dpdk_bin, tmp_path):
    """Issue 15: DNS in VXLAN, Geneve, GRE, ERSPAN, MPLS and IP-in-IP is decapsulated the same
    through DPDK as by replay (itself checked against tshark in test_tunnels.py)."""
    files = sorted((CAPTURES / 'tunnels').glob('*.pcap'))
    assert files, 'no tunnel captures (scripts/make-tunnel-captures)'
    expected = json.loads((CAPTURES / 'tunnels' / 'expected.json').read_text())['files']
    r = capture_from_files(dpdk_bin, files, tmp_path / 'worker-{worker}.json')
    r.check_clean()
    for worker, path in enumerate(files):
        got = (tmp_path / ('worker-%d.json' % worker)).read_bytes().splitlines()
        want = replay_lines(dpdk_bin, path, tmp_path)
        assert got == want, path.name
        assert len(got) == expected[path.name]['counts']['records'], path.name
        assert all(b'"tunnel":{' in line for line in got), path.name


def test_split_by_symmetric_flow_hash_keeps_each_flow_on_one_worker(dpdk_bin, synthetic,
                                                                     tmp_path):
    parts = split_by_flow(synthetic, 3, tmp_path)
    r = capture_from_files(dpdk_bin, parts, tmp_path / 'worker-{worker}.json')
    r.check_clean()
    assert sum('rx queue' in line for line in r.lines) == 1, r.stderr
    workers_of_flow = collections.defaultdict(set)
    everything = []
    for worker, part in enumerate(parts):
        got = (tmp_path / ('worker-%d.json' % worker)).read_bytes().splitlines()
        assert got == replay_lines(dpdk_bin, part, tmp_path), part.name
        for line in got:
            workers_of_flow[flow_of(json.loads(line))].add(worker)
        everything += got
    whole = replay_lines(dpdk_bin, synthetic, tmp_path)
    assert collections.Counter(everything) == collections.Counter(whole)
    assert len(whole) == 2 * 150
    assert all(len(w) == 1 for w in workers_of_flow.values())
    assert {w for ws in workers_of_flow.values() for w in ws} == {0, 1, 2}


def test_count_stops_after_exactly_n_packets_over_several_workers(dpdk_bin, synthetic,
                                                                  tmp_path):
    parts = split_by_flow(synthetic, 3, tmp_path)
    summary = tmp_path / 'summary.json'
    r = run(dpdk_bin, ['capture', '-o', tmp_path / 'out-{worker}.json', '--count', 101,
                       '--duration', 60, '--summary-json', summary, '--'] + EAL +
            net_pcap_args(parts))
    r.check_clean()
    s = json.loads(summary.read_text())
    assert s['packets'] == 101 and s['balanced'] is True
    assert s['capture']['received'] == 101
    assert sum(len((tmp_path / ('out-%d.json' % w)).read_bytes().splitlines())
               for w in range(3)) == s['records']


def test_count_of_every_packet_is_reached_when_one_queue_runs_dry_first(dpdk_bin, synthetic,
                                                                        tmp_path):
    """--count N with N every packet of two queues of unequal length: once the short queue is
    read, its idle worker must not hold the rest of the count from the other one (it did: the
    last burst of the long queue was never read, and --idle-exit ended the capture instead)."""
    header, flows = read_pcap(synthetic)
    records = flows * 40  # thousands of bursts, so that the short queue runs dry early
    short, long_ = tmp_path / 'short.pcap', tmp_path / 'long.pcap'
    write_pcap(short, header, records[:len(records) // 10])
    write_pcap(long_, header, records[len(records) // 10:])
    for attempt in range(5):
        summary = tmp_path / ('summary-%d.json' % attempt)
        r = run(dpdk_bin, ['capture', '--discard', '--count', len(records), '--idle-exit', 10,
                           '--summary-json', summary, '--'] + EAL +
                net_pcap_args([short, long_]))
        r.check_clean()
        s = json.loads(summary.read_text())
        assert s['packets'] == len(records), 'attempt %d: %s' % (attempt, s)
        assert s['capture']['elapsed_s'] < 10, 'the count did not end the capture: %s' % s


def test_discard_over_several_workers_builds_and_counts_every_record(dpdk_bin, synthetic,
                                                                     tmp_path):
    """--discard over several workers (each with a null sink of its own): every record is built
    and counted as delivered, as many as the same capture written to files gives."""
    parts = split_by_flow(synthetic, 3, tmp_path)
    written = capture_from_files(dpdk_bin, parts, tmp_path / 'out-{worker}.json')
    written.check_clean()
    records = sum(len((tmp_path / ('out-%d.json' % w)).read_bytes().splitlines())
                  for w in range(3))
    summary = tmp_path / 'summary.json'
    r = run(dpdk_bin, ['capture', '--discard', '--idle-exit', 1, '--summary-json', summary,
                       '--'] + EAL + net_pcap_args(parts))
    r.check_clean()
    s = json.loads(summary.read_text())
    assert s['balanced'] is True and records > 0
    assert s['records'] == s['delivered'] == records, s


def test_sigterm_under_load_flushes_and_exits_zero(dpdk_bin, synthetic, tmp_path):
    summary = tmp_path / 'summary.json'
    cap = Capture([dpdk_bin, 'capture', '-o', '-', '--summary-json', summary, '--'] + EAL +
                  ['--vdev=net_pcap0,rx_pcap=%s,infinite_rx=1' % synthetic])
    cap.wait_ready()
    cap.stop(signal.SIGTERM, settle=1.0)
    cap.check_clean()
    s = json.loads(summary.read_text())
    assert s['packets'] > 0 and s['balanced'] is True
    assert s['in_flight'] == 0
    assert s['delivered'] + s['records_dropped'] == s['records']
    assert s['capture']['drop_source'] == 'nic' and s['capture']['received'] >= s['packets']
    assert any(line.startswith('dnsprobe: NIC: ') for line in cap.lines), cap.describe()


@pytest.fixture
def lab(tmp_path):
    if not all(shutil.which(t) for t in ('unbound', 'dnsperf', 'dig')):
        pytest.skip('needs unbound, dnsperf and dig (scripts/setup installs them)')
    lab = Lab(tmp_path, '10.99.21')
    yield lab
    lab.down()


def test_af_packet_two_queue_pairs_keep_both_directions_on_one_worker(dpdk_bin, lab, tmp_path):
    out = tmp_path / 'worker-{worker}.json'
    cap = Capture(lab.in_server([dpdk_bin, 'capture', '-o', out, '--'] + EAL +
                                ['--vdev=net_af_packet0,iface=%s,qpairs=2' % lab.server_if]))
    cap.wait_ready()
    assert '2 rx queues' in cap.stderr and 'fanout' in cap.stderr, cap.describe()
    names = query_names(1000)
    sent, completed, lost = lab.dnsperf(names, clients=24, workdir=tmp_path)
    cap.stop(signal.SIGINT)
    cap.check_clean()
    assert (sent, completed, lost) == (len(names), len(names), 0)

    workers_of_flow = collections.defaultdict(set)
    records = []
    for worker in (0, 1):
        for r in read_records(tmp_path / ('worker-%d.json' % worker)):
            workers_of_flow[flow_of(r)].add(worker)
            records.append(r)
    queries, answers = by_type(records)
    assert (len(queries), len(answers)) == (sent, completed)
    assert all(len(w) == 1 for w in workers_of_flow.values()), workers_of_flow
    assert {w for ws in workers_of_flow.values() for w in ws} == {0, 1}


@pytest.fixture(scope='module')
def nodpdk_bin():
    """A dnsprobe built with -Ddpdk=disabled (DNSPROBE_NODPDK, or built in build-nodpdk)."""
    if os.environ.get('DNSPROBE_NODPDK'):
        return pathlib.Path(os.environ['DNSPROBE_NODPDK'])
    if not (shutil.which('meson') and shutil.which('ninja')):
        pytest.skip('needs meson and ninja to build without DPDK')
    build = REPO / 'build-nodpdk'
    if not (build / 'build.ninja').exists():
        subprocess.run(['meson', 'setup', str(build), '-Ddpdk=disabled'], cwd=REPO, check=True,
                       capture_output=True, timeout=300)
    made = subprocess.run(['ninja', '-C', str(build), 'dnsprobe'], capture_output=True,
                          text=True, timeout=600)
    assert made.returncode == 0, made.stdout[-3000:] + made.stderr[-3000:]
    return build / 'dnsprobe'


def fallback_capture(binary, lab, eal_args, tmp_path):
    """-i on the lab's veth plus EAL arguments; one dig, --count 2 ends the capture."""
    out = tmp_path / 'fallback.json'
    cap = Capture(lab.in_server([binary, 'capture', '-i', lab.server_if, '-o', out,
                                 '--count', 2, '--duration', 60, '--eal', ' '.join(eal_args)]))
    cap.wait_ready()
    lab.dig('www.lab.test')
    assert cap.wait() == 0, cap.describe()
    cap.check_clean()
    queries, answers = by_type(read_records(out))
    assert (len(queries), len(answers)) == (1, 1)
    # A packet past --count (a stray one on a loaded machine) is left in the ring and rightly
    # reported as never read; the warning this test is about is the fallback.
    warnings = [line for line in cap.lines
                if 'warning' in line and 'passed the filter but were never read' not in line]
    assert len(warnings) == 1, cap.describe()
    assert warnings[0].endswith('capturing on %s through libpcap instead' % lab.server_if)
    assert any(line.startswith('dnsprobe: capturing on %s through libpcap' % lab.server_if)
               for line in cap.lines)
    return warnings[0]


def test_build_without_dpdk_falls_back_to_libpcap(nodpdk_bin, lab, tmp_path):
    linked = subprocess.run(['ldd', str(nodpdk_bin)], capture_output=True, text=True).stdout
    assert 'librte_' not in linked
    warning = fallback_capture(nodpdk_bin, lab, EAL + ['--vdev=net_null0'], tmp_path)
    assert 'built without DPDK' in warning


def test_eal_failure_falls_back_to_libpcap(dpdk_bin, lab, tmp_path):
    # EAL itself refuses this combination ("--legacy-mem is not compatible with --in-memory").
    warning = fallback_capture(dpdk_bin, lab, ['--no-huge', '--in-memory', '--no-pci'],
                               tmp_path)
    assert 'DPDK EAL did not start' in warning and 'in-memory' in warning


def test_no_usable_port_falls_back_to_libpcap(dpdk_bin, lab, tmp_path):
    warning = fallback_capture(dpdk_bin, lab, EAL, tmp_path)
    assert 'found no DPDK port' in warning


@pytest.mark.parametrize('case', ['wrong EAL argument', 'missing port', 'too little memory',
                                  'too few lcores', 'no fallback with --backend dpdk'])
def test_errors_give_one_line_and_a_nonzero_exit(dpdk_bin, synthetic, tmp_path, case):
    vdev = '--vdev=net_pcap0,rx_pcap=%s' % synthetic
    args, expect, rc = {
        'wrong EAL argument': (['--'] + EAL + ['--no-such-option', vdev],
                               "unrecognized option '--no-such-option'", 2),
        'missing port': (['--port', 7, '--'] + EAL + [vdev],
                         '--port 7: no such DPDK port; ports EAL found: 0 (net_pcap0)', 2),
        'too little memory': (['--', '--no-huge', '--no-pci', '--no-shconf', '-m', '1', vdev],
                              'not enough DPDK memory', 1),
        'too few lcores': (['--'] + EAL + ['-l', '0', vdev], 'worker lcore', 2),
        'no fallback with --backend dpdk': (['--backend', 'dpdk', '-i', 'lo', '--'] + EAL +
                                            ['--in-memory'], 'DPDK EAL did not start', 2),
    }[case]
    out = tmp_path / 'never.json'
    r = run(dpdk_bin, ['capture', '-o', out, '--idle-exit', 1] + args)
    assert r.rc == rc, r.describe()
    assert len(r.lines) == 1 and r.lines[0].startswith('dnsprobe: '), r.describe()
    assert expect in r.lines[0], r.describe()
    assert not out.exists()
