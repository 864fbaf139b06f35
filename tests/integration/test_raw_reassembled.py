"""--format raw for reassembled messages (issue 12 item 13): every raw value, written back as a
frame of a pcap file with the capture's link type, must decode in tshark (the independent
decoder) as exactly the DNS message its JSON record describes - also when the message was rebuilt
from IP fragments or from several TCP segments, where the completing frame alone holds only its
last fragment or segment. The values come from a real broker (scripts/kafka-dev)."""

import collections
import json
import struct
import subprocess

import pytest

import kafka_helpers as kh
from conftest import CAPTURES, CORPUS

SHIPPED = [CAPTURES / 'ip_fragments.pcap', CAPTURES / 'tcp_dns.pcap']
FROM_CORPUS = ['zeek__ipv6-fragmented-dns.pcap', 'dnscap__dnso1tcp.pcap', 'dnscap__frags.pcap',
               'go-dnscollector__dnsdump_ip6_fragmented+udp.pcap']


@pytest.fixture(scope='module')
def broker(dnsprobe_bin, tmp_path_factory):
    yield from kh.module_broker(dnsprobe_bin, tmp_path_factory, 29092, 'kafka-raw')


def captures():
    found = list(SHIPPED)
    found += [CORPUS / 'pcap' / n for n in FROM_CORPUS if (CORPUS / 'pcap' / n).exists()]
    return found


def link_type(path):
    header = path.read_bytes()[:24]
    order = '<' if header[:4] in (b'\xd4\xc3\xb2\xa1', b'\x4d\x3c\xb2\xa1') else '>'
    return struct.unpack(order + 'I', header[20:24])[0]


def write_pcap(path, link, frames):
    with open(path, 'wb') as out:
        out.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 262144, link))
        for i, frame in enumerate(frames):
            out.write(struct.pack('<IIII', i, 0, len(frame), len(frame)) + frame)


def tshark_messages(path):
    """(id, lower-case question name) per DNS message tshark finds, each frame on its own: no
    reassembly across frames, so a value must hold its whole message."""
    out = subprocess.run(['tshark', '-n', '-r', str(path), '-o', 'ip.defragment:FALSE',
                          '-o', 'tcp.desegment_tcp_streams:FALSE',
                          '-o', 'tcp.analyze_sequence_numbers:FALSE', '-Y', 'dns',
                          '-T', 'fields', '-e', 'frame.number', '-e', 'dns.id',
                          '-e', 'dns.qry.name'],
                         capture_output=True, text=True, check=True).stdout
    per_frame = {}
    for line in out.splitlines():
        number, ids, names = (line.split('\t') + ['', ''])[:3]
        per_frame[int(number)] = [(int(i, 16), n.lower()) for i, n in
                                  zip(ids.split(','), names.split(','))]
    return per_frame


@pytest.mark.parametrize('capture', captures(), ids=lambda p: p.name)
def test_raw_value_decodes_as_its_message(dnsprobe, broker, tmp_path, capture):
    topic = 'raw-%s' % capture.stem.replace('_', '-').replace('+', '-')
    broker.create_topic(topic, 1)
    as_json = dnsprobe.replay([capture])
    as_json.check_clean()
    expected = collections.Counter(
        (r['dns']['id'], r['dns'].get('question', {}).get('name', '').lower().rstrip('.'))
        for r in as_json.records())
    assert expected
    run = dnsprobe.replay([capture], '--brokers', broker.bootstrap, '--topic', topic,
                          '--format', 'raw', output=None)
    run.check_clean()
    assert run.summary['delivered'] == sum(expected.values()), run.describe()
    values = [r.value for r in broker.consume_all(topic)]
    rebuilt = tmp_path / 'values.pcap'
    write_pcap(rebuilt, link_type(capture), values)
    decoded = tshark_messages(rebuilt)
    not_one = [n for n in range(1, len(values) + 1) if len(decoded.get(n, [])) < 1]
    assert not not_one, 'values that tshark does not decode as DNS: frames %s of %s' % (
        not_one[:10], len(values))
    got = collections.Counter()
    for messages in decoded.values():
        for msg_id, name in messages:
            got[(msg_id, name)] += 1
    # a frame that held several whole messages is published once per message: count each once
    assert set(got) == set(expected), 'tshark: %r\nrecords: %r' % (
        sorted(set(got) - set(expected))[:5], sorted(set(expected) - set(got))[:5])
