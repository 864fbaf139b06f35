"""dnsprobe listen --dnstap (issue 13, part 2): Frame Streams from real senders become records.
Senders: unbound and Knot Resolver from Debian with dnstap on, answering local data to dig;
fstrm_replay (fstrm-bin)
replaying dnstap files, alone and eight at once; raw garbage. What arrives is checked against
what was sent: dig's own queries and answers, tshark's reading of the capture a dnstap file was
made from, and the wire records of that capture (which must share their flow keys)."""

import collections
import grp
import json
import os
import pathlib
import re
import shutil
import signal
import socket
import stat
import struct
import subprocess
import threading
import time

import pytest

from conftest import CORPUS, run_env
from tshark_oracle import strict_json_line
from test_dnstap_output import (broker, dnstap_pb2, from_protobuf,  # noqa: F401
                                read_frame_streams, tshark_messages)
import kafka_helpers as kh

CAPTURE = 'dnscap__dnso1tcp.pcap'


def need(*tools):
    for tool in tools:
        if not shutil.which(tool):
            pytest.skip('%s not installed (scripts/setup)' % tool)


class Listener:
    """A running `dnsprobe listen`; stop() ends it with SIGINT and returns its records."""

    def __init__(self, binary, folder, *args, output=None, fmt=None):
        self.folder = folder
        self.sock = str(folder / 'dnstap-dnstap.sock')
        self.output = output or folder / 'records.json'
        self.summary = folder / 'summary.json'
        cmd = [str(binary), 'listen', '--dnstap', 'unix:' + self.sock, '-o', str(self.output),
               '--summary-json', str(self.summary)] + [str(a) for a in args]
        if fmt:
            cmd += ['--format', fmt]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     env=run_env())
        deadline = time.monotonic() + 20
        while not os.path.exists(self.sock):
            assert self.proc.poll() is None, self.proc.stderr.read().decode()
            assert time.monotonic() < deadline, 'the socket did not appear'
            time.sleep(0.05)

    def stop(self):
        self.proc.send_signal(signal.SIGINT)
        out, err = self.proc.communicate(timeout=60)
        self.stderr = err.decode('utf-8', 'replace')
        assert self.proc.returncode == 0, self.stderr
        for mark in ('AddressSanitizer', 'runtime error', 'LeakSanitizer'):
            assert mark not in self.stderr, self.stderr
        assert not os.path.exists(self.sock), 'the socket was not removed at exit'
        return self.stderr


def records(path):
    return [strict_json_line(line) for line in path.read_bytes().splitlines()]


def fields(r):
    """(protocol, client, client port, server, server port, id, is response, name) of a
    record, for comparing with tshark_messages (without its time)."""
    return (r['network']['transport'].upper(), r['client']['ip'], r['client']['port'],
            r['server']['ip'], r['server']['port'], r['dns']['id'],
            r['dns']['type'] == 'answer',
            r['dns'].get('question', {}).get('name', '').lower().rstrip('.'))


@pytest.fixture(scope='module')
def tap_file(dnsprobe, tmp_path_factory):
    """A dnstap file of a corpus capture (test_dnstap_output checks such files)."""
    capture = CORPUS / 'pcap' / CAPTURE
    if not capture.exists():
        pytest.skip('corpus capture %s not found' % capture)
    out = tmp_path_factory.mktemp('dnstap-tap') / 'capture.tap'
    dnsprobe.replay([capture], '--format', 'dnstap', '--observer-name', 'tap-sender',
                    output=out).check_clean()
    return capture, out


def replay_into(sock, tap, count=1):
    """fstrm_replay (a bidirectional Frame Streams sender) into the socket, count at once. Each
    returns once the probe answered its STOP with FINISH, which it does after handing out every
    frame before the STOP: a stop after that loses none."""
    procs = [subprocess.Popen(['fstrm_replay', '-t', 'protobuf:dnstap.Dnstap', '-r', str(tap),
                               '-u', sock], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for _ in range(count)]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err.decode()


def test_replayed_dnstap_gives_the_capture_records(dnsprobe, dnsprobe_bin, tap_file, tmp_path):
    need('fstrm_replay', 'tshark')
    capture, tap = tap_file
    expected = tshark_messages(capture)
    want = collections.Counter({k[:5] + k[6:]: n for k, n in expected.items()})
    prom = tmp_path / 'dnsprobe.prom'
    listener = Listener(dnsprobe_bin, tmp_path, '--stats-file', prom)
    replay_into(listener.sock, tap)
    time.sleep(0.5)
    log = listener.stop()
    got = records(listener.output)
    assert collections.Counter(fields(r) for r in got) == want
    # the Prometheus file, read by the Prometheus client's own parser
    from prometheus_client.parser import text_string_to_metric_families
    samples = {(s.name, s.labels.get('reason')): s.value
               for family in text_string_to_metric_families(prom.read_text())
               for s in family.samples}
    assert samples[('dnsprobe_dnstap_frames_total', None)] == len(got)
    assert samples[('dnsprobe_dnstap_connections_opened_total', None)] == 1
    assert samples[('dnsprobe_dnstap_connections_closed_total', None)] == 1
    assert samples[('dnsprobe_dnstap_malformed_total', 'control')] == 0
    docs = (pathlib.Path(__file__).resolve().parents[2] / 'docs' / 'operations.md').read_text()
    families = {line.split()[2] for line in prom.read_text().splitlines()
                if line.startswith('# TYPE ')}
    assert families - set(re.findall(r'`(dnsprobe_[a-z0-9_]+)', docs)) == set()
    for r in got:
        assert r['dnsprobe']['input'] == 'dnstap'
        assert r['dnsprobe']['dnstap']['identity'] == 'tap-sender'
        assert r['dnsprobe']['dnstap']['type'] == ('CLIENT_RESPONSE' if r['dns']['type'] ==
                                                   'answer' else 'CLIENT_QUERY')
    # the same messages off the wire have the same flow keys
    wire = dnsprobe.replay([capture])
    wire.check_clean()
    assert collections.Counter((fields(r), r['dnsprobe']['flow_key']) for r in got) == \
        collections.Counter((fields(r), r['dnsprobe']['flow_key']) for r in wire.records())
    assert all(r['dnsprobe']['input'] == 'wire' for r in wire.records())
    summary = json.loads(listener.summary.read_text())
    assert summary['delivered'] == len(got)
    assert '1 connections (1 closed, 0 refused)' in log


def test_format_dnstap_passes_frames_through(dnsprobe_bin, tap_file, tmp_path):
    """What dnsprobe writes with --format dnstap is what fstrm_capture, the reference receiver,
    writes for the same sender: the same frames, byte for byte, in the same order."""
    need('fstrm_replay', 'fstrm_capture')
    _, tap = tap_file
    reference = tmp_path / 'fstrm_capture.tap'
    sock = str(tmp_path / 'fstrm-capture-dnstap.sock')
    capture = subprocess.Popen(['fstrm_capture', '-t', 'protobuf:dnstap.Dnstap', '-u', sock,
                                '-w', str(reference)], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
    deadline = time.monotonic() + 20
    while not os.path.exists(sock):
        assert capture.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    replay_into(sock, tap)
    time.sleep(0.5)
    capture.send_signal(signal.SIGINT)
    capture.communicate(timeout=30)
    expected = read_frame_streams(reference.read_bytes())
    assert expected == read_frame_streams(tap.read_bytes())

    listener = Listener(dnsprobe_bin, tmp_path, output=tmp_path / 'out.tap', fmt='dnstap')
    replay_into(listener.sock, tap)
    time.sleep(0.5)
    listener.stop()
    assert read_frame_streams((tmp_path / 'out.tap').read_bytes()) == expected


def test_eight_senders_at_once(dnsprobe_bin, tap_file, tmp_path):
    need('fstrm_replay')
    _, tap = tap_file
    sent = read_frame_streams(tap.read_bytes())
    listener = Listener(dnsprobe_bin, tmp_path)
    replay_into(listener.sock, tap, count=8)
    log = listener.stop()
    got = records(listener.output)
    assert len(got) == 8 * len(sent)
    per_message = collections.Counter((fields(r), r['@timestamp']) for r in got)
    assert set(per_message.values()) == {8}
    assert '8 connections (8 closed, 0 refused)' in log


# A Frame Streams START control frame offering protobuf:dnstap.Dnstap.
CONTENT_TYPE = b'protobuf:dnstap.Dnstap'
START = struct.pack('!IIIII', 0, 12 + len(CONTENT_TYPE), 2, 1, len(CONTENT_TYPE)) + CONTENT_TYPE


def test_garbage_closes_that_connection_only(dnsprobe_bin, tap_file, tmp_path):
    need('fstrm_replay')
    _, tap = tap_file
    sent = read_frame_streams(tap.read_bytes())
    listener = Listener(dnsprobe_bin, tmp_path, '--max-frame-size', 4096)
    garbage = [
        b'GET / HTTP/1.1\r\n\r\n',                                    # a data frame before START
        struct.pack('!II', 0, 100000),                                 # a control frame too long
        struct.pack('!III', 0, 4, 99),                                 # an unknown control type
        struct.pack('!IIIII', 0, 16, 2, 1, 4) + b'text',               # START, wrong content type
    ]
    garbage.append(START + struct.pack('!I', 100000) + b'x' * 8000)   # over --max-frame-size
    garbage.append(START + struct.pack('!I', 5) + b'\xff\xff\xff\xff\xff')  # not a protobuf
    for g in garbage:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.connect(listener.sock)
            s.sendall(g)
            s.shutdown(socket.SHUT_WR)
            s.settimeout(10)
            try:
                while s.recv(4096):  # the probe closes its side
                    pass
            except (ConnectionResetError, socket.timeout):
                pass
    replay_into(listener.sock, tap)  # a good sender afterwards is served in full
    log = listener.stop()
    assert len(records(listener.output)) == len(sent)
    assert 'malformed: 3 control, 1 oversized, 1 content type, 1 protobuf' in log, log
    summary = json.loads(listener.summary.read_text())
    assert summary['malformed_reasons']['dnstap_protobuf'] == 1, summary
    assert summary['dnstap'] == {
        'connections_opened': len(garbage) + 1, 'connections_closed': len(garbage) + 1,
        'connections_refused': 0, 'frames': len(sent) + 1, 'bad_control': 3, 'oversized': 1,
        'bad_content_type': 1, 'bad_protobuf': 1}


def test_a_frame_that_is_not_dnstap_closes_its_connection(dnsprobe_bin, tmp_path):
    """A sender whose data frame is not a Dnstap protobuf is cut off by the probe, even though it
    keeps its side open: what it sends after would be as useless."""
    listener = Listener(dnsprobe_bin, tmp_path)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.connect(listener.sock)
        s.sendall(START + struct.pack('!I', 5) + b'\xff\xff\xff\xff\xff')
        s.settimeout(10)
        assert s.recv(4096) == b''  # closed by the probe, not timed out
    log = listener.stop()
    assert 'a data frame that is not a Dnstap protobuf; connection closed' in log, log
    summary = json.loads(listener.summary.read_text())
    assert summary['malformed_reasons']['dnstap_protobuf'] == 1, summary
    assert summary['dnstap']['bad_protobuf'] == 1, summary
    assert summary['dnstap']['connections_closed'] == 1, summary


UNBOUND_CONF = """server:
    interface: 127.0.0.1@{port}
    port: {port}
    do-daemonize: no
    username: ""
    chroot: ""
    directory: "{folder}"
    pidfile: "{folder}/unbound.pid"
    use-syslog: no
    logfile: "{folder}/unbound.log"
    verbosity: 1
    module-config: "iterator"
    access-control: 127.0.0.0/8 allow
    do-not-query-localhost: yes
    local-zone: "dnstap.test." static
    local-data: "www.dnstap.test. 300 IN A 192.0.2.1"
    local-data: "mail.dnstap.test. 300 IN AAAA 2001:db8::25"
remote-control:
    control-enable: no
dnstap:
    dnstap-enable: yes
    dnstap-socket-path: "{sock}"
    dnstap-send-identity: yes
    dnstap-identity: "unbound-dnstap-test"
    dnstap-send-version: yes
    dnstap-log-client-query-messages: yes
    dnstap-log-client-response-messages: yes
"""


def wait_until_answering(server, port, name, timeout=20):
    """Asks server (a Popen) on 127.0.0.1:port for name until it answers 192.0.2.1."""
    deadline = time.monotonic() + timeout
    while True:
        probe = subprocess.run(['dig', '+short', '+time=1', '+tries=1', '-p', str(port),
                                '@127.0.0.1', name, 'A'], capture_output=True, text=True)
        if probe.stdout.strip() == '192.0.2.1':
            return
        assert server.poll() is None, server.stdout.read().decode()
        assert time.monotonic() < deadline, probe.stdout + probe.stderr
        time.sleep(0.2)


def dig_each(port, queries):
    """One dig per (name, qtype, tcp) on 127.0.0.1:port: [(name, qtype, id, dig's output,
    transport)]."""
    asked = []
    for name, qtype, tcp in queries:
        out = subprocess.run(['dig', '-p', str(port), '@127.0.0.1', name, qtype]
                             + (['+tcp'] if tcp else []),
                             capture_output=True, text=True, check=True).stdout
        asked.append((name, qtype, int(out.split('id: ')[1].split()[0]), out,
                      'tcp' if tcp else 'udp'))
    return asked


def dig_status(out):
    return out.split('status: ')[1].split(',')[0]


def free_udp_tcp_port():
    for port in range(25353, 26353):
        with socket.socket() as t, socket.socket(type=socket.SOCK_DGRAM) as u:
            try:
                t.bind(('127.0.0.1', port))
                u.bind(('127.0.0.1', port))
                return port
            except OSError:
                continue
    raise RuntimeError('no free port')


def test_unbound_streams_every_query_and_response(dnsprobe_bin, tmp_path):
    need('unbound', 'dig')
    listener = Listener(dnsprobe_bin, tmp_path)
    port = free_udp_tcp_port()
    conf = tmp_path / 'unbound.conf'
    conf.write_text(UNBOUND_CONF.format(port=port, folder=tmp_path, sock=listener.sock))
    unbound = subprocess.Popen(['unbound', '-d', '-c', str(conf)], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT)
    try:
        wait_until_answering(unbound, port, 'www.dnstap.test')
        asked = [(name, qtype, msg_id, dig_status(out), transport)
                 for name, qtype, msg_id, out, transport in dig_each(port, [
                     ('www.dnstap.test', 'A', False), ('mail.dnstap.test', 'AAAA', False),
                     ('nothere.dnstap.test', 'A', False), ('www.dnstap.test', 'A', True)])]
        time.sleep(1)
    finally:
        unbound.terminate()
        unbound.communicate(timeout=30)
    listener.stop()
    got = records(listener.output)
    for name, qtype, msg_id, status, transport in asked:
        mine = [r for r in got if r['dns']['id'] == msg_id and
                r['dns']['question']['name'] == name]
        kinds = sorted(r['dnsprobe']['dnstap']['type'] for r in mine)
        assert kinds == ['CLIENT_QUERY', 'CLIENT_RESPONSE'], (name, mine)
        query = next(r for r in mine if r['dns']['type'] == 'query')
        answer = next(r for r in mine if r['dns']['type'] == 'answer')
        assert query['dnsprobe']['flow_key'] == answer['dnsprobe']['flow_key']
        assert answer['dns']['response_code'] == status
        assert answer['dns']['question']['type'] == qtype
        assert query['network']['transport'] == transport
        assert query['server'] == {'ip': '127.0.0.1', 'port': port}
        assert query['client']['ip'] == '127.0.0.1'
        assert answer['client'] == query['client']
        assert query['dnsprobe']['dnstap']['identity'] == 'unbound-dnstap-test'
        assert query['dnsprobe']['dnstap']['version'].startswith('unbound')


KRESD_CONF = """net.listen('127.0.0.1', {port}, {{ kind = 'dns' }})
trust_anchors.remove('.')
cache.size = 10 * MB
modules = {{
    'hints > iterate',
    dnstap = {{
        socket_path = "{sock}",
        identity = "kresd-dnstap-test",
        client = {{ log_queries = true, log_responses = true }},
    }},
}}
hints.set('www.dnstap.lab 192.0.2.1')
hints.set('mail.dnstap.lab 2001:db8::25')
"""


def test_knot_resolver_streams_every_query_and_response(dnsprobe_bin, tmp_path):
    need('kresd', 'dig')
    listener = Listener(dnsprobe_bin, tmp_path)
    port = free_udp_tcp_port()
    rundir = tmp_path / 'kresd'
    rundir.mkdir()
    (rundir / 'config').write_text(KRESD_CONF.format(port=port, sock=listener.sock))
    kresd = subprocess.Popen(['kresd', '-n', '-c', 'config', str(rundir)],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        wait_until_answering(kresd, port, 'www.dnstap.lab')
        asked = []
        for name, qtype, msg_id, out, transport in dig_each(port, [
                ('www.dnstap.lab', 'A', False), ('mail.dnstap.lab', 'AAAA', False),
                ('www.dnstap.lab', 'A', True)]):
            answer = [l.split()[-1] for l in out.split(';; ANSWER SECTION:\n')[1].split('\n\n')[0]
                      .splitlines()]
            asked.append((name, qtype, msg_id, answer, transport))
        time.sleep(1)
    finally:
        kresd.terminate()
        kresd.communicate(timeout=30)
    listener.stop()
    got = records(listener.output)
    for name, qtype, msg_id, answer_data, transport in asked:
        mine = [r for r in got if r['dns']['id'] == msg_id and
                r['dns']['question']['name'] == name]
        assert sorted(r['dnsprobe']['dnstap']['type'] for r in mine) == \
            ['CLIENT_QUERY', 'CLIENT_RESPONSE'], (name, mine)
        query = next(r for r in mine if r['dns']['type'] == 'query')
        answer = next(r for r in mine if r['dns']['type'] == 'answer')
        assert query['dnsprobe']['flow_key'] == answer['dnsprobe']['flow_key']
        assert [a['data'] for a in answer['dns']['answers']] == answer_data
        assert query['network']['transport'] == transport
        assert query['server'] == {'ip': '127.0.0.1', 'port': port}
        assert answer['client'] == query['client']
        assert query['dnsprobe']['dnstap']['version'].startswith('Knot Resolver')


def test_blocked_sink_loses_nothing(dnsprobe, dnsprobe_bin, tap_file, tmp_path):
    """The output is a FIFO nobody reads for 10 s while a sender keeps sending: the probe stops
    reading, the sender waits, and once the FIFO is read every frame arrives."""
    need('fstrm_replay')
    capture, _ = tap_file
    big = tmp_path / 'big.tap'
    dnsprobe.replay([capture], '--format', 'dnstap', '--loop', 1000, output=big).check_clean()
    sent = len(read_frame_streams(big.read_bytes()))
    fifo = tmp_path / 'records.fifo'
    os.mkfifo(fifo)
    # dnsprobe opens the FIFO when it starts: a reader must open it too (then waits 10 s)
    lines = []

    def read_later():
        with open(fifo, 'rb') as f:
            time.sleep(10)
            for line in f:
                lines.append(line)

    reader = threading.Thread(target=read_later)
    reader.start()
    listener = Listener(dnsprobe_bin, tmp_path, output=fifo)
    sender = subprocess.Popen(['fstrm_replay', '-t', 'protobuf:dnstap.Dnstap', '-r', str(big),
                               '-u', listener.sock], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE)
    time.sleep(8)
    assert sender.poll() is None, 'the sender was not held back while the sink was blocked'
    _, err = sender.communicate(timeout=300)
    assert sender.returncode == 0, err.decode()
    listener.stop()
    reader.join(timeout=120)
    assert len(lines) == sent
    summary = json.loads(listener.summary.read_text())
    assert summary['records_dropped'] == 0 and summary['delivered'] == sent


def unidirectional_stream(frames):
    """The bytes of a unidirectional Frame Streams sender: START, the frames, STOP."""
    return START + b''.join(struct.pack('!I', len(f)) + f for f in frames) + \
        struct.pack('!III', 0, 4, 3)


def test_unkeepable_times_give_the_arrival_time(dnsprobe_bin, dnstap_pb2, tmp_path):
    """A query time past what 64-bit nanoseconds hold (year 2262) is not turned into a wrapped
    time: the record gets the time the frame arrived (found by fuzz_dnstap)."""
    import dns.message
    frames = []
    for sec, nsec in [(2**63, 0), (2**40, 5), (1700000000, 2**31)]:
        d = dnstap_pb2.Dnstap(type=dnstap_pb2.Dnstap.MESSAGE)
        m = d.message
        m.type = dnstap_pb2.Message.CLIENT_QUERY
        m.socket_family = dnstap_pb2.INET
        m.socket_protocol = dnstap_pb2.UDP
        m.query_address = bytes([192, 0, 2, 1])
        m.response_address = bytes([192, 0, 2, 53])
        m.query_port, m.response_port = 40000, 53
        m.query_time_sec, m.query_time_nsec = sec, nsec
        m.query_message = dns.message.make_query('time.dnstap.lab', 'A').to_wire()
        frames.append(d.SerializeToString())
    listener = Listener(dnsprobe_bin, tmp_path)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.connect(listener.sock)
        s.sendall(unidirectional_stream(frames))
        s.shutdown(socket.SHUT_WR)
        s.settimeout(10)
        assert s.recv(100) == b''  # the probe closed after STOP
    listener.stop()
    got = records(listener.output)
    assert len(got) == 3
    year = time.gmtime().tm_year
    assert [int(r['@timestamp'][:4]) for r in got] == [year, year, year], got


def test_a_resolver_clock_behind_ours_still_matches(dnsprobe_bin, dnstap_pb2, tmp_path):
    """A resolver whose clock is an hour behind: its queries are held on its own clock, so the
    sweep between bursts must not expire them by our arrival time before their answers come
    (it once did: every query unanswered, every answer unmatched)."""
    import dns.message
    base = int(time.time()) - 3600
    queries = [dns.message.make_query('q%d.dnstap.lab' % i, 'A') for i in range(20)]

    def frame(i, msg, is_response):
        d = dnstap_pb2.Dnstap(type=dnstap_pb2.Dnstap.MESSAGE)
        m = d.message
        m.type = (dnstap_pb2.Message.CLIENT_RESPONSE if is_response
                  else dnstap_pb2.Message.CLIENT_QUERY)
        m.socket_family, m.socket_protocol = dnstap_pb2.INET, dnstap_pb2.UDP
        m.query_address, m.response_address = bytes([192, 0, 2, 1]), bytes([192, 0, 2, 53])
        m.query_port, m.response_port = 40000 + i, 53
        if is_response:
            m.response_time_sec, m.response_time_nsec = base, 1000000 * (i + 1)
            m.response_message = dns.message.make_response(msg).to_wire()
        else:
            m.query_time_sec, m.query_time_nsec = base, 1000000 * i
            m.query_message = msg.to_wire()
        return d.SerializeToString()

    # A small table, so that the sweep between bursts passes every held query in the second
    # the answers wait.
    listener = Listener(dnsprobe_bin, tmp_path, '--match-queries', 64)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.connect(listener.sock)
        stream = unidirectional_stream([frame(i, q, False) for i, q in enumerate(queries)] +
                                       [frame(i, q, True) for i, q in enumerate(queries)])
        half = stream.index(struct.pack('!I', len(frame(0, queries[0], True))) +
                            frame(0, queries[0], True))
        s.sendall(stream[:half])  # the queries, in bursts of their own
        time.sleep(1)
        s.sendall(stream[half:])
        s.shutdown(socket.SHUT_WR)
        s.settimeout(10)
        assert s.recv(100) == b''
    listener.stop()
    summary = json.loads(listener.summary.read_text())
    answers = [r for r in records(listener.output) if r['dns']['type'] == 'answer']
    assert len(answers) == len(queries)
    assert all(r['event']['duration'] == 1000000 for r in answers), answers[0]
    assert summary['unanswered_queries'] == 0 and summary['unmatched_responses'] == 0, summary


def test_max_connections_refuses_the_next_sender(dnsprobe_bin, tap_file, tmp_path):
    need('fstrm_replay')
    _, tap = tap_file
    listener = Listener(dnsprobe_bin, tmp_path, '--max-connections', 1)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as holder:
        holder.connect(listener.sock)  # takes the one slot and sends nothing
        time.sleep(0.5)
        subprocess.run(['fstrm_replay', '-t', 'protobuf:dnstap.Dnstap', '-r', str(tap),
                                '-u', listener.sock], capture_output=True, timeout=60)
        time.sleep(0.3)
    log = listener.stop()
    summary = json.loads(listener.summary.read_text())
    assert summary['dnstap']['connections_refused'] == 1, log
    assert summary['dnstap']['frames'] == 0
    assert summary['records'] == 0
    assert 'over --max-connections' in log


def test_socket_mode_and_group(dnsprobe_bin, tmp_path):
    group = next((g for g in ('unbound', 'knot-resolver', 'nogroup') if _has_group(g)), None)
    if group is None:
        pytest.skip('no group to give the socket')
    listener = Listener(dnsprobe_bin, tmp_path, '--socket-mode', '0660', '--socket-group', group)
    st = os.stat(listener.sock)
    listener.stop()
    assert stat_mode(st) == 0o660
    assert st.st_gid == grp.getgrnam(group).gr_gid


def _has_group(name):
    try:
        grp.getgrnam(name)
        return True
    except KeyError:
        return False


def stat_mode(st):
    return stat.S_IMODE(st.st_mode)


@pytest.mark.parametrize('args, says', [
    ([], 'no --dnstap given'),
    (['--dnstap', 'udp:1.2.3.4:5'], 'expected unix:PATH or tcp:HOST:PORT'),
    (['--dnstap', 'tcp:127.0.0.1'], 'expected tcp:HOST:PORT'),
    (['--dnstap', 'unix:/tmp/x-dnstap.sock', '--max-frame-size', '10'], '--max-frame-size'),
    (['--dnstap', 'unix:/tmp/x-dnstap.sock', '--max-connections', '0'], '--max-connections'),
    (['--dnstap', 'unix:/tmp/x-dnstap.sock', '--socket-mode', '0999'], '--socket-mode'),
    (['--dnstap', 'unix:/tmp/x-dnstap.sock', '--socket-group', 'no-such-group-dnstap'],
     '--socket-group'),
    (['--dnstap', 'unix:/nonexistent-dnstap/x.sock'], 'cannot bind'),
    (['--dnstap', 'unix:/tmp/x-dnstap.sock', '--dnstap', 'unix:/tmp/x-dnstap.sock'],
     'given twice'),
])
def test_bad_options_say_what_is_wrong(dnsprobe, tmp_path, args, says):
    out = tmp_path / 'never.json'
    run = dnsprobe.raw(['listen', '-o', out] + args)
    assert run.rc == 2, run.describe()
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and says in lines[0], run.stderr
    assert not out.exists()
    assert not os.path.exists('/tmp/x-dnstap.sock')


def test_a_file_at_the_socket_path_is_left_alone(dnsprobe, tmp_path):
    path = tmp_path / 'not-a-socket-dnstap'
    path.write_text('keep me')
    run = dnsprobe.raw(['listen', '--dnstap', 'unix:%s' % path, '--discard'])
    assert run.rc == 2 and 'not a socket' in run.stderr
    assert path.read_text() == 'keep me'


def test_tcp_and_unix_listeners_at_once(dnsprobe_bin, tap_file, tmp_path):
    need('fstrm_replay')
    _, tap = tap_file
    sent = read_frame_streams(tap.read_bytes())
    port = free_udp_tcp_port()
    listener = Listener(dnsprobe_bin, tmp_path, '--dnstap', 'tcp:127.0.0.1:%d' % port)
    replay_into(listener.sock, tap)
    proc = subprocess.run(['fstrm_replay', '-t', 'protobuf:dnstap.Dnstap', '-r', str(tap),
                           '-a', '127.0.0.1', '-p', str(port)], capture_output=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    log = listener.stop()
    got = records(listener.output)
    assert len(got) == 2 * len(sent)
    per_message = collections.Counter((fields(r), r['@timestamp']) for r in got)
    assert set(per_message.values()) == {2}
    assert 'tcp:127.0.0.1:%d from 127.0.0.1 port' % port in log


def test_resolver_killed_and_restarted(dnsprobe_bin, tmp_path):
    """unbound killed (SIGKILL) mid-stream and started again: the probe logs the lost
    connection, takes the new one, and the queries after the restart arrive in full."""
    need('unbound', 'dig')
    listener = Listener(dnsprobe_bin, tmp_path)
    port = free_udp_tcp_port()
    conf = tmp_path / 'unbound.conf'
    conf.write_text(UNBOUND_CONF.format(port=port, folder=tmp_path, sock=listener.sock))

    def start():
        proc = subprocess.Popen(['unbound', '-d', '-c', str(conf)], stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while True:
            probe = subprocess.run(['dig', '+short', '+time=1', '+tries=1', '-p', str(port),
                                    '@127.0.0.1', 'www.dnstap.test', 'A'],
                                   capture_output=True, text=True)
            if probe.stdout.strip() == '192.0.2.1':
                return proc
            assert time.monotonic() < deadline, probe.stdout + probe.stderr
            time.sleep(0.2)

    def ask(n):
        ids = []
        for _ in range(n):
            out = subprocess.run(['dig', '-p', str(port), '@127.0.0.1', 'mail.dnstap.test',
                                  'AAAA'], capture_output=True, text=True, check=True).stdout
            ids.append(int(out.split('id: ')[1].split()[0]))
        return ids

    first = start()
    ask(5)  # what unbound still holds when it is killed is lost on its side, not ours
    time.sleep(0.5)
    first.kill()
    first.communicate(timeout=30)
    second = start()
    try:
        after = ask(5)
        time.sleep(1)
    finally:
        second.terminate()
        second.communicate(timeout=30)
    log = listener.stop()
    got = records(listener.output)
    for msg_id in after:
        kinds = sorted(r['dnsprobe']['dnstap']['type'] for r in got
                       if r['dns']['id'] == msg_id and
                       r['dns']['question']['name'] == 'mail.dnstap.test')
        assert kinds == ['CLIENT_QUERY', 'CLIENT_RESPONSE'], (msg_id, log)
    summary = json.loads(listener.summary.read_text())
    assert summary['dnstap']['connections_opened'] >= 2
    assert summary['dnstap']['connections_closed'] == summary['dnstap']['connections_opened']
    assert 'disconnected' in log


def test_unbound_under_dnsperf(dnsprobe_bin, tmp_path):
    """dnsperf sends a few thousand queries through unbound: every query it sent arrives as a
    CLIENT_QUERY record and every response it got as a CLIENT_RESPONSE, each response matched to
    its query (event.duration) with the same key."""
    need('unbound', 'dnsperf')
    listener = Listener(dnsprobe_bin, tmp_path)
    port = free_udp_tcp_port()
    conf = tmp_path / 'unbound.conf'
    conf.write_text(UNBOUND_CONF.format(port=port, folder=tmp_path, sock=listener.sock))
    unbound = subprocess.Popen(['unbound', '-d', '-c', str(conf)], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT)
    queries = tmp_path / 'queries.txt'
    queries.write_text('www.dnstap.test A\nmail.dnstap.test AAAA\nnothere.dnstap.test A\n')
    try:
        deadline = time.monotonic() + 20
        while subprocess.run(['dig', '+short', '+time=1', '+tries=1', '-p', str(port),
                              '@127.0.0.1', 'www.dnstap.test'], capture_output=True,
                             text=True).stdout.strip() != '192.0.2.1':
            assert time.monotonic() < deadline
            time.sleep(0.2)
        perf = subprocess.run(['dnsperf', '-s', '127.0.0.1', '-p', str(port), '-d', str(queries),
                               '-n', '1000', '-c', '4', '-Q', '2000'], capture_output=True,
                              text=True, timeout=120)
        assert perf.returncode == 0, perf.stdout + perf.stderr
        time.sleep(1)
    finally:
        unbound.terminate()
        unbound.communicate(timeout=30)
    listener.stop()
    sent = int(re.search(r'Queries sent:\s+(\d+)', perf.stdout).group(1))
    completed = int(re.search(r'Queries completed:\s+(\d+)', perf.stdout).group(1))
    got = records(listener.output)
    by_type = collections.Counter(r['dnsprobe']['dnstap']['type'] for r in got)
    # the dig probes that waited for unbound to come up are in there too: one pair each
    digs = sum(1 for r in got if r['dns']['type'] == 'query') - sent
    assert 1 <= digs <= 200
    assert by_type['CLIENT_QUERY'] == sent + digs
    assert by_type['CLIENT_RESPONSE'] == completed + digs
    answers = [r for r in got if r['dns']['type'] == 'answer']
    assert all('duration' in r['event'] for r in answers), 'a response not matched'


NAMED_CONF = """options {{
    directory "{folder}";
    pid-file "{folder}/named.pid";
    session-keyfile "{folder}/session.key";
    managed-keys-directory "{folder}";
    listen-on port {port} {{ 127.0.0.1; }};
    listen-on-v6 {{ none; }};
    recursion no;
    dnstap {{ auth; client; }};
    dnstap-output unix "{sock}";
    dnstap-identity "bind-dnstap-test";
}};
controls {{ }};
zone "dnstap.test" {{ type primary; file "{folder}/dnstap.test.zone"; }};
"""

ZONE = """$TTL 300
@ IN SOA ns.dnstap.test. admin.dnstap.test. 1 3600 600 86400 300
@ IN NS ns.dnstap.test.
ns IN A 127.0.0.1
www IN A 192.0.2.1
mail IN AAAA 2001:db8::25
"""


def test_bind_streams_every_query_and_response(dnsprobe_bin, tmp_path):
    need('named', 'dig')
    listener = Listener(dnsprobe_bin, tmp_path)
    port = free_udp_tcp_port()
    (tmp_path / 'dnstap.test.zone').write_text(ZONE)
    conf = tmp_path / 'named.conf'
    conf.write_text(NAMED_CONF.format(port=port, folder=tmp_path, sock=listener.sock))
    named = subprocess.Popen(['named', '-g', '-c', str(conf)], stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT)
    try:
        wait_until_answering(named, port, 'www.dnstap.test', timeout=30)
        asked = [(name, qtype, msg_id, dig_status(out), transport)
                 for name, qtype, msg_id, out, transport in dig_each(port, [
                     ('www.dnstap.test', 'A', False), ('mail.dnstap.test', 'AAAA', True),
                     ('nothere.dnstap.test', 'A', False)])]
        time.sleep(1.5)  # BIND's dnstap queue flushes on its own schedule
    finally:
        named.terminate()
        named.communicate(timeout=30)
    listener.stop()
    got = records(listener.output)
    for name, qtype, msg_id, status, transport in asked:
        mine = [r for r in got if r['dns']['id'] == msg_id and
                r['dns']['question']['name'] == name]
        # an authoritative BIND 9.18 logs the query as AUTH_QUERY and the answer as
        # CLIENT_RESPONSE (fstrm_capture and dnstap-ldns show the same)
        assert sorted(r['dnsprobe']['dnstap']['type'] for r in mine) == \
            ['AUTH_QUERY', 'CLIENT_RESPONSE'], (name, mine)
        query = next(r for r in mine if r['dns']['type'] == 'query')
        answer = next(r for r in mine if r['dns']['type'] == 'answer')
        assert query['dnsprobe']['flow_key'] == answer['dnsprobe']['flow_key']
        assert answer['dns']['response_code'] == status
        assert answer['dns']['question']['type'] == qtype
        assert query['network']['transport'] == transport
        assert query['server'] == {'ip': '127.0.0.1', 'port': port}
        assert answer['client'] == query['client']
        assert query['dnsprobe']['dnstap']['identity'] == 'bind-dnstap-test'
        assert 'duration' in answer['event']  # matched to its query


def test_listen_into_kafka_passes_frames_as_values(dnsprobe_bin, dnstap_pb2, broker, tap_file,
                                                   tmp_path):
    """Kafka output of the listener with --format dnstap: each value is the frame a sender sent,
    keyed by the flow key of the addresses in it."""
    need('fstrm_replay')
    _, tap = tap_file
    sent = read_frame_streams(tap.read_bytes())
    broker.create_topic('dnstap-listen', 1)
    sock = str(tmp_path / 'kafka-dnstap.sock')
    proc = subprocess.Popen([str(dnsprobe_bin), 'listen', '--dnstap', 'unix:' + sock,
                             '--brokers', broker.bootstrap, '--topic', 'dnstap-listen',
                             '--format', 'dnstap'], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=run_env())
    deadline = time.monotonic() + 30
    while not os.path.exists(sock):
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    replay_into(sock, tap)
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err.decode()
    got = broker.consume_all('dnstap-listen')
    assert sorted(r.value for r in got) == sorted(sent)
    for r in got:
        f, _ = from_protobuf(dnstap_pb2, r.value)
        protocol = {'UDP': 17, 'TCP': 6}[f[0]]
        assert r.key == kh.flow_key_binary(protocol, f[1], f[3], f[2], f[4])
