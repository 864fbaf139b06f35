"""dnsprobe against a real three-broker Kafka cluster (scripts/kafka-dev --nodes 3, KRaft, every
node a voter), a 6-partition topic with replication factor 3 and min.insync.replicas=2, read
back by a real consumer (confluent-kafka). The leader of a partition is killed (SIGKILL)
mid-replay and started again: every record arrives exactly once, for a capture made now and for
an old (2023) one. With two of three brokers gone, --on-full block waits and delivers once one
returns; --on-full drop counts what it could not keep. One cluster serves every test."""

import collections
import json
import os
import pathlib
import subprocess
import time

import pytest
from confluent_kafka import Consumer, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

import kafka_helpers as kh
from conftest import SANITIZER_MARKS

PARTITIONS = 6
PAIRS = 60000  # 120k records: several times the producer queue the tests give
OLD_CAPTURE_NS = 1690000000 * 10**9  # July 2023


class Cluster:
    def __init__(self, folder):
        self.port = kh.free_ports(25092, spans=(0, 1000, 2000), width=3)
        self.env = dict(os.environ, KAFKA_DEV_DIR=str(folder))
        self.bootstrap = ','.join('127.0.0.1:%d' % (self.port + i) for i in range(3))
        self.kafka_dev('--port', str(self.port), '--nodes', '3', 'start')

    def kafka_dev(self, *args):
        proc = subprocess.run([str(kh.KAFKA_DEV), *args], env=self.env, capture_output=True,
                              text=True, timeout=240)
        assert proc.returncode == 0, 'kafka-dev %s: %s%s' % (args, proc.stdout, proc.stderr)

    def node(self, command, node_id):
        self.kafka_dev('--node', str(node_id), command)

    def admin(self):
        return AdminClient({'bootstrap.servers': self.bootstrap})

    def create_topic(self, name):
        admin = self.admin()  # kept until the results are in: a dropped client cancels them
        futures = admin.create_topics([NewTopic(
            name, num_partitions=PARTITIONS, replication_factor=3,
            config={'min.insync.replicas': '2', 'retention.ms': '-1',
                    'message.timestamp.after.max.ms': str(2**63 - 1),
                    'message.timestamp.before.max.ms': str(2**63 - 1)})])
        for future in futures.values():
            future.result(60)

    def leader_of(self, topic, partition=0):
        metadata = self.admin().list_topics(topic, timeout=30)
        return metadata.topics[topic].partitions[partition].leader

    def end_offsets(self, topic, timeout=60):
        """Records the topic holds; retried while leadership moves (brokers just restarted)."""
        consumer = Consumer({'bootstrap.servers': self.bootstrap, 'group.id': 'offsets'})
        deadline = time.monotonic() + timeout
        try:
            while True:
                try:
                    return sum(consumer.get_watermark_offsets(TopicPartition(topic, p),
                                                              timeout=20)[1]
                               for p in range(PARTITIONS))
                except KafkaException:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.5)
        finally:
            consumer.close()

    def consume_all(self, topic, expected, timeout=180):
        consumer = Consumer({'bootstrap.servers': self.bootstrap, 'group.id': 'cluster-test',
                             'enable.auto.commit': False})
        consumer.assign([TopicPartition(topic, p, 0) for p in range(PARTITIONS)])
        records = []
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                for m in consumer.consume(num_messages=10000, timeout=1.0):
                    if not m.error():
                        records.append((m.partition(), m.key(), m.value()))
                if len(records) >= expected:
                    # what is still to come would be duplicates: wait a little for them
                    for m in consumer.consume(num_messages=10000, timeout=3.0):
                        if not m.error():
                            records.append((m.partition(), m.key(), m.value()))
                    break
        finally:
            consumer.close()
        return records

    def wipe(self):
        subprocess.run([str(kh.KAFKA_DEV), 'wipe'], env=self.env, capture_output=True,
                       timeout=240)


@pytest.fixture(scope='module')
def cluster(dnsprobe_bin, tmp_path_factory):
    usage = subprocess.run([str(dnsprobe_bin), 'replay', '--help'], capture_output=True,
                           text=True).stdout
    if '--brokers' not in usage:
        pytest.skip('%s was built without Kafka support' % dnsprobe_bin)
    c = Cluster(tmp_path_factory.mktemp('kafka-cluster'))
    yield c
    c.wipe()


_topics = iter(range(1, 100))


def new_topic(cluster, prefix):
    name = '%s-%d-%d' % (prefix, next(_topics), int(time.time()))
    cluster.create_topic(name)
    return name


def capture(tmp_path, start_ns):
    path = tmp_path / ('pairs-%d.pcap' % start_ns)
    return path, kh.write_dns_pcap(path, PAIRS, start_ns=start_ns)


def replay_cmd(dnsprobe, cluster, path, topic, summary, *args):
    return [str(dnsprobe.binary), 'replay', str(path), '--brokers', cluster.bootstrap,
            '--topic', topic, '--flush-timeout', '180000',
            '-X', 'queue.buffering.max.messages=20000', '--summary-json', str(summary), *args]


def run_until_some_arrived(cmd, cluster, topic, count):
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    while cluster.end_offsets(topic) < count:
        assert proc.poll() is None, 'dnsprobe ended too early: %s' % proc.stderr.read()
        time.sleep(0.1)
    return proc


def finish(proc, timeout=300):
    _, stderr = proc.communicate(timeout=timeout)
    stderr = stderr.decode()
    assert not any(mark in stderr for mark in SANITIZER_MARKS), stderr
    return proc.returncode, stderr


def check_exactly_once(cluster, topic, packets, summary, stderr):
    s = json.loads(summary.read_text())
    assert s['balanced'] and s['records'] == packets, (s, stderr)
    assert s['delivered'] == packets and s['failed'] == 0 and s['in_flight'] == 0, (s, stderr)
    records = cluster.consume_all(topic, packets)
    values = collections.Counter(value for _, _, value in records)
    duplicated = sum(n - 1 for n in values.values() if n > 1)
    assert len(values) == packets and duplicated == 0, \
        '%d records missing, %d duplicated' % (packets - len(values), duplicated)
    misplaced = [(k, p) for p, k, _ in records if p != kh.java_partition(k, PARTITIONS)]
    assert not misplaced, misplaced[:5]


@pytest.mark.parametrize('start_ns', [None, OLD_CAPTURE_NS], ids=['captured-now', 'from-2023'])
def test_leader_killed_mid_replay_loses_and_duplicates_nothing(dnsprobe, cluster, tmp_path,
                                                               start_ns):
    path, packets = capture(tmp_path, start_ns or time.time_ns())
    topic = new_topic(cluster, 'failover')
    summary = tmp_path / 'summary.json'
    proc = run_until_some_arrived(replay_cmd(dnsprobe, cluster, path, topic, summary,
                                             '--on-full', 'block'),
                                  cluster, topic, packets // 10)
    leader = cluster.leader_of(topic)
    cluster.node('kill', leader)
    time.sleep(2)
    cluster.node('start', leader)
    rc, stderr = finish(proc)
    assert rc == 0, stderr
    check_exactly_once(cluster, topic, packets, summary, stderr)


def test_two_brokers_gone_block_waits_and_delivers_when_one_returns(dnsprobe, cluster,
                                                                    tmp_path):
    path, packets = capture(tmp_path, time.time_ns())
    topic = new_topic(cluster, 'two-down')
    summary = tmp_path / 'summary.json'
    proc = run_until_some_arrived(replay_cmd(dnsprobe, cluster, path, topic, summary,
                                             '--on-full', 'block'),
                                  cluster, topic, packets // 10)
    cluster.node('kill', 2)
    cluster.node('kill', 3)
    time.sleep(4)
    assert proc.poll() is None, 'dnsprobe did not wait for the cluster'
    cluster.node('start', 2)
    rc, stderr = finish(proc)
    cluster.node('start', 3)
    assert rc == 0, stderr
    check_exactly_once(cluster, topic, packets, summary, stderr)


def test_two_brokers_gone_drop_counts_what_it_could_not_keep(dnsprobe, cluster, tmp_path):
    path, packets = capture(tmp_path, time.time_ns())
    topic = new_topic(cluster, 'two-down-drop')
    summary = tmp_path / 'summary.json'
    proc = run_until_some_arrived(replay_cmd(dnsprobe, cluster, path, topic, summary,
                                             '--on-full', 'drop', '--flush-timeout', '3000'),
                                  cluster, topic, packets // 20)
    cluster.node('kill', 2)
    cluster.node('kill', 3)
    try:
        rc, stderr = finish(proc)
    finally:
        cluster.node('start', 2)
        cluster.node('start', 3)
    s = json.loads(summary.read_text()) if summary.exists() else None
    assert s is not None, stderr
    assert s['balanced'], s
    assert s['records_dropped'] + s['failed'] + s['in_flight'] > 0, s
    assert s['delivered'] + s['failed'] + s['in_flight'] == s['records_to_sink'], s
    arrived = cluster.consume_all(topic, s['delivered'], timeout=60)
    assert len({v for _, _, v in arrived}) >= s['delivered'], \
        'the topic holds fewer records than were counted delivered'
