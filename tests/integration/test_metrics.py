# test_metrics: the /metrics endpoint (--metrics-listen) scraped for real while the probe runs.
# The counts are checked against captures written here (so the numbers are known without the
# probe), the body against promtool (Prometheus' own checker) and prometheus_client's parser, the
# scrape against a real Prometheus server from Debian, and the Kafka figures against the broker's
# own offsets and our documented producer defaults.

import json
import os
import re
import pathlib
import shutil
import signal
import socket
import struct
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

import kafka_helpers as kh
from conftest import SANITIZER_MARKS, run_env

PAIRS = 300          # query/response pairs published at once
LATE_S = 600         # the last query comes this many capture seconds later: the replay waits
SCRAPE_TIMEOUT_S = 30


_given = set()


def free_port():
    """A TCP port nothing listens on now and not given before, below Linux's range for outgoing
    connections."""
    for port in range(18153, 18653, 7):
        if port in _given:
            continue
        _given.add(port)
        with socket.socket() as s:
            try:
                s.bind(('127.0.0.1', port))
                return port
            except OSError:
                continue
    raise RuntimeError('no free port for the metrics endpoint')


def write_waiting_pcap(path):
    """PAIRS query/response pairs at once, then one query LATE_S seconds later: replayed with
    --speed 1, the probe publishes the pairs and then waits, still serving /metrics."""
    start_ns = time.time_ns()
    kh.write_dns_pcap(path, PAIRS, start_ns=start_ns)
    qname = b'\x04late\x07example\x03com\x00'
    query = struct.pack('!HHHHHH', 0x4242, 0x0100, 1, 0, 0, 0) + qname + struct.pack('!HH', 28, 1)
    frame = kh._frame(bytes([10, 98, 0, 1]), bytes([10, 99, 0, 53]), 40000, 53, query)
    ts_us = start_ns // 1000 + LATE_S * 1000000
    with open(path, 'ab') as out:
        out.write(struct.pack('<IIII', ts_us // 1000000, ts_us % 1000000, len(frame), len(frame)))
        out.write(frame)


def scrape(port, host='127.0.0.1', path='/metrics'):
    url = 'http://%s:%d%s' % ('[%s]' % host if ':' in host else host, port, path)
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.headers.get('Content-Type'), response.read().decode()


def samples(body):
    """{(name, frozenset(labels)): value} from prometheus_client's parser."""
    out = {}
    for family in text_string_to_metric_families(body):
        for s in family.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def undocumented(body):
    """The metric families of body that docs/operations.md does not list in its tables."""
    docs = (kh.REPO / 'docs' / 'operations.md').read_text()
    listed = set(re.findall(r'`(dnsprobe_[a-z0-9_]+)', docs))
    families = {line.split()[2] for line in body.splitlines() if line.startswith('# TYPE ')}
    return sorted(families - listed)


def value(body, name, **labels):
    return samples(body).get((name, frozenset(labels.items())))


class Probe:
    """A dnsprobe running in the background, stopped with SIGINT."""

    def __init__(self, cmd, workdir):
        self.cmd = [str(c) for c in cmd]
        self.err_path = pathlib.Path(workdir) / ('probe-%d.err' % time.monotonic_ns())
        self.err = open(self.err_path, 'wb')
        self.proc = subprocess.Popen(self.cmd, stdout=subprocess.DEVNULL, stderr=self.err,
                                     env=run_env())

    def stderr(self):
        if not self.err.closed:
            self.err.flush()
        return self.err_path.read_text(errors='replace')

    def describe(self):
        return 'command: %s\nexit: %s\nstderr:\n%s' % (' '.join(self.cmd), self.proc.poll(),
                                                       self.stderr()[-4000:])

    def wait_for(self, port, predicate, host='127.0.0.1', timeout=SCRAPE_TIMEOUT_S):
        """Scrapes until predicate(body) holds; returns the body."""
        deadline = time.monotonic() + timeout
        body = None
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, 'dnsprobe exited early\n' + self.describe()
            try:
                body = scrape(port, host)[1]
                if predicate(body):
                    return body
            except (urllib.error.URLError, ConnectionError):
                pass
            time.sleep(0.2)
        raise AssertionError('no scrape matched in %d s; last body:\n%s\n%s'
                             % (timeout, body, self.describe()))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.err.close()
        report = next((m for m in SANITIZER_MARKS if m in self.stderr()), None)
        assert report is None, 'sanitizer report\n' + self.describe()
        return self.proc.returncode


@pytest.fixture
def waiting_pcap(tmp_path):
    path = tmp_path / 'waiting.pcap'
    write_waiting_pcap(path)
    return path


def delivered_all(body):
    return value(body, 'dnsprobe_records_delivered_total', source='replay') == 2 * PAIRS


def test_scrape_during_a_paced_replay_shows_what_was_published(dnsprobe_bin, waiting_pcap,
                                                                tmp_path):
    port = free_port()
    probe = Probe([dnsprobe_bin, 'replay', waiting_pcap, '--speed', '1', '--discard',
                   '--metrics-listen', '127.0.0.1:%d' % port], tmp_path)
    try:
        body = probe.wait_for(port, delivered_all)
        content_type, _ = scrape(port)
    finally:
        rc = probe.stop()
    assert rc == 0, probe.describe()
    assert content_type.startswith('text/plain; version=0.0.4'), content_type
    # PAIRS responses answered PAIRS A queries; the late AAAA query was read, not published.
    assert value(body, 'dnsprobe_matched_responses_total', source='replay') == PAIRS
    assert value(body, 'dnsprobe_queries_total', source='replay', qtype='A') == PAIRS
    assert value(body, 'dnsprobe_responses_total', source='replay', rcode='NOERROR') == PAIRS
    assert value(body, 'dnsprobe_response_time_seconds_count', source='replay',
                 rcode='NOERROR') == PAIRS
    # One worker: its own counters are the totals.
    assert value(body, 'dnsprobe_worker_records_delivered_total', source='replay',
                 worker='0') == 2 * PAIRS
    assert (value(body, 'dnsprobe_worker_packets_total', source='replay', worker='0')
            == value(body, 'dnsprobe_packets_total', source='replay'))
    assert undocumented(body) == []


def test_body_passes_promtool(dnsprobe_bin, waiting_pcap, tmp_path):
    promtool = shutil.which('promtool')
    if not promtool:
        pytest.skip('promtool not installed (Debian package prometheus; scripts/setup)')
    port = free_port()
    probe = Probe([dnsprobe_bin, 'replay', waiting_pcap, '--speed', '1', '--discard',
                   '--metrics-listen', '127.0.0.1:%d' % port], tmp_path)
    try:
        body = probe.wait_for(port, delivered_all)
    finally:
        assert probe.stop() == 0, probe.describe()
    check = subprocess.run([promtool, 'check', 'metrics'], input=body, capture_output=True,
                           text=True, timeout=60)
    assert check.returncode == 0 and check.stdout == '' and check.stderr == '', \
        'promtool check metrics: %s%s' % (check.stdout, check.stderr)


def prometheus_query(port, query):
    url = 'http://127.0.0.1:%d/api/v1/query?%s' % (port, urllib.parse.urlencode({'query': query}))
    with urllib.request.urlopen(url, timeout=5) as response:
        answer = json.load(response)
    assert answer['status'] == 'success', answer
    return answer['data']['result']


def test_a_prometheus_server_scrapes_it(dnsprobe_bin, waiting_pcap, tmp_path):
    server = shutil.which('prometheus')
    if not server:
        pytest.skip('prometheus not installed (Debian package prometheus; scripts/setup)')
    port = free_port()
    probe = Probe([dnsprobe_bin, 'replay', waiting_pcap, '--speed', '1', '--discard',
                   '--metrics-listen', '127.0.0.1:%d' % port], tmp_path)
    web_port = free_port()
    config = tmp_path / 'prometheus-metrics.yml'
    config.write_text('global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n'
                      'scrape_configs:\n  - job_name: dnsprobe\n'
                      '    static_configs:\n      - targets: ["127.0.0.1:%d"]\n' % port)
    log = open(tmp_path / 'prometheus.log', 'wb')
    prom = subprocess.Popen([server, '--config.file=%s' % config,
                             '--storage.tsdb.path=%s' % (tmp_path / 'tsdb-metrics'),
                             '--web.listen-address=127.0.0.1:%d' % web_port],
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        probe.wait_for(port, delivered_all)
        deadline = time.monotonic() + 90
        up = delivered = None
        while time.monotonic() < deadline:
            assert prom.poll() is None, (tmp_path / 'prometheus.log').read_text()[-3000:]
            try:
                up = prometheus_query(web_port, 'up{job="dnsprobe"}')
                delivered = prometheus_query(web_port, 'dnsprobe_records_delivered_total')
                if (up and up[0]['value'][1] == '1' and delivered
                        and delivered[0]['value'][1] == str(2 * PAIRS)):
                    break
            except (urllib.error.URLError, ConnectionError):
                pass
            time.sleep(0.5)
        assert up and up[0]['value'][1] == '1', 'up: %s\n%s' % (
            up, (tmp_path / 'prometheus.log').read_text()[-3000:])
        assert delivered[0]['metric']['source'] == 'replay'
        assert delivered[0]['value'][1] == str(2 * PAIRS)
    finally:
        prom.terminate()
        prom.wait(timeout=60)
        log.close()
        assert probe.stop() == 0, probe.describe()


def test_ipv6_address_in_brackets(dnsprobe_bin, waiting_pcap, tmp_path):
    if not socket.has_ipv6:
        pytest.skip('no IPv6')
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(('::1', 0))
    except OSError:
        pytest.skip('no ::1 on this host')
    port = free_port()
    probe = Probe([dnsprobe_bin, 'replay', waiting_pcap, '--speed', '1', '--discard',
                   '--metrics-listen', '[::1]:%d' % port], tmp_path)
    try:
        probe.wait_for(port, delivered_all, host='::1')
        # Bound to what was given: not to IPv4 as well.
        with pytest.raises(urllib.error.URLError):
            scrape(port, '127.0.0.1')
    finally:
        assert probe.stop() == 0, probe.describe()


def test_other_paths_are_not_found(dnsprobe_bin, waiting_pcap, tmp_path):
    port = free_port()
    probe = Probe([dnsprobe_bin, 'replay', waiting_pcap, '--speed', '1', '--discard',
                   '--metrics-listen', '127.0.0.1:%d' % port], tmp_path)
    try:
        probe.wait_for(port, delivered_all)
        with pytest.raises(urllib.error.HTTPError) as e:
            scrape(port, path='/')
        assert e.value.code == 404
    finally:
        assert probe.stop() == 0, probe.describe()


@pytest.mark.parametrize('address, words', [
    ('127.0.0.1', 'not an address and port'),
    ('localhost:9153', 'not a numeric IPv4 or [IPv6] address'),
    ('::1:9153', 'IPv6 address goes in brackets'),
    ('127.0.0.1:0', 'port is not 1 to 65535'),
    ('127.0.0.1:65536', 'port is not 1 to 65535'),
    ('192.0.2.1:9153', 'no interface of this host has that address'),
])
def test_bad_address_is_one_line_and_exit_2(dnsprobe, captures_dir, tmp_path, address, words):
    out = tmp_path / 'never.json'
    run = dnsprobe.replay([captures_dir / 'eth_ipv4_udp_edns.pcap'], '--metrics-listen',
                          address, output=out, summary=False)
    assert run.rc == 2, run.describe()
    assert run.stderr.count('\n') == 1 and words in run.stderr, run.stderr
    assert not out.exists()


def test_port_in_use_is_one_line_and_exit_2(dnsprobe, captures_dir, tmp_path):
    with socket.socket() as taken:
        taken.bind(('127.0.0.1', 0))
        taken.listen()
        port = taken.getsockname()[1]
        out = tmp_path / 'never.json'
        run = dnsprobe.replay([captures_dir / 'eth_ipv4_udp_edns.pcap'], '--metrics-listen',
                              '127.0.0.1:%d' % port, output=out, summary=False)
    assert run.rc == 2, run.describe()
    assert run.stderr.count('\n') == 1 and 'Address already in use' in run.stderr, run.stderr
    assert not out.exists()


# --------------------------------------------------------------------------
# A live capture with two workers.
# --------------------------------------------------------------------------

LIVE_QUERIES = 40


def test_live_capture_counts_each_worker(dnsprobe_bin, tmp_path):
    if os.geteuid() != 0:
        pytest.skip('capture needs root')
    dns_port = free_port()
    port = free_port()
    probe = Probe([dnsprobe_bin, 'capture', '-i', 'lo', '--workers', '2', '--discard',
                   '--dns-port', str(dns_port), '-f', 'udp dst port %d' % dns_port,
                   '--metrics-listen', '127.0.0.1:%d' % port], tmp_path)
    try:
        probe.wait_for(port, lambda body: value(body, 'dnsprobe_packets_total', source='lo')
                       == 0)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            for n in range(LIVE_QUERIES):
                qname = b'\x04live\x03m%02d\x07example\x00' % n
                s.sendto(struct.pack('!HHHHHH', n, 0x0100, 1, 0, 0, 0) + qname
                         + struct.pack('!HH', 16, 1), ('127.0.0.1', dns_port))

        def all_seen(body):
            return value(body, 'dnsprobe_queries_total', source='lo',
                         qtype='TXT') == LIVE_QUERIES
        body = probe.wait_for(port, all_seen)
    finally:
        assert probe.stop() == 0, probe.describe()
    per_worker = [value(body, 'dnsprobe_worker_packets_total', source='lo', worker=w)
                  for w in ('0', '1')]
    assert None not in per_worker, body
    assert sum(per_worker) == LIVE_QUERIES


# --------------------------------------------------------------------------
# Kafka: librdkafka's statistics as metrics.
# --------------------------------------------------------------------------

@pytest.fixture(scope='module')
def broker(dnsprobe_bin, tmp_path_factory):
    yield from kh.module_broker(dnsprobe_bin, tmp_path_factory, 27092, 'kafka-metrics')


def test_kafka_figures_while_publishing(dnsprobe_bin, broker, waiting_pcap, tmp_path):
    topic = 'metrics-%d' % int(time.time())
    broker.create_topic(topic, 3)
    port = free_port()
    probe = Probe([dnsprobe_bin, 'replay', waiting_pcap, '--speed', '1', '--brokers',
                   broker.bootstrap, '--topic', topic, '--metrics-listen',
                   '127.0.0.1:%d' % port], tmp_path)

    def kafka_settled(body):
        return (delivered_all(body)
                and value(body, 'dnsprobe_kafka_sent_messages_total', source='replay',
                          worker='0') == 2 * PAIRS)
    try:
        body = probe.wait_for(port, kafka_settled, timeout=60)
        # What the broker holds, read by a real consumer's offsets, is what the producer says
        # it sent (read before the stop publishes the late query).
        held = sum(broker.end_offsets(topic).values())
    finally:
        rc = probe.stop()
    assert rc == 0, probe.describe()
    assert held == 2 * PAIRS
    # The queue's bounds are our documented defaults (docs/kafka.md, "Sizing the producer
    # queue": 50 000 records, 16 MiB of keys and values), and nothing waits in it.
    assert value(body, 'dnsprobe_kafka_queue_max_messages', source='replay',
                 worker='0') == 50000
    assert value(body, 'dnsprobe_kafka_queue_max_bytes', source='replay',
                 worker='0') == 16384 * 1024
    assert value(body, 'dnsprobe_kafka_queue_messages', source='replay', worker='0') == 0
    brokers = {dict(labels)['broker']: v for (name, labels), v in samples(body).items()
               if name == 'dnsprobe_kafka_broker_up'}
    ours = [name for name in brokers if name.startswith(broker.bootstrap + '/')]
    assert ours and all(brokers[name] == 1 for name in ours), brokers
    rtt = value(body, 'dnsprobe_kafka_broker_rtt_avg_seconds', source='replay', worker='0',
                broker=ours[0])
    assert rtt is not None and 0 <= rtt < 10
    assert value(body, 'dnsprobe_kafka_broker_tx_errors_total', source='replay', worker='0',
                 broker=ours[0]) == 0
    assert undocumented(body) == []


def test_scrape_with_more_than_1024_descriptors_open(dnsprobe_bin, tmp_path):
    """1100 dnstap senders connected, so the probe's sockets pass descriptor 1024, which
    select(2) cannot watch: /metrics must still answer (it once gave an empty reply)."""
    import resource
    senders = 1100
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = senders + 512
    if hard != resource.RLIM_INFINITY and hard < want:
        pytest.skip('the descriptor limit (%d) is below %d' % (hard, want))
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, want), hard))
    port = free_port()
    sock = tmp_path / 'metrics-dnstap.sock'
    probe = subprocess.Popen([str(dnsprobe_bin), 'listen', '--dnstap', 'unix:%s' % sock,
                              '--max-connections', str(senders + 10), '--discard',
                              '--metrics-listen', '127.0.0.1:%d' % port],
                             stderr=(tmp_path / 'stderr').open('wb'), env=run_env())
    conns = []
    try:
        deadline = time.monotonic() + 20
        while not sock.exists():
            assert probe.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        for _ in range(senders):
            c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            c.connect(str(sock))
            conns.append(c)
        deadline = time.monotonic() + 20
        while True:
            _, body = scrape(port)
            opened = samples(body).get(('dnsprobe_dnstap_connections_opened_total',
                                        frozenset({('source', 'listen')})))
            if opened == senders:
                break
            assert time.monotonic() < deadline, opened
            time.sleep(0.3)
    finally:
        for c in conns:
            c.close()
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
        probe.send_signal(signal.SIGINT)
        probe.communicate(timeout=60)
    assert probe.returncode == 0
