# test_java_consumer: a real Java consumer of dnsprobe's topic. tests/consumers/ is a Kafka Streams
# application (Kafka 4.3.1, the broker's version) with a Serde for the 38-byte binary key; it counts
# records per flow and joins each DNS answer with its query. It is built with Maven once per test
# session and run against a broker of our own (scripts/kafka-dev) after dnsprobe published the
# test captures and the public corpus to a 6-partition topic. Checked against what the probe
# itself wrote (`--output` JSON of the same replay) and the records as the broker holds them: every
# flow's count, the key's fields as the Java deserializer reads them, that every query and its
# answer met in one partition and one stream task, and that Java's default partitioner
# (Utils.murmur2) places every key on the partition dnsprobe put it on.
# Skipped only when mvn or javac is missing (scripts/setup installs both).

import collections
import ipaddress
import json
import shutil
import subprocess
import time

import pytest

import kafka_helpers as kh
from test_kafka import (corpus_files, flow_of, kafka_build,  # noqa: F401 (autouse: skips
                        publish, readable_test_captures)  # a dnsprobe built without Kafka)

PARTITIONS = 6
CONSUMERS = kh.REPO / 'tests' / 'consumers'
MAIN_CLASS = 'dnsprobe.consumers.FlowReport'
JAVA_TIMEOUT = 150  # seconds for the Streams application to consume the topic


@pytest.fixture(scope='module')
def java_consumer(tmp_path_factory):
    """Builds tests/consumers with Maven; the class path to run it with."""
    missing = [tool for tool in ('mvn', 'javac', 'java') if shutil.which(tool) is None]
    if missing:
        pytest.skip('%s not found: the Java consumer needs a JDK and Maven (scripts/setup '
                    'installs them)' % ', '.join(missing))
    out = tmp_path_factory.mktemp('java-consumer')
    proc = subprocess.run(['mvn', '-B', '-q', 'package', '-Dconsumer.build.dir=%s' % out],
                          cwd=CONSUMERS, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, 'mvn package failed:\n%s%s' % (proc.stdout[-4000:],
                                                                proc.stderr[-4000:])
    return '%s:%s' % (out / 'classes', (out / 'classpath.txt').read_text().strip())


@pytest.fixture(scope='module')
def broker(tmp_path_factory):
    b = kh.Broker(kh.free_ports(31092), tmp_path_factory.mktemp('kafka-java'))
    b.start()
    yield b
    b.wipe()


def key_fields(key):
    """(version, protocol, address A, address B, port A, port B) of a binary key, as
    docs/architecture.md lays it out, read here with struct."""
    version, protocol = key[0], key[1]
    a, b = ipaddress.IPv6Address(key[2:18]), ipaddress.IPv6Address(key[18:34])
    if version == 4:
        a, b = a.ipv4_mapped, b.ipv4_mapped
    return (version, protocol, a, b, int.from_bytes(key[34:36], 'big'),
            int.from_bytes(key[36:38], 'big'))


def run_flow_report(classpath, broker, topic, records, state_dir):
    started = time.monotonic()
    proc = subprocess.run(['java', '-Xmx384m', '-cp', classpath, MAIN_CLASS, broker.bootstrap,
                           topic, str(PARTITIONS), str(records), str(state_dir),
                           str(JAVA_TIMEOUT)],
                          capture_output=True, text=True, timeout=JAVA_TIMEOUT + 60)
    assert proc.returncode == 0, 'FlowReport exited %d after %.0f s:\n%s' % (
        proc.returncode, time.monotonic() - started, proc.stderr[-6000:])
    assert 'repartition' not in proc.stderr, 'the topology repartitions:\n' + proc.stderr
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    return ([line for line in lines if 'count' in line],
            [line for line in lines if 'transaction' in line])


def test_kafka_streams_counts_flows_joins_answers_and_places_keys(java_consumer, dnsprobe, broker,
                                                                  tmp_path):
    files = [kh.REPO / 'tests' / 'captures' / n for n in readable_test_captures()] + corpus_files()
    reference = dnsprobe.replay(files, output=tmp_path / 'records.jsonl')
    reference.check_clean()
    values = reference.records()
    topic = 'java-%d' % int(time.time())
    broker.create_topic(topic, PARTITIONS)
    run = publish(dnsprobe, broker, files, topic)
    assert run.summary['records'] == len(values) > 0

    flows, transactions = run_flow_report(java_consumer, broker, topic, len(values),
                                          tmp_path / 'streams-state')

    # Every flow once, with the number of records the probe wrote for it.
    expected_counts = collections.Counter(kh.flow_key_binary(*flow_of(v)) for v in values)
    got_counts = collections.Counter()
    for f in flows:
        got_counts[bytes.fromhex(f['key'])] += f['count']
    assert len(flows) == len(got_counts), 'a flow was counted in more than one task'
    assert got_counts == expected_counts, \
        'per-flow counts differ: %d flows wrong, e.g. %r' % (
            len(set(got_counts.items()) ^ set(expected_counts.items())),
            sorted(set(got_counts.items()) ^ set(expected_counts.items()))[:4])

    # The Serde read the key's fields right (the key printed is the Serde writing them back).
    misread = [(f['key'], f['flow']) for f in flows
               if key_fields(bytes.fromhex(f['key'])) != (
                   f['flow']['version'], f['flow']['protocol'],
                   ipaddress.ip_address(f['flow']['address_a']),
                   ipaddress.ip_address(f['flow']['address_b']),
                   f['flow']['port_a'], f['flow']['port_b'])]
    assert not misread, 'the Java Serde misread keys: %r' % misread[:4]

    # Java's partitioner puts each key where dnsprobe put it, and where the broker holds it.
    held = collections.defaultdict(set)
    for r in broker.consume_all(topic):
        held[r.key].add(r.partition)
    misplaced = []
    for f in flows:
        key = bytes.fromhex(f['key'])
        if not (f['java_partition'] == f['partition'] == kh.java_partition(key, PARTITIONS)
                and held[key] == {f['partition']}):
            misplaced.append((f['key'], f['java_partition'], f['partition'], sorted(held[key])))
    assert not misplaced, '(key, murmur2 partition, counted in, held in): %r' % misplaced[:4]
    assert len({f['partition'] for f in flows}) == PARTITIONS, 'keys did not spread'

    # Every query and its answer (same flow, same DNS id) met in one partition and one task.
    kinds = collections.defaultdict(set)
    for v in values:
        if v['dns'].get('type') in ('query', 'answer') and 'id' in v['dns']:
            kinds['%s/%d' % (kh.flow_key_binary(*flow_of(v)).hex(), v['dns']['id'])].add(
                v['dns']['type'])
    expected_pairs = {t for t, k in kinds.items() if k == {'query', 'answer'}}
    met = {t['transaction']: t for t in transactions if 'query' in t and 'answer' in t}
    assert set(met) == expected_pairs, \
        'joined transactions differ: missing %r, unexpected %r' % (
            sorted(expected_pairs - set(met))[:4], sorted(set(met) - expected_pairs)[:4])
    apart = [t for t in met.values()
             if not (t['query']['partition'] == t['answer']['partition'] == t['partition'])
             or t['query']['task'] != t['answer']['task']
             or t['query']['task'].split('_')[1] != str(t['partition'])]
    assert not apart, 'query and answer met in different partitions or tasks: %r' % apart[:4]
    assert len(met) >= 20, 'too few query/answer pairs to check (%d)' % len(met)
