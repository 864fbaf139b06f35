"""--format dnstap (issue 13, part 1): every DNS message of a capture becomes one Dnstap message.
Files are Frame Streams read back by the dnstap tools (`dnstap -r FILE -j`, `dnstap-ldns -r FILE
-y`) and by an independent decoder (Python protobuf over the schema Debian ships, Frame Streams
parsed by hand); Kafka values are bare Dnstap protobufs from a real broker (scripts/kafka-dev).
What each message says is checked against tshark's reading of the capture: family, protocol,
client (query side) and server addresses and ports, time, id, question name, and the type
CLIENT_QUERY or CLIENT_RESPONSE by the QR bit (docs/dnstap.md says why)."""

import collections
import datetime
import ipaddress
import json
import pathlib
import shutil
import struct
import subprocess
import sys

import dns.message
import pytest

import kafka_helpers as kh
from conftest import CORPUS

SCHEMA = pathlib.Path('/usr/share/gocode/src/github.com/dnstap/golang-dnstap/dnstap.pb/'
                      'dnstap.proto')
# UDP over IPv4 and IPv6, TCP, IP fragments and TCP messages over several segments (rebuilt).
CAPTURES = ['tcpdump__dns_udp.pcap', 'dnscap__dns6.pcap', 'tcpdump__dns_tcp.pcap',
            'dnscap__frags.pcap', 'dnscap__dnso1tcp.pcap']
CONTENT_TYPE = b'protobuf:dnstap.Dnstap'


def corpus(name):
    path = CORPUS / 'pcap' / name
    if not path.exists():
        pytest.skip('corpus capture %s not found' % path)
    return path


@pytest.fixture(scope='module')
def dnstap_pb2(tmp_path_factory):
    """The dnstap schema compiled by protoc for Python: the independent decoder."""
    for tool in ('protoc', 'dnstap', 'dnstap-ldns'):
        if not shutil.which(tool):
            pytest.skip('%s not installed (scripts/setup)' % tool)
    out = tmp_path_factory.mktemp('dnstap-pb2')
    subprocess.run(['protoc', '--proto_path=%s' % SCHEMA.parent, '--python_out=%s' % out,
                    str(SCHEMA)], check=True)
    sys.path.insert(0, str(out))
    import dnstap_pb2 as module
    return module


def tshark_messages(path):
    """One tuple per DNS message tshark finds (with reassembly): (protocol, client, client
    port, server, server port, microseconds since the epoch, id, is response, name)."""
    out = subprocess.run(['tshark', '-n', '-r', str(path), '-Y', 'dns', '-T', 'fields',
                          '-E', 'occurrence=l', '-e', 'frame.time_epoch', '-e', 'ip.src',
                          '-e', 'ip.dst', '-e', 'ipv6.src', '-e', 'ipv6.dst', '-e', 'udp.srcport',
                          '-e', 'udp.dstport', '-e', 'tcp.srcport', '-e', 'tcp.dstport',
                          '-e', 'dns.id', '-e', 'dns.flags.response', '-e', 'dns.qry.name'],
                         capture_output=True, text=True, check=True).stdout
    found = collections.Counter()
    for line in out.splitlines():
        when, s4, d4, s6, d6, us, ud, ts, td, ids, responses, names = line.split('\t')
        protocol = 'UDP' if us else 'TCP'
        src, dst = (s4, d4) if s4 else (s6, d6)
        sport, dport = (int(us), int(ud)) if us else (int(ts), int(td))
        sec, frac = when.split('.')
        micros = int(sec) * 1000000 + int(frac[:6])
        # several messages in one TCP frame: tshark lists their fields side by side
        for msg_id, response, name in zip(ids.split(','), responses.split(','),
                                          names.split(',')):
            is_response = response in ('1', 'True')
            client, cport, server, sport_ = ((dst, dport, src, sport) if is_response
                                             else (src, sport, dst, dport))
            found[(protocol, ipaddress.ip_address(client).compressed, cport,
                   ipaddress.ip_address(server).compressed, sport_, micros, int(msg_id, 16),
                   is_response, name.lower().rstrip('.'))] += 1
    return found


def read_frame_streams(data):
    """The data frames of a unidirectional Frame Streams file, checking its START (with our
    content type) and STOP control frames (the Frame Streams protocol, by hand)."""
    frames, at, started, stopped = [], 0, False, False
    while at < len(data):
        (length,) = struct.unpack_from('!I', data, at)
        at += 4
        if length:
            assert started and not stopped, 'data frame outside START..STOP'
            frames.append(data[at:at + length])
            at += length
            continue
        (control_len, control_type) = struct.unpack_from('!II', data, at)
        body = data[at + 8:at + 4 + control_len]
        at += 4 + control_len
        if control_type == 2:  # START
            assert not started
            started = True
            (field, field_len) = struct.unpack_from('!II', body, 0)
            assert field == 1 and body[8:8 + field_len] == CONTENT_TYPE, body
        elif control_type == 3:  # STOP
            stopped = True
        else:
            raise AssertionError('unexpected control frame type %d' % control_type)
    assert started and stopped, 'no START or no STOP control frame'
    return frames


def from_protobuf(pb2, value):
    """The tuple of tshark_messages, read from a serialized Dnstap message."""
    d = pb2.Dnstap.FromString(value)
    assert d.type == pb2.Dnstap.MESSAGE
    m = d.message
    is_response = m.type == pb2.Message.CLIENT_RESPONSE
    assert m.type in (pb2.Message.CLIENT_QUERY, pb2.Message.CLIENT_RESPONSE)
    wire = m.response_message if is_response else m.query_message
    assert not (m.HasField('query_message') and m.HasField('response_message'))
    sec, nsec = ((m.response_time_sec, m.response_time_nsec) if is_response
                 else (m.query_time_sec, m.query_time_nsec))
    family = {pb2.INET: 4, pb2.INET6: 6}[m.socket_family]
    assert len(m.query_address) == len(m.response_address) == (4 if family == 4 else 16)
    message = dns.message.from_wire(wire)
    assert bool(message.flags & 0x8000) == is_response
    name = message.question[0].name.to_text().lower().rstrip('.') if message.question else ''
    return (pb2.SocketProtocol.Name(m.socket_protocol),
            ipaddress.ip_address(m.query_address).compressed, m.query_port,
            ipaddress.ip_address(m.response_address).compressed, m.response_port,
            sec * 1000000 + nsec // 1000, message.id, is_response, name), d


def from_dnstap_json(line):
    """The tuple of tshark_messages from a line of `dnstap -r FILE -j`."""
    r = json.loads(line)
    m = r['message']
    is_response = m['type'] == 'CLIENT_RESPONSE'
    when = m['response_time' if is_response else 'query_time']
    stamp = datetime.datetime.strptime(when.rstrip('Z')[:26].ljust(26, '0') if '.' in when
                                       else when.rstrip('Z') + '.000000',
                                       '%Y-%m-%dT%H:%M:%S.%f')
    micros = int((stamp - datetime.datetime(1970, 1, 1)).total_seconds()) * 1000000 + \
        stamp.microsecond
    text = m['response_message' if is_response else 'query_message']
    msg_id = int(text.split('id: ')[1].split()[0])
    question = text.split(';; QUESTION SECTION:\n')[1].split('\n')[0]
    name = question.lstrip(';').split('\t')[0].lower().rstrip('.')
    return (m['socket_protocol'], ipaddress.ip_address(m['query_address']).compressed,
            m['query_port'], ipaddress.ip_address(m['response_address']).compressed,
            m['response_port'], micros, msg_id, is_response, name), r


@pytest.mark.parametrize('name', CAPTURES)
def test_dnstap_file_reads_back_as_the_capture(dnsprobe, dnstap_pb2, tmp_path, name):
    capture = corpus(name)
    expected = tshark_messages(capture)
    assert expected
    out = tmp_path / 'out.tap'
    run = dnsprobe.replay([capture], '--format', 'dnstap', '--observer-name', 'probe-dnstap',
                          output=out)
    run.check_clean()
    assert run.summary['delivered'] == sum(expected.values()), run.describe()

    # the independent decoder: Frame Streams by hand, Dnstap by Python protobuf
    decoded = collections.Counter()
    for value in read_frame_streams(out.read_bytes()):
        fields, d = from_protobuf(dnstap_pb2, value)
        assert d.identity == b'probe-dnstap'
        assert d.version.startswith(b'dnsprobe ')
        decoded[fields] += 1
    assert decoded == expected

    # the golang dnstap tool, field by field
    lines = subprocess.run(['dnstap', '-r', str(out), '-j'], capture_output=True, text=True,
                           check=True).stdout.splitlines()
    read = collections.Counter()
    for line in lines:
        fields, record = from_dnstap_json(line)
        assert record['identity'] == 'probe-dnstap'
        assert record['message']['socket_family'] in ('INET', 'INET6')
        read[fields] += 1
    assert read == expected

    # dnstap-ldns reads every message, of the right type
    yaml = subprocess.run(['dnstap-ldns', '-r', str(out), '-y'], capture_output=True,
                          text=True, check=True).stdout
    types = collections.Counter(line.split(':')[1].strip() for line in yaml.splitlines()
                                if line.startswith('  type: '))
    responses = sum(n for f, n in expected.items() if f[7])
    assert types == +collections.Counter({'CLIENT_RESPONSE': responses,
                                          'CLIENT_QUERY': sum(expected.values()) - responses})
    assert yaml.count('identity: "probe-dnstap"') == sum(expected.values())


def test_empty_capture_gives_a_valid_empty_stream(dnsprobe, dnstap_pb2, tmp_path, captures_dir):
    out = tmp_path / 'empty.tap'
    run = dnsprobe.replay([captures_dir / 'empty.pcap'], '--format', 'dnstap', output=out)
    run.check_clean()
    assert read_frame_streams(out.read_bytes()) == []
    proc = subprocess.run(['dnstap-ldns', '-r', str(out), '-q'], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


@pytest.fixture(scope='module')
def broker(dnsprobe_bin, tmp_path_factory):
    usage = subprocess.run([str(dnsprobe_bin), 'replay', '--help'], capture_output=True,
                           text=True).stdout
    if '--brokers' not in usage:
        pytest.skip('%s was built without Kafka support' % dnsprobe_bin)
    b = kh.Broker(kh.free_ports(29092), tmp_path_factory.mktemp('kafka-dnstap'))
    b.start()
    yield b
    b.wipe()


@pytest.mark.parametrize('name', ['dnscap__dns6.pcap', 'dnscap__dnso1tcp.pcap'])
def test_kafka_values_are_bare_dnstap_messages(dnsprobe, dnstap_pb2, broker, name):
    capture = corpus(name)
    expected = tshark_messages(capture)
    topic = 'dnstap-%s' % capture.stem.replace('_', '-')
    broker.create_topic(topic, 1)
    run = dnsprobe.replay([capture], '--brokers', broker.bootstrap, '--topic', topic,
                          '--format', 'dnstap', output=None)
    run.check_clean()
    records = broker.consume_all(topic)
    assert len(records) == sum(expected.values())
    decoded = collections.Counter()
    for r in records:
        fields, _ = from_protobuf(dnstap_pb2, r.value)  # no Frame Streams length in front
        decoded[fields] += 1
        protocol = {'UDP': 17, 'TCP': 6}[fields[0]]
        # the key is the flow key, as for every format
        assert r.key == kh.flow_key_binary(protocol, fields[1], fields[3], fields[2], fields[4])
    assert decoded == expected


def test_raw_still_needs_kafka(dnsprobe, tmp_path):
    run = dnsprobe.raw(['replay', str(corpus('tcpdump__dns_udp.pcap')), '--format', 'raw',
                        '-o', str(tmp_path / 'x')])
    assert run.rc == 2
    assert not (tmp_path / 'x').exists()
