# test_kafka: dnsprobe publishing to a real Apache Kafka broker (scripts/kafka-dev, on a free
# port and a temporary folder of its own), read back by a real consumer (confluent-kafka).
# Checked against oracles written from the specifications: the Java client's murmur2 for the
# partition of each key, the key layout of docs/architecture.md, Community ID v1, capture times
# read straight from the pcap files, and the JSON lines `dnsprobe replay --output` writes for the same files.
# Also: a broker killed and restarted mid-replay (every record exactly once), a broker that is
# not there at start, a broker that goes away for good, bad -X settings, a stop (SIGTERM) while
# blocked on a full queue (replay, and live capture on lo), stats while blocked, and records
# too large for the broker.

import calendar
import collections
import json
import os
import signal
import socket
import subprocess
import threading
import time

import pytest

import kafka_helpers as kh
from conftest import SANITIZER_MARKS

PARTITIONS = 6
RESTART_PAIRS = 150000  # 300k packets: several times the producer queue


@pytest.fixture(scope='module', autouse=True)
def kafka_build(dnsprobe_bin):
    """Skips the module for a dnsprobe built without librdkafka (meson -Dkafka=disabled)."""
    usage = subprocess.run([str(dnsprobe_bin), 'replay', '--help'], capture_output=True,
                           text=True).stdout
    if '--brokers' not in usage:
        pytest.skip('%s was built without Kafka support' % dnsprobe_bin)


@pytest.fixture(scope='module')
def broker(tmp_path_factory):
    b = kh.Broker(kh.free_ports(19092), tmp_path_factory.mktemp('kafka'))
    b.start()
    yield b
    b.wipe()


@pytest.fixture
def kafka(broker):
    """The broker, running (a test before may have killed it)."""
    broker.start()
    return broker


_topics = iter(range(1, 1000))


def new_topic(broker, prefix):
    name = '%s-%d-%d' % (prefix, next(_topics), int(time.time()))
    broker.create_topic(name, PARTITIONS)
    return name


def readable_test_captures():
    """The readable test captures (not the files that must be rejected)."""
    with open(kh.REPO / 'tests' / 'captures' / 'expected.json') as fh:
        files = json.load(fh)['files']
    return {name: e for name, e in sorted(files.items()) if e['exit'] == 0}


def corpus_files():
    folder = kh.REPO.parent / 'shared' / 'corpus' / 'pcap'
    return sorted(folder.iterdir()) if folder.is_dir() else []


def timestamp_ns(text):
    """'2013-10-08T12:51:36.123456000Z' -> nanoseconds since the epoch."""
    seconds, fraction = text.rstrip('Z').split('.')
    return calendar.timegm(time.strptime(seconds, '%Y-%m-%dT%H:%M:%S')) * 10**9 + int(fraction)


def flow_of(value):
    """(protocol number, source ip, destination ip, source port, destination port)."""
    return (kh.PROTOCOLS[value['network']['transport']], value['source']['ip'],
            value['destination']['ip'], value['source']['port'], value['destination']['port'])


def publish(dnsprobe, broker, files, topic, *args):
    run = dnsprobe.replay(files, '--brokers', broker.bootstrap, '--topic', topic, *args,
                          output=None)
    run.check_clean()
    s = run.summary
    assert s['balanced'], run.describe()
    assert s['delivered'] == s['records'] and s['failed'] == 0 and s['in_flight'] == 0, \
        run.describe()
    return run


def check_placement(records):
    """Every record sits where the Java client would have put its key."""
    misplaced = [(r.key, r.partition) for r in records
                 if r.partition != kh.java_partition(r.key, PARTITIONS)]
    assert not misplaced, 'records not on murmur2(key) %% %d: %r' % (PARTITIONS, misplaced[:5])


# --------------------------------------------------------------------------
# The oracles themselves, against published values.
# --------------------------------------------------------------------------

def test_oracles_match_published_vectors():
    # org.apache.kafka.common.utils.UtilsTest.testMurmur2
    for data, java_int in [(b'21', -973932308), (b'foobar', -790332482),
                           (b'a-little-bit-long-string', -985981536),
                           (b'a-little-bit-longer-string', -1486304829),
                           (b'lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971),
                           (b'abc', 479470107)]:
        assert kh.murmur2(data) == java_int & 0xffffffff
    # corelight/community-id-spec baseline/baseline_deflt.json
    assert kh.community_id(6, '128.232.110.120', '66.35.250.204', 34855, 80) == \
        '1:LQU9qZlK+B5F3KDmev6m5PMibrg='
    assert kh.community_id(17, '8.8.8.8', '192.168.1.52', 53, 54585) == \
        '1:d/FP5EW3wiY1vCndhwleRRKHowQ='
    assert kh.community_id(6, '2607:f8b0:400c:c03::1a', '2001:470:e5bf:dead:4957:2174:e82c:4887',
                           25, 63943) == '1:/qFaeAR+gFe1KYjMzVDsMv+wgU4='


# --------------------------------------------------------------------------
# Replay into a 6-partition topic and read everything back.
# --------------------------------------------------------------------------

def test_replay_reads_back_exactly_what_output_writes(dnsprobe, kafka, tmp_path):
    files = [kh.REPO / 'tests' / 'captures' / n for n in readable_test_captures()] + corpus_files()
    reference = dnsprobe.replay(files, output=tmp_path / 'records.jsonl')
    reference.check_clean()
    topic = new_topic(kafka, 'replay')
    run = publish(dnsprobe, kafka, files, topic, '--kafka-timestamp', 'capture')
    records = kafka.consume_all(topic)

    assert len(records) == run.summary['records'] == reference.summary['records'] > 0
    values = [json.loads(r.value) for r in records]
    canonical = collections.Counter(json.dumps(v, sort_keys=True) for v in values)
    expected = collections.Counter(json.dumps(v, sort_keys=True) for v in reference.records())
    assert canonical == expected, 'Kafka values differ from --output: %d only in Kafka, %d only ' \
        'in the file' % (sum((canonical - expected).values()), sum((expected - canonical).values()))

    check_placement(records)
    assert len({r.partition for r in records}) == PARTITIONS, 'keys did not spread'
    wrong_keys = [(r.key.hex(), v['source'], v['destination']) for r, v in zip(records, values)
                  if r.key != kh.flow_key_binary(*flow_of(v))]
    assert not wrong_keys, 'keys differ from the docs/architecture.md layout: %r' % wrong_keys[:5]

    # Kafka's timestamp is the capture time in ms; 0 ms means "now" to Kafka, so skip it.
    wrong_times = [(r.timestamp_ms, v['@timestamp']) for r, v in zip(records, values)
                   if timestamp_ns(v['@timestamp']) // 10**6 > 0
                   and r.timestamp_ms != timestamp_ns(v['@timestamp']) // 10**6]
    assert not wrong_times, 'record timestamps are not the capture time: %r' % wrong_times[:5]

    # A query and its response (same transaction id, endpoints swapped) share key and partition.
    by_transaction = collections.defaultdict(list)
    for r, v in zip(records, values):
        p, src, dst, sport, dport = flow_of(v)
        endpoints = frozenset([(src, sport), (dst, dport)])
        by_transaction[(p, endpoints, v['dns']['id'])].append((v['dns']['type'], r))
    pairs = 0
    for transaction, members in by_transaction.items():
        if {'query', 'answer'} <= {kind for kind, _ in members}:
            pairs += 1
            assert len({(r.key, r.partition) for _, r in members}) == 1, transaction
    assert pairs > 10, 'too few query/response pairs to check (%d)' % pairs


def test_raw_values_are_the_captured_packets(dnsprobe, kafka):
    """--format raw: each value is one captured frame, timestamped with its capture time, both
    read from the pcap files by our own reader."""
    captures = {n: e for n, e in readable_test_captures().items()
                if e['format'] == 'pcap' and set(f['bucket'] for f in e['frames'])
                <= {'record', 'not_dns', 'malformed', 'unsupported_link'}}
    # (frame bytes, capture time in ms); None for 0 ms, which Kafka reads as "now"
    expected = collections.Counter()
    for name, e in captures.items():
        frames = kh.read_pcap(kh.REPO / 'tests' / 'captures' / name)
        for record in e['records']:  # the frames a default run turns into records
            ts_ns, data = frames[record['frame'] - 1]
            expected[(data, ts_ns // 10**6 or None)] += 1
    topic = new_topic(kafka, 'raw')
    publish(dnsprobe, kafka, [kh.REPO / 'tests' / 'captures' / n for n in captures], topic,
            '--format', 'raw', '--kafka-timestamp', 'capture')
    records = kafka.consume_all(topic)
    got = collections.Counter()
    for r in records:
        now_frame = (r.value, None) in expected and (r.value, r.timestamp_ms) not in expected
        got[(r.value, None if now_frame else r.timestamp_ms)] += 1
    missing, unexpected = expected - got, got - expected
    assert not missing and not unexpected, \
        'frames (bytes, ms) not in Kafka: %r\nKafka records not captured so: %r' % (
            [(d.hex()[:40], t) for d, t in missing][:5],
            [(d.hex()[:40], t) for d, t in unexpected][:5])
    check_placement(records)


def test_replay_stamps_records_with_the_time_of_sending(dnsprobe, kafka):
    """By default a replay's records carry the time they were sent (an old capture's times would
    expire under retention and make the broker forget the idempotent producer, see docs/kafka.md
    "Timestamps"); the capture time stays in @timestamp."""
    files = [kh.REPO / 'tests' / 'captures' / 'rcodes.pcap']
    topic = new_topic(kafka, 'send-time')
    before = time.time() * 1000
    publish(dnsprobe, kafka, files, topic)
    after = time.time() * 1000
    records = kafka.consume_all(topic)
    assert records
    assert all(before - 1000 <= r.timestamp_ms <= after + 1000 for r in records), \
        [r.timestamp_ms for r in records][:5]
    assert all(json.loads(r.value)['@timestamp'].startswith('20') for r in records)


def test_text_and_community_id_keys(dnsprobe, kafka):
    files = [kh.REPO / 'tests' / 'captures' / n for n in readable_test_captures()]
    for key_format, oracle in [('text', lambda *f: kh.flow_key_text(*f).encode()),
                               ('community-id', lambda *f: kh.community_id(*f).encode())]:
        topic = new_topic(kafka, key_format)
        publish(dnsprobe, kafka, files, topic, '--key-format', key_format)
        records = kafka.consume_all(topic)
        assert records
        wrong = [(r.key, oracle(*flow_of(json.loads(r.value)))) for r in records
                 if r.key != oracle(*flow_of(json.loads(r.value)))]
        assert not wrong, '%s keys differ from the oracle: %r' % (key_format, wrong[:5])
        check_placement(records)


# --------------------------------------------------------------------------
# Failures: a broker restart, no broker, a broker that goes away, bad settings.
# --------------------------------------------------------------------------

@pytest.fixture(scope='module')
def many_packets(tmp_path_factory):
    """(path, packets) of a capture several times larger than the producer queue, captured
    "now", as a live probe's records are. The broker forgets an idempotent producer whose last
    record timestamp is older than producer.id.expiration.ms (1 day) when it reloads state after
    a restart; retried batches of an old capture can then be written twice (docs/kafka.md,
    "Timestamps")."""
    capture = tmp_path_factory.mktemp('captures') / 'many.pcap'
    return capture, kh.write_dns_pcap(capture, RESTART_PAIRS, start_ns=time.time_ns())


def check_no_sanitizer_report(stderr):
    assert not any(mark in stderr for mark in SANITIZER_MARKS), stderr
    # Every line is ours: none from librdkafka's own printer ("%6|1700000000.123|BGQUEUE|...").
    foreign = [line for line in stderr.splitlines() if not line.startswith('dnsprobe')]
    assert not foreign, 'stderr lines not from dnsprobe: %r' % foreign[:5]


def wait_for_some_delivered(broker, topic, proc, count):
    while sum(broker.end_offsets(topic).values()) < count:
        assert proc.poll() is None, 'dnsprobe ended before the broker could be killed'
        time.sleep(0.05)


def stats_metric(path, name):
    """The value of one unlabelled-but-for-source metric in a --stats-file, or None."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        return None
    for line in text.splitlines():
        if line.startswith(name + '{') or line.startswith(name + ' '):
            return float(line.rsplit(' ', 1)[1])
    return None


def replay_killing_broker(cmd, kafka, topic, packets, restart, timeout):
    """Runs cmd, kills the broker once a tenth of the records arrived (and starts it again when
    restart is set); returns dnsprobe's exit status and stderr, checked for sanitizer reports."""
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_for_some_delivered(kafka, topic, proc, packets // 10)
        kafka.kill()
        if restart:
            assert proc.poll() is None, 'dnsprobe ended before the broker was killed'
            time.sleep(1)
            kafka.start()
        _, stderr = proc.communicate(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
    stderr = stderr.decode()
    check_no_sanitizer_report(stderr)
    return proc.returncode, stderr


def test_broker_restart_loses_and_duplicates_nothing(dnsprobe, kafka, many_packets, tmp_path):
    capture, packets = many_packets
    topic = new_topic(kafka, 'restart')
    summary = tmp_path / 'summary.json'
    # A queue of 20 000 records: dnsprobe must block long before the end of the capture.
    cmd = [str(dnsprobe.binary), 'replay', str(capture), '--brokers', kafka.bootstrap,
           '--topic', topic, '--on-full', 'block', '--flush-timeout', '120000',
           '-X', 'queue.buffering.max.messages=20000', '--summary-json', str(summary)]
    returncode, stderr = replay_killing_broker(cmd, kafka, topic, packets, True, 240)
    assert returncode == 0, stderr
    s = json.loads(summary.read_text())
    assert s['balanced'] and s['records'] == packets, s
    assert s['delivered'] == packets and s['failed'] == 0 and s['in_flight'] == 0, s
    records = kafka.consume_all(topic)
    assert len(records) == packets
    assert len({r.value for r in records}) == packets, 'some records arrived twice'


def test_sigterm_stops_flushes_and_accounts(dnsprobe, kafka, many_packets, tmp_path):
    """SIGTERM mid-replay: reading stops, what was accepted is flushed, exit 0, and the topic
    holds exactly what the summary calls delivered."""
    capture, packets = many_packets
    topic = new_topic(kafka, 'sigterm')
    summary = tmp_path / 'summary.json'
    # At most 1000 records queued, sent every 100 ms: about 10 000 records/s, so the signal
    # arrives long before the end of the capture.
    cmd = [str(dnsprobe.binary), 'replay', str(capture), '--brokers', kafka.bootstrap,
           '--topic', topic, '-X', 'queue.buffering.max.messages=1000', '-X', 'linger.ms=100',
           '--summary-json', str(summary)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_for_some_delivered(kafka, topic, proc, packets // 20)
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    stderr = stderr.decode()
    check_no_sanitizer_report(stderr)
    assert proc.returncode == 0, stderr
    s = json.loads(summary.read_text())
    assert s['balanced'] and 0 < s['packets'] < packets, s
    assert s['delivered'] == s['records_to_sink'] and s['in_flight'] == 0, s
    assert len(kafka.consume_all(topic)) == s['delivered']


def test_broker_unreachable_at_start(dnsprobe, tmp_path):
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]  # nothing listens here once the socket is closed
    summary = tmp_path / 'summary.json'
    run = dnsprobe.raw(['replay', kh.REPO / 'tests' / 'captures' / 'eth_ipv4_udp_edns.pcap',
                        '--brokers', '127.0.0.1:%d' % port, '--topic', 'dns',
                        '--summary-json', summary])
    assert run.rc > 0, run.describe()
    lines = run.stderr.splitlines()
    assert len(lines) == 1 and 'cannot reach Kafka at 127.0.0.1:%d' % port in lines[0], \
        run.describe()
    assert not summary.exists() or json.loads(summary.read_text())['delivered'] == 0


@pytest.mark.parametrize('setting, named', [('no.such.property=1', 'no.such.property'),
                                            ('linger.ms=-5', 'linger.ms'),
                                            ('acks', 'acks')])
def test_bad_kafka_setting_is_one_line_naming_it(dnsprobe, setting, named):
    run = dnsprobe.raw(['replay', kh.REPO / 'tests' / 'captures' / 'eth_ipv4_udp_edns.pcap',
                        '--brokers', '127.0.0.1:9', '--topic', 'dns', '-X', setting])
    lines = run.stderr.splitlines()
    assert run.rc == 2 and len(lines) == 1 and named in lines[0], run.describe()


def test_broker_gone_for_good_records_fail_and_summary_balances(dnsprobe, kafka, many_packets,
                                                              tmp_path):
    """Records that cannot reach a vanished broker end as failed (after message.timeout.ms), the
    summary still balances, and the exit status and last line say records were lost."""
    capture, packets = many_packets
    topic = new_topic(kafka, 'gone')
    summary = tmp_path / 'summary.json'
    cmd = [str(dnsprobe.binary), 'replay', str(capture), '--brokers', kafka.bootstrap,
           '--topic', topic, '-X', 'message.timeout.ms=2000', '--summary-json', str(summary)]
    # Records fail one full queue at a time, each round taking message.timeout.ms and
    # librdkafka's timeout scan: with the 16 MiB queue this replay takes ~150 s.
    returncode, stderr = replay_killing_broker(cmd, kafka, topic, packets, False, 300)
    assert returncode == 1, stderr
    s = json.loads(summary.read_text())
    assert s['balanced'] and s['records'] == packets, s
    assert s['failed'] > 0 and s['delivered'] + s['failed'] + s['in_flight'] == packets, s
    assert 'records failed' in stderr.splitlines()[-1], stderr


# --------------------------------------------------------------------------
# A full queue under --on-full block: stats go on, and a stop loses nothing accepted.
# --------------------------------------------------------------------------

BLOCK_QUEUE = 1000


def blocked_replay(dnsprobe, kafka, capture, topic, tmp_path, *args):
    """Starts a replay with a 1000-record queue under --on-full block and stats every second,
    kills the broker once some records arrived and gives dnsprobe 3 s to fill its queue and
    block (it reads ~10 000 records/s). Returns (proc, stats file, summary file)."""
    stats = tmp_path / 'dnsprobe.prom'
    summary = tmp_path / 'summary.json'
    cmd = [str(dnsprobe.binary), 'replay', str(capture), '--brokers', kafka.bootstrap,
           '--topic', topic, '--on-full', 'block',
           '-X', 'queue.buffering.max.messages=%d' % BLOCK_QUEUE,
           '--stats-file', str(stats), '--stats-interval', '1', '--summary-json', str(summary)]
    proc = subprocess.Popen(cmd + list(args), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wait_for_some_delivered(kafka, topic, proc, 5000)
    kafka.kill()
    time.sleep(3)
    assert proc.poll() is None, 'dnsprobe ended instead of blocking'
    return proc, stats, summary


def test_stats_keep_coming_while_blocked_on_a_full_queue(dnsprobe, kafka, many_packets,
                                                         tmp_path):
    """While publish() waits for room, the stats file is still rewritten every interval and
    shows the records in flight, so "metrics stopped" does not fire and "in flight" can."""
    capture, _ = many_packets
    topic = new_topic(kafka, 'stats-blocked')
    proc, stats, _ = blocked_replay(dnsprobe, kafka, capture, topic, tmp_path)
    try:
        mtimes = []
        for _ in range(4):
            mtimes.append(os.stat(stats).st_mtime_ns)
            time.sleep(1.2)
        assert proc.poll() is None, 'dnsprobe did not block'
        assert all(a < b for a, b in zip(mtimes, mtimes[1:])), \
            'the stats file stood still while blocked: mtimes %r' % mtimes
        assert stats_metric(stats, 'dnsprobe_records_in_flight') == BLOCK_QUEUE
    finally:
        proc.kill()
        proc.communicate()


def test_sigterm_while_blocked_waits_for_the_broker(dnsprobe, kafka, many_packets, tmp_path):
    """One SIGTERM while blocked on a dead broker: reading stops, but the records already read
    keep waiting (within --flush-timeout); the broker comes back, everything read is delivered,
    nothing is counted dropped, and the topic holds exactly what the summary says."""
    capture, packets = many_packets
    topic = new_topic(kafka, 'sigterm-blocked')
    proc, stats, summary = blocked_replay(dnsprobe, kafka, capture, topic, tmp_path,
                                          '--flush-timeout', '180000')
    try:
        proc.send_signal(signal.SIGTERM)
        time.sleep(1)
        assert proc.poll() is None, 'the first SIGTERM ended the wait'
        kafka.start()
        _, stderr = proc.communicate(timeout=240)
    finally:
        if proc.poll() is None:
            proc.kill()
    stderr = stderr.decode()
    check_no_sanitizer_report(stderr)
    assert proc.returncode == 0, stderr
    s = json.loads(summary.read_text())
    assert s['balanced'] and 0 < s['packets'] < packets, s
    assert s['records_dropped'] == 0, 'records read before the stop were dropped: %s' % s
    assert s['delivered'] == s['records_to_sink'] == s['records'] and s['in_flight'] == 0, s
    assert len(kafka.consume_all(topic)) == s['delivered']


def test_sigterm_while_blocked_broker_gone_says_what_is_left(dnsprobe, kafka, many_packets,
                                                             tmp_path):
    """The broker does not come back: the wait after SIGTERM and the flush together take
    --flush-timeout, not more, and the summary and the last line say exactly what is left."""
    capture, _ = many_packets
    topic = new_topic(kafka, 'sigterm-gone')
    proc, stats, summary = blocked_replay(dnsprobe, kafka, capture, topic, tmp_path,
                                          '--flush-timeout', '3000')
    try:
        signalled = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=60)
        took = time.monotonic() - signalled
    finally:
        if proc.poll() is None:
            proc.kill()
    stderr = stderr.decode()
    check_no_sanitizer_report(stderr)
    assert proc.returncode == 1, stderr
    assert 2.5 < took < 10, 'stopping took %.1f s with --flush-timeout 3000' % took
    s = json.loads(summary.read_text())
    assert s['balanced'] and s['in_flight'] == BLOCK_QUEUE, s
    assert s['records'] == s['records_to_sink'] + s['records_dropped'], s
    lines = stderr.splitlines()
    assert '%d in flight, %d dropped (sink full)' % (s['in_flight'], s['records_dropped']) \
        in lines[-2], stderr
    assert '0 records failed and %d were still in flight at exit' % s['in_flight'] in lines[-1], \
        stderr


# --------------------------------------------------------------------------
# Messages that say the right thing.
# --------------------------------------------------------------------------

def unused_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]  # nothing listens here once the socket is closed


def test_unreachable_names_the_servers_actually_used(dnsprobe):
    """-X bootstrap.servers overrides --brokers: the error names the -X address and option."""
    port = unused_port()
    run = dnsprobe.raw(['replay', kh.REPO / 'tests' / 'captures' / 'eth_ipv4_udp_edns.pcap',
                        '--brokers', '127.0.0.1:9', '--topic', 'dns',
                        '-X', 'bootstrap.servers=127.0.0.1:%d' % port])
    lines = run.stderr.splitlines()
    assert run.rc == 2 and len(lines) == 1, run.describe()
    assert lines[0].startswith('dnsprobe: cannot reach Kafka at 127.0.0.1:%d (' % port), lines
    assert '-X bootstrap.servers' in lines[0] and '127.0.0.1:9 ' not in lines[0], lines


def test_long_property_name_is_an_unknown_property(dnsprobe):
    name = 'x' * 200
    run = dnsprobe.raw(['replay', kh.REPO / 'tests' / 'captures' / 'eth_ipv4_udp_edns.pcap',
                        '--brokers', '127.0.0.1:9', '--topic', 'dns', '-X', name + '=1'])
    lines = run.stderr.splitlines()
    assert run.rc == 2 and len(lines) == 1, run.describe()
    assert lines[0].startswith('dnsprobe: -X %s: No such configuration property' % name), lines


def test_record_too_large_gets_a_size_hint(dnsprobe, kafka, tmp_path):
    """A record over message.max.bytes (1000, librdkafka's minimum) is refused; the exit line
    says it is about record size, not about the broker or the disk."""
    files = [kh.REPO / 'tests' / 'captures' / n for n in readable_test_captures()]
    reference = dnsprobe.replay(files, output=tmp_path / 'records.jsonl')
    reference.check_clean()
    too_large = sum(1 for line in reference.lines if len(line) > 1000)
    assert too_large > 0, 'no record over 1000 bytes to test with'
    topic = new_topic(kafka, 'size')
    run = dnsprobe.replay(files, '--brokers', kafka.bootstrap, '--topic', topic,
                          '-X', 'message.max.bytes=1000', output=None)
    check_no_sanitizer_report(run.stderr)
    assert run.rc == 1, run.describe()
    last = run.stderr.splitlines()[-1]
    assert 'Message size too large' in last and 'message.max.bytes' in last, last
    assert 'disk' not in last and 'check the broker' not in last, last


def test_drop_policy_warning_says_records_are_dropped(dnsprobe, kafka, many_packets, tmp_path):
    """Under --on-full drop the outage warning says what happens once the queue is full."""
    capture, _ = many_packets
    topic = new_topic(kafka, 'drop')
    summary = tmp_path / 'summary.json'
    cmd = [str(dnsprobe.binary), 'replay', str(capture), '--loop', '0', '--brokers',
           kafka.bootstrap, '--topic', topic, '--on-full', 'drop', '--flush-timeout', '1000',
           '--summary-json', str(summary)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_for_some_delivered(kafka, topic, proc, 5000)
        kafka.kill()
        time.sleep(4)
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    stderr = stderr.decode()
    check_no_sanitizer_report(stderr)
    assert proc.returncode == 1, stderr
    warnings = [line for line in stderr.splitlines() if line.startswith('dnsprobe: warning: Kafka')]
    assert len(warnings) == 1, stderr
    assert 'dropped (--on-full drop)' in warnings[0] and 'reading waits' not in warnings[0], \
        warnings
    s = json.loads(summary.read_text())
    assert s['balanced'] and s['records_dropped'] > 0, s


@pytest.mark.skipif(os.geteuid() != 0, reason='capturing on lo needs root')
def test_capture_lane_blocked_reports_and_keeps_records(dnsprobe, kafka, tmp_path):
    """Live capture on lo under --on-full block with the broker gone: the lane still publishes
    its counters (the stats file shows the full queue in flight), and after one SIGTERM the
    records read wait for the broker, which comes back: all delivered, none dropped."""
    topic = new_topic(kafka, 'capture-blocked')
    stats = tmp_path / 'dnsprobe.prom'
    summary = tmp_path / 'summary.json'
    target = '127.0.0.9'  # nothing else sends DNS there
    cmd = [str(dnsprobe.binary), 'capture', '-i', 'lo', '-f', 'udp dst port 53 and dst host '
           + target, '--brokers', kafka.bootstrap, '--topic', topic, '--on-full', 'block',
           '-X', 'queue.buffering.max.messages=%d' % BLOCK_QUEUE, '--flush-timeout', '180000',
           '--stats-file', str(stats), '--stats-interval', '1', '--summary-json', str(summary)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    query = (b'\x00\x01\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00'
             b'\x03www\x07example\x03com\x00\x00\x01\x00\x01')
    sending = threading.Event()
    sending.set()

    def send():  # about 10 000 queries/s
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            while sending.is_set():
                for _ in range(100):
                    s.sendto(query, (target, 53))
                time.sleep(0.01)

    sender = threading.Thread(target=send)
    try:
        time.sleep(2)  # the capture is open
        sender.start()
        wait_for_some_delivered(kafka, topic, proc, 3000)
        kafka.kill()
        time.sleep(3)
        assert stats_metric(stats, 'dnsprobe_records_in_flight') == BLOCK_QUEUE, \
            stats.read_text()
        sending.clear()
        sender.join()
        proc.send_signal(signal.SIGTERM)
        time.sleep(1)
        assert proc.poll() is None, 'the first SIGTERM ended the wait'
        kafka.start()
        _, stderr = proc.communicate(timeout=240)
    finally:
        sending.clear()
        if sender.is_alive():
            sender.join()
        if proc.poll() is None:
            proc.kill()
    stderr = stderr.decode()
    check_no_sanitizer_report(stderr)
    assert proc.returncode == 0, stderr
    s = json.loads(summary.read_text())
    assert s['balanced'] and s['records_dropped'] == 0, s
    assert s['delivered'] == s['records'] > 0 and s['in_flight'] == 0, s
    assert len(kafka.consume_all(topic)) == s['delivered']
