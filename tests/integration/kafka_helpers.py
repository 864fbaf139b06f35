# kafka_helpers: what the Kafka tests need besides dnsprobe itself - a local
# broker run by scripts/kafka-dev, a real consumer (confluent-kafka), and
# independent oracles written from the specifications, not from our C code:
#   - murmur2 / java_partition: the Java client's key placement
#     (org.apache.kafka.common.utils.Utils.murmur2 and toPositive);
#   - community_id: Community ID v1 (corelight/community-id-spec);
#   - flow_key_binary / flow_key_text: the key layout of DESIGN.md;
#   - read_pcap: frames and capture times straight from a classic pcap file;
#   - write_dns_pcap: a large synthetic DNS capture, written as raw bytes.

import base64
import hashlib
import ipaddress
import os
import pathlib
import socket
import struct
import subprocess
import time

import pytest
from confluent_kafka import Consumer, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

REPO = pathlib.Path(__file__).resolve().parents[2]
KAFKA_DEV = REPO / 'scripts' / 'kafka-dev'


# --------------------------------------------------------------------------
# The broker and a real consumer.
# --------------------------------------------------------------------------

def free_ports(first, spans=(0, 1000), width=1):
    """A port p from `first` on, in steps of 10, such that p+span .. p+span+width-1 are free
    for every span: kafka-dev's client ports (p..), controller ports (p+1000..) and, with
    --security, inter-broker ports (p+2000..). Each test module starts from its own `first`,
    below 32768: Linux hands out 32768-60999 as the local ports of outgoing connections, and the
    brokers' own connections could take a port there between this check and the bind."""
    assert first + max(spans) + 500 + width <= 32768, 'test broker ports must stay below 32768'
    for port in range(first, first + 500, 10):
        try:
            for span in spans:
                for p in range(port + span, port + span + width):
                    with socket.socket() as s:
                        s.bind(('127.0.0.1', p))
            return port
        except OSError:
            continue
    raise RuntimeError('no free ports from %d for a test broker' % first)


class Broker:
    """A broker of our own, on its own port and folder, via scripts/kafka-dev."""

    def __init__(self, port, folder):
        self.port = port
        self.folder = pathlib.Path(folder)
        self.bootstrap = '127.0.0.1:%d' % port

    def _run(self, command, timeout=180):
        env = dict(os.environ, KAFKA_DEV_DIR=str(self.folder))
        proc = subprocess.run([str(KAFKA_DEV), '--port', str(self.port), command],
                              capture_output=True, text=True, timeout=timeout, env=env)
        if proc.returncode != 0:
            raise RuntimeError('scripts/kafka-dev %s failed (exit %d): %s%s'
                               % (command, proc.returncode, proc.stdout, proc.stderr))
        return proc.stdout

    def start(self):
        try:
            self._run('start')
        except RuntimeError:
            # Seen once under heavy load: kafka-dev said "broker exited during startup" while
            # the broker it launched was running. Trust a running broker that answers.
            if subprocess.run([str(KAFKA_DEV), '--port', str(self.port), 'status'],
                              env=dict(os.environ, KAFKA_DEV_DIR=str(self.folder)),
                              capture_output=True).returncode != 0:
                raise
            self.wait_until_ready()

    def wait_until_ready(self, timeout=90):
        admin = AdminClient({'bootstrap.servers': self.bootstrap})
        deadline = time.monotonic() + timeout
        while True:
            try:
                if admin.list_topics(timeout=5).brokers:
                    return
            except KafkaException:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError('broker on %s does not answer' % self.bootstrap)
            time.sleep(0.5)

    def wipe(self):
        """Stops the broker and deletes its data."""
        self._run('wipe')

    def kill(self):
        self._run('kill')

    def create_topic(self, name, partitions):
        """A topic that takes and keeps records with any capture time. By default the broker
        deletes records older than 7 days (by timestamp, i.e. capture time) within minutes, and
        rejects timestamps more than an hour ahead (Kafka 4) - see docs/kafka.md."""
        admin = AdminClient({'bootstrap.servers': self.bootstrap})
        config = {'retention.ms': '-1', 'message.timestamp.after.max.ms': str(2**63 - 1)}
        futures = admin.create_topics([NewTopic(name, num_partitions=partitions,
                                                replication_factor=1, config=config)])
        futures[name].result(timeout=60)
        # Wait until every partition has a leader, so producers see all of them.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            topic = admin.list_topics(name, timeout=10).topics.get(name)
            if (topic is not None and topic.error is None
                    and len(topic.partitions) == partitions
                    and all(p.leader >= 0 for p in topic.partitions.values())):
                return
            time.sleep(0.2)
        raise RuntimeError('topic %s did not get leaders for %d partitions' % (name, partitions))

    def end_offsets(self, topic, timeout=60):
        """Per partition, how many records the topic holds (the high watermark). Retries while
        partition leadership settles (just after creation or a broker restart)."""
        consumer = Consumer({'bootstrap.servers': self.bootstrap, 'group.id': 'offsets'})
        deadline = time.monotonic() + timeout
        try:
            while True:
                try:
                    metadata = consumer.list_topics(topic, timeout=10).topics[topic]
                    return {p: consumer.get_watermark_offsets(TopicPartition(topic, p),
                                                              timeout=10)[1]
                            for p in metadata.partitions}
                except KafkaException:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.2)
        finally:
            consumer.close()

    def consume_all(self, topic, timeout=120):
        """Every record of the topic, read from the beginning of each partition up to the end
        offsets seen at the start: a list of Record."""
        ends = self.end_offsets(topic)
        consumer = Consumer({
            'bootstrap.servers': self.bootstrap,
            'group.id': 'dnsprobe-test',
            'enable.auto.commit': False,
            'enable.partition.eof': True,
        })
        records = []
        try:
            consumer.assign([TopicPartition(topic, p, 0) for p, end in ends.items() if end > 0])
            remaining = {p for p, end in ends.items() if end > 0}
            deadline = time.monotonic() + timeout
            while remaining:
                if time.monotonic() > deadline:
                    raise RuntimeError('consumer did not reach the end of %s; still missing %s'
                                       % (topic, sorted(remaining)))
                for m in consumer.consume(num_messages=10000, timeout=1.0):
                    if m.error():
                        if m.error().code() == -191:  # _PARTITION_EOF
                            if m.offset() >= ends[m.partition()]:
                                remaining.discard(m.partition())
                            continue
                        raise RuntimeError('consumer error: %s' % m.error())
                    if m.offset() < ends[m.partition()]:
                        records.append(Record(m.partition(), m.offset(), m.key(), m.value(),
                                              m.timestamp()[1]))
                    if m.offset() + 1 >= ends[m.partition()]:
                        remaining.discard(m.partition())
        finally:
            consumer.close()
        return records


def module_broker(dnsprobe_bin, tmp_path_factory, first_port, name):
    """The body of a module-scoped broker fixture: skips the module when dnsprobe was built
    without Kafka, else starts a broker on ports from first_port and wipes it afterwards."""
    usage = subprocess.run([str(dnsprobe_bin), 'replay', '--help'], capture_output=True,
                           text=True).stdout
    if '--brokers' not in usage:
        pytest.skip('%s was built without Kafka support' % dnsprobe_bin)
    b = Broker(free_ports(first_port), tmp_path_factory.mktemp(name))
    b.start()
    yield b
    b.wipe()


class Record:
    __slots__ = ('partition', 'offset', 'key', 'value', 'timestamp_ms')

    def __init__(self, partition, offset, key, value, timestamp_ms):
        self.partition = partition
        self.offset = offset
        self.key = key
        self.value = value
        self.timestamp_ms = timestamp_ms


# --------------------------------------------------------------------------
# Oracles.
# --------------------------------------------------------------------------

def murmur2(data):
    """The Java client's murmur2 (Utils.murmur2), as an unsigned 32-bit value."""
    m, r = 0x5bd1e995, 24
    length = len(data)
    h = (0x9747b28c ^ length) & 0xffffffff
    for i in range(0, length - length % 4, 4):
        k = data[i] | data[i + 1] << 8 | data[i + 2] << 16 | data[i + 3] << 24
        k = (k * m) & 0xffffffff
        k ^= k >> r
        k = (k * m) & 0xffffffff
        h = (h * m) & 0xffffffff
        h ^= k
    tail = length & ~3
    rest = length % 4
    if rest == 3:
        h ^= data[tail + 2] << 16
    if rest >= 2:
        h ^= data[tail + 1] << 8
    if rest >= 1:
        h ^= data[tail]
        h = (h * m) & 0xffffffff
    h ^= h >> 13
    h = (h * m) & 0xffffffff
    h ^= h >> 15
    return h


def java_partition(key, partitions):
    """Utils.toPositive(Utils.murmur2(key)) % partitions, as the Java producer places keys."""
    return (murmur2(key) & 0x7fffffff) % partitions


def _endpoints_ordered(saddr, daddr, sport, dport):
    """The lower (address bytes, port) endpoint first; addresses as ipaddress objects."""
    a = (saddr.packed, sport)
    b = (daddr.packed, dport)
    return (saddr, daddr, sport, dport) if a <= b else (daddr, saddr, dport, sport)


PROTOCOLS = {'udp': 17, 'tcp': 6}


def community_id(protocol, saddr, daddr, sport, dport, seed=0):
    """Community ID v1 as the specification's pseudo code computes it."""
    s, d = ipaddress.ip_address(saddr), ipaddress.ip_address(daddr)
    s, d, sp, dp = _endpoints_ordered(s, d, sport, dport)
    data = struct.pack('!H', seed) + s.packed + d.packed + struct.pack('!BB', protocol, 0)
    if protocol in (6, 17, 132):
        data += struct.pack('!HH', sp, dp)
    return '1:' + base64.b64encode(hashlib.sha1(data).digest()).decode()


def _mapped(address):
    a = ipaddress.ip_address(address)
    return ipaddress.IPv6Address(b'\0' * 10 + b'\xff\xff' + a.packed) if a.version == 4 else a


def flow_key_binary(protocol, saddr, daddr, sport, dport):
    """The 38-byte key of DESIGN.md: version, protocol, A, B, port A, port B (A the lower)."""
    version = ipaddress.ip_address(saddr).version
    a, b, pa, pb = _endpoints_ordered(_mapped(saddr), _mapped(daddr), sport, dport)
    return struct.pack('!BB16s16sHH', version, protocol, a.packed, b.packed, pa, pb)


def flow_key_text(protocol, saddr, daddr, sport, dport):
    """'udp 192.0.2.1:53 198.51.100.7:40000', IPv6 in brackets, same order as the binary key."""
    name = {17: 'udp', 6: 'tcp'}[protocol]
    version = ipaddress.ip_address(saddr).version
    a, b, pa, pb = _endpoints_ordered(_mapped(saddr), _mapped(daddr), sport, dport)
    if version == 4:
        return '%s %s:%d %s:%d' % (name, a.ipv4_mapped, pa, b.ipv4_mapped, pb)
    return '%s [%s]:%d [%s]:%d' % (name, a.compressed, pa, b.compressed, pb)


def read_pcap(path):
    """(capture time in ns, frame bytes) for each frame of a classic pcap file."""
    data = pathlib.Path(path).read_bytes()
    magic = data[:4]
    formats = {b'\xd4\xc3\xb2\xa1': ('<', 1000), b'\xa1\xb2\xc3\xd4': ('>', 1000),
               b'\x4d\x3c\xb2\xa1': ('<', 1), b'\xa1\xb2\x3c\x4d': ('>', 1)}
    if magic not in formats:
        raise ValueError('%s is not a classic pcap file' % path)
    order, scale = formats[magic]
    frames = []
    offset = 24
    while offset + 16 <= len(data):
        sec, frac, caplen, _wirelen = struct.unpack(order + 'IIII', data[offset:offset + 16])
        offset += 16
        frames.append((sec * 1000000000 + frac * scale, data[offset:offset + caplen]))
        offset += caplen
    return frames


# --------------------------------------------------------------------------
# A large synthetic capture: DNS queries and responses over Ethernet/IPv4/UDP.
# --------------------------------------------------------------------------

def _checksum(header):
    total = sum(struct.unpack('!%dH' % (len(header) // 2), header))
    while total >> 16:
        total = (total & 0xffff) + (total >> 16)
    return ~total & 0xffff


def _frame(src, dst, sport, dport, dns):
    udp = struct.pack('!HHHH', sport, dport, 8 + len(dns), 0) + dns
    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(udp), 0, 0x4000, 64, 17, 0, src, dst)
    ip = ip[:10] + struct.pack('!H', _checksum(ip)) + ip[12:]
    return b'\x02\0\0\0\0\x02' + b'\x02\0\0\0\0\x01' + b'\x08\x00' + ip + udp


def write_dns_pcap(path, pairs, start_ns=1700000000 * 1000000000):
    """Writes `pairs` query/response pairs (2 * pairs frames), each pair its own flow and name,
    one microsecond apart. Returns the number of frames."""
    server = bytes([10, 99, 0, 53])
    with open(path, 'wb') as out:
        out.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        ts_us = start_ns // 1000
        for n in range(pairs):
            client = bytes([10, 99, (n >> 8) & 0xff, n & 0xff])
            port = 1024 + (n >> 16)
            qname = b''.join(bytes([len(label)]) + label
                             for label in (b'h%d' % n, b'example', b'com')) + b'\0'
            question = qname + struct.pack('!HH', 1, 1)
            query = struct.pack('!HHHHHH', n & 0xffff, 0x0100, 1, 0, 0, 0) + question
            answer = b'\xc0\x0c' + struct.pack('!HHIH', 1, 1, 300, 4) + bytes([192, 0, 2, n & 0xff])
            response = struct.pack('!HHHHHH', n & 0xffff, 0x8180, 1, 1, 0, 0) + question + answer
            for frame in (_frame(client, server, port, 53, query),
                          _frame(server, client, 53, port, response)):
                out.write(struct.pack('<IIII', ts_us // 1000000, ts_us % 1000000,
                                      len(frame), len(frame)))
                out.write(frame)
                ts_us += 1
    return 2 * pairs
