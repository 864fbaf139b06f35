# test_live_capture: `dnsprobe capture -i IFACE` (libpcap) on a veth pair the test makes in two
# network namespaces (tests/integration/netns-dns-lab), with real DNS traffic: unbound (Debian)
# answers a static zone on one side, dnsperf or dig (Debian) asks from the other, the probe
# listens on the server's end of the veth. The oracles are the clients' own counts, the names the
# test sent, and what unbound's zone must answer (NXDOMAIN, or www.lab.test -> NET.80).
# Covers: exactly one query record and one response record per transaction; --workers 2 keeps
# both directions of every flow on one worker (one output file per worker) and, with one output
# file, writes whole lines; --filter is applied; --count stops the capture; SIGINT and SIGTERM
# stop, flush and exit 0 with the summary and the kernel's drop counts; a missing interface gives
# one line and exit 2.
#
# Needs root (namespaces, promiscuous capture), unbound, dnsperf and dig.

import collections
import json
import os
import pathlib
import re
import shutil
import signal
import subprocess
import threading
import time
import uuid

import pytest

from conftest import SANITIZER_MARKS, run_env
from tshark_oracle import strict_json_line

HERE = pathlib.Path(__file__).resolve().parent
LAB_SCRIPT = HERE / 'netns-dns-lab'
DNSPERF_COUNT = re.compile(r'^\s*Queries (sent|completed|lost):\s+(\d+)', re.M)
READY_MARKS = ('dnsprobe: capturing on ', 'dnsprobe: DPDK port ')

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason='needs root for network namespaces and capture'),
    pytest.mark.skipif(not all(shutil.which(t) for t in ('unbound', 'dnsperf', 'dig', 'ip')),
                       reason='needs unbound, dnsperf, dig and ip (scripts/setup installs them)'),
]


class Lab:
    """Two namespaces joined by a veth pair; unbound answers lab.test on NET.1 (server side)."""

    def __init__(self, workdir, net):
        self.tag = 'dpl' + uuid.uuid4().hex[:6]
        self.dir = workdir / ('lab-' + self.tag)
        self.net = net
        self.server_ns = self.tag + '-srv'
        self.client_ns = self.tag + '-cli'
        self.server_if = self.tag + '-s'
        self.server = net + '.1'
        self.client = net + '.2'
        self.www = net + '.80'
        subprocess.run([str(LAB_SCRIPT), 'up', self.tag, str(self.dir), net], check=True,
                       capture_output=True, timeout=60)

    def down(self):
        subprocess.run([str(LAB_SCRIPT), 'down', self.tag, str(self.dir)], capture_output=True,
                       timeout=60)

    def in_server(self, cmd):
        return ['ip', 'netns', 'exec', self.server_ns] + [str(c) for c in cmd]

    def dnsperf(self, names, clients, workdir):
        """Sends every name once (type A); returns dnsperf's own (sent, completed, lost)."""
        query_file = workdir / ('queries-%s.txt' % uuid.uuid4().hex[:6])
        query_file.write_text(''.join('%s A\n' % n for n in names))
        out = subprocess.run(['ip', 'netns', 'exec', self.client_ns, 'dnsperf', '-s',
                              self.server, '-d', str(query_file), '-n', '1', '-c', str(clients),
                              '-Q', '4000', '-t', '5'], capture_output=True, text=True,
                             timeout=120, check=True).stdout
        counts = dict(DNSPERF_COUNT.findall(out))
        return int(counts['sent']), int(counts['completed']), int(counts['lost'])

    def dig(self, name, source_port=None):
        """One query, no retry (from source_port if given); returns dig's status line."""
        source = ['-b', '%s#%d' % (self.client, source_port)] if source_port else []
        return subprocess.run(['ip', 'netns', 'exec', self.client_ns, 'dig', '+tries=1',
                               '+time=3'] + source + ['@' + self.server, name, 'A'],
                              capture_output=True, text=True, timeout=30).stdout


class Capture:
    """A `dnsprobe capture` running in the background, its standard error read as it comes."""

    started = []   # every capture of the running test, for stop_leftover_captures

    def __init__(self, cmd):
        self.cmd = [str(c) for c in cmd]
        self.proc = subprocess.Popen(self.cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     env=run_env())
        Capture.started.append(self)
        self.lines = []
        self.changed = threading.Condition()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for raw in self.proc.stderr:
            with self.changed:
                self.lines.append(raw.decode('utf-8', 'replace').rstrip('\n'))
                self.changed.notify_all()
        with self.changed:
            self.changed.notify_all()

    @property
    def stderr(self):
        with self.changed:
            return '\n'.join(self.lines)

    def describe(self):
        return 'command: %s\nexit: %s\nstderr:\n%s' % (' '.join(self.cmd), self.proc.returncode,
                                                       self.stderr[-4000:])

    def wait_ready(self, timeout=60):
        """Returns once the start-up line is out: from then on packets reach the capture."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while not any(line.startswith(READY_MARKS) for line in self.lines):
                left = deadline - time.monotonic()
                if self.proc.poll() is not None and not self.reader.is_alive():
                    pytest.fail('dnsprobe ended before capturing\n' + self.describe())
                if left <= 0:
                    self.proc.kill()
                    pytest.fail('dnsprobe did not start capturing\n' + self.describe())
                self.changed.wait(min(left, 0.2))

    def wait(self, timeout=120):
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            pytest.fail('dnsprobe did not stop\n' + self.describe())
        self.reader.join(10)
        return self.proc.returncode

    def stop(self, signo=signal.SIGINT, settle=0.7):
        """Lets the last packets through the kernel's ring (its blocks retire after 100 ms),
        then stops the capture with signo."""
        time.sleep(settle)
        self.proc.send_signal(signo)
        return self.wait()

    def check_clean(self):
        assert self.proc.returncode >= 0, 'killed by signal\n' + self.describe()
        for mark in SANITIZER_MARKS:
            assert mark not in self.stderr, 'sanitizer report\n' + self.describe()
        assert self.proc.returncode == 0, self.describe()


@pytest.fixture(autouse=True)
def stop_leftover_captures():
    """A test that failed half-way must not leave a capture running."""
    yield
    for cap in Capture.started:
        if cap.proc.poll() is None:
            cap.proc.kill()
            cap.proc.wait()
    Capture.started.clear()


def read_records(path):
    return [strict_json_line(line) for line in pathlib.Path(path).read_bytes().splitlines()]


def flow_of(record):
    """The flow as the test sees it: the two (address, port) endpoints, in sorted order."""
    a = (record['source']['ip'], record['source']['port'])
    b = (record['destination']['ip'], record['destination']['port'])
    return (record['network']['transport'],) + tuple(sorted([a, b]))


def by_type(records):
    kinds = collections.defaultdict(list)
    for r in records:
        kinds[r['dns']['type']].append(r)
    return kinds['query'], kinds['answer']


@pytest.fixture
def lab(tmp_path):
    lab = Lab(tmp_path, '10.99.20')
    yield lab
    lab.down()


def query_names(count, www_every=10):
    return ['www.lab.test' if i % www_every == 0 else 'n%d.lab.test' % i for i in range(count)]


def capture_cmd(dnsprobe_bin, lab, out, *args):
    return lab.in_server([dnsprobe_bin, 'capture', '-i', lab.server_if, '-o', out] + list(args))


def test_one_query_and_one_response_record_per_transaction(dnsprobe_bin, lab, tmp_path):
    out, summary = tmp_path / 'records.json', tmp_path / 'summary.json'
    cap = Capture(capture_cmd(dnsprobe_bin, lab, out, '--summary-json', summary))
    cap.wait_ready()
    names = query_names(600)
    sent, completed, lost = lab.dnsperf(names, clients=4, workdir=tmp_path)
    cap.stop(signal.SIGINT)
    cap.check_clean()
    assert (sent, completed, lost) == (len(names), len(names), 0), 'the client lost queries'

    queries, answers = by_type(read_records(out))
    assert len(queries) == sent
    assert len(answers) == completed
    assert collections.Counter(q['dns']['question']['name'] for q in queries) == \
        collections.Counter(names)
    assert collections.Counter(a['dns']['question']['name'] for a in answers) == \
        collections.Counter(names)
    for q in queries:
        assert (q['source']['ip'], q['destination']['ip'], q['destination']['port']) == \
            (lab.client, lab.server, 53)
    for a in answers:
        assert (a['source']['ip'], a['source']['port'], a['destination']['ip']) == \
            (lab.server, 53, lab.client)
        if a['dns']['question']['name'] == 'www.lab.test':
            assert a['dns']['response_code'] == 'NOERROR'
            assert [x['data'] for x in a['dns']['answers']] == [lab.www]
        else:
            assert a['dns']['response_code'] == 'NXDOMAIN'

    s = json.loads(summary.read_text())
    assert s['balanced'] is True
    assert s['packets'] == s['records'] == sent + completed
    assert s['capture']['drop_source'] == 'kernel'
    assert s['capture']['kernel_dropped'] == 0
    assert 'dnsprobe: kernel: ' in cap.stderr


def test_interface_deleted_under_load_loses_nothing_uncounted(dnsprobe_bin, lab, tmp_path):
    """`ip link del` while dnsperf sends: what is still in the kernel's ring is read out, and
    every packet the kernel let through the filter is read, dropped or counted unread."""
    out, summary = tmp_path / 'records.json', tmp_path / 'summary.json'
    cap = Capture(capture_cmd(dnsprobe_bin, lab, out, '--summary-json', summary))
    cap.wait_ready()
    queries = tmp_path / 'load.txt'
    queries.write_text(''.join('n%d.lab.test A\n' % i for i in range(200000)))
    load = subprocess.Popen(['ip', 'netns', 'exec', lab.client_ns, 'dnsperf', '-s', lab.server,
                             '-d', str(queries), '-n', '1', '-c', '4', '-Q', '50000', '-l', '4'],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(2)
        subprocess.run(['ip', '-n', lab.server_ns, 'link', 'del', lab.server_if], check=True)
        rc = cap.wait(timeout=60)
    finally:
        load.kill()
        load.wait()
    assert rc == 1, cap.describe()
    assert 'The interface disappeared' in cap.stderr or 'went down' in cap.stderr, cap.describe()
    s = json.loads(summary.read_text())
    c = s['capture']
    assert c['received'] > 1000, 'no load reached the capture'
    unread = c.get('unread', 0)
    assert s['packets'] + c['kernel_dropped'] + unread == c['received'], s
    assert unread <= c['received'] // 100, 'the ring was not read out: %s' % s
    assert len(read_records(out)) == s['packets'] and s['balanced'], s


def assert_one_query_and_answer_each(out, names, cap):
    queries, answers = by_type(read_records(out))
    assert sorted(q['dns']['question']['name'] for q in queries) == sorted(names)
    assert sorted(a['dns']['question']['name'] for a in answers) == sorted(names)
    assert 'dnsprobe: %d packets' % (2 * len(names)) in cap.stderr


def test_dig_queries_and_count_stops_the_capture(dnsprobe_bin, lab, tmp_path):
    out = tmp_path / 'records.json'
    names = ['www.lab.test', 'a.lab.test', 'b.lab.test']
    cap = Capture(capture_cmd(dnsprobe_bin, lab, out, '--count', 2 * len(names),
                              '--duration', 60))
    cap.wait_ready()
    for name in names:
        assert 'status: ' in lab.dig(name)
    assert cap.wait() == 0, cap.describe()
    cap.check_clean()
    assert_one_query_and_answer_each(out, names, cap)


def test_two_workers_keep_both_directions_of_every_flow_on_one_worker(dnsprobe_bin, lab,
                                                                      tmp_path):
    out = tmp_path / 'worker-{worker}.json'
    cap = Capture(capture_cmd(dnsprobe_bin, lab, out, '--workers', 2))
    cap.wait_ready()
    names = query_names(1000)
    sent, completed, _ = lab.dnsperf(names, clients=24, workdir=tmp_path)
    cap.stop(signal.SIGTERM)
    cap.check_clean()

    workers_of_flow = collections.defaultdict(set)
    per_flow = collections.Counter()
    total = 0
    for worker in (0, 1):
        for r in read_records(tmp_path / ('worker-%d.json' % worker)):
            workers_of_flow[flow_of(r)].add(worker)
            per_flow[flow_of(r), r['dns']['type']] += 1
            total += 1
    assert total == sent + completed
    split = [f for f, workers in workers_of_flow.items() if len(workers) > 1]
    assert split == [], 'flows seen by both workers: %s' % split
    assert {w for ws in workers_of_flow.values() for w in ws} == {0, 1}, \
        'all %d flows went to one worker' % len(workers_of_flow)
    for flow in workers_of_flow:
        assert per_flow[flow, 'query'] == per_flow[flow, 'answer'], flow


def test_two_workers_write_one_file_in_whole_lines(dnsprobe_bin, lab, tmp_path):
    out = tmp_path / 'records.json'
    cap = Capture(capture_cmd(dnsprobe_bin, lab, out, '--workers', 2))
    cap.wait_ready()
    names = query_names(800)
    sent, completed, _ = lab.dnsperf(names, clients=16, workdir=tmp_path)
    cap.stop(signal.SIGINT)
    cap.check_clean()
    queries, answers = by_type(read_records(out))   # every line must parse on its own
    assert (len(queries), len(answers)) == (sent, completed)


def test_count_is_reached_when_every_packet_goes_to_one_of_two_workers(dnsprobe_bin, lab,
                                                                        tmp_path):
    # Every query from one source port: one flow, so one worker sees all of them while the other
    # waits on a quiet ring. That quiet worker once sat in pcap_dispatch holding a share of
    # --count, and the capture ran on until --duration with the count never reached.
    out = tmp_path / 'records.json'
    names = ['www.lab.test', 'a.lab.test', 'b.lab.test']
    cap = Capture(capture_cmd(dnsprobe_bin, lab, out, '--workers', 2, '--count', 2 * len(names),
                              '--duration', 60))
    cap.wait_ready()
    started = time.monotonic()
    for name in names:
        assert 'status: ' in lab.dig(name, source_port=53530)
    assert cap.wait() == 0, cap.describe()
    assert time.monotonic() - started < 30, 'the capture ran until --duration: ' + cap.stderr
    cap.check_clean()
    assert_one_query_and_answer_each(out, names, cap)


def test_filter_expression_is_applied(dnsprobe_bin, lab, tmp_path):
    out = tmp_path / 'records.json'
    cap = Capture(capture_cmd(dnsprobe_bin, lab, out, '--filter', 'udp dst port 53'))
    cap.wait_ready()
    names = query_names(200)
    sent, completed, _ = lab.dnsperf(names, clients=2, workdir=tmp_path)
    cap.stop()
    cap.check_clean()
    queries, answers = by_type(read_records(out))
    assert (len(queries), len(answers)) == (sent, 0)
    assert completed == sent


def test_missing_interface_gives_one_line_and_exit_2(dnsprobe_bin, tmp_path):
    out = tmp_path / 'records.json'
    proc = subprocess.run([str(dnsprobe_bin), 'capture', '-i', 'nosuchif0', '-o', str(out)],
                          capture_output=True, text=True, timeout=60, env=run_env())
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2
    assert len(lines) == 1 and lines[0].startswith('dnsprobe: ') and 'nosuchif0' in lines[0], \
        proc.stderr
    assert not out.exists()


# --------------------------------------------------------------------------
# tcpdump's habits: a trailing filter expression, -c, -p, -B with a unit.
# --------------------------------------------------------------------------

def test_tcpdump_spelling_filter_words_count_no_promisc_buffer_unit(dnsprobe_bin, lab, tmp_path):
    """`capture -i IF -p -c N -B 4096KiB udp dst port 53`, as tcpdump takes it: the words after
    the options are the BPF filter (only queries pass), -c stops it, -p is no promiscuous mode
    and 4096KiB is 4 MiB."""
    out = tmp_path / 'records.json'
    names = ['www.lab.test', 'a.lab.test', 'b.lab.test']
    cap = Capture(capture_cmd(dnsprobe_bin, lab, out, '-p', '-c', len(names), '-B', '4096KiB',
                              '--duration', 60, 'udp', 'dst', 'port', '53'))
    cap.wait_ready()
    start = next(line for line in cap.lines if line.startswith('dnsprobe: capturing on '))
    assert 'filter: udp dst port 53' in start and '4 MiB buffer' in start, start
    assert 'promiscuous' not in start, start
    for name in names:
        assert 'status: ' in lab.dig(name)
    assert cap.wait() == 0, cap.describe()
    cap.check_clean()
    queries, answers = by_type(read_records(out))
    assert sorted(q['dns']['question']['name'] for q in queries) == sorted(names)
    assert answers == []
    # The interface was not put in promiscuous mode (the kernel's own flag, read after the run
    # would say nothing, so it is read from the start-up line above and from the link now).
    flags = subprocess.run(lab.in_server(['ip', 'link', 'show', lab.server_if]),
                           capture_output=True, text=True, timeout=30).stdout
    assert 'PROMISC' not in flags
