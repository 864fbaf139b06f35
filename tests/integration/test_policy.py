# test_policy: the policy stage (probe/policy): --classify rule files in every format,
# dnsprobe.category and dnsprobe.rule, --drop-category and its counters, the rule-file errors,
# --rate-limit and --rate-limit-per-client, and SIGHUP reloading the rules during a --loop replay.
# Oracles: tshark's reading of every question name in the capture (dns.qry.name) classified by
# the rule files read here in Python (written from the formats in docs/operations.md: the
# longest rule that is the name or a parent of it wins, case-insensitively); for the rate limits,
# captures written here (RFC 1035 messages, RFC 791/768 headers) whose duration, clients and
# exchanges are known; prometheus_client's parser for the metrics file.

import json
import signal
import socket
import struct
import subprocess
import threading
import time

import pytest
from prometheus_client.parser import text_string_to_metric_families

from conftest import SANITIZER_MARKS, run_env
from tshark_oracle import dns_messages, rfc3339_to_ns

CAPTURE_NAME = 'compactor__dns.pcap'  # 1998 messages, 819 names, queries and responses

# One file of each format; the categories overlap so that the longest rule must win.
RULE_FILES = {
    'rules.txt': (None, '# DOMAIN CATEGORY\n'
                  'facebook.com social\n'
                  'FBCDN.net images   # a comment after the rule\n'
                  '\n'
                  'ak.fbcdn.net. cdn\n'
                  'root-servers.net infrastructure\n'
                  'a.root-servers.net root-a\n'),
    'hosts': ('ads', '127.0.0.1 localhost\n'
              '0.0.0.0 www.google.com apps.facebook.com\n'
              ':: teredo.ipv6.microsoft.com\n'),
    'plain.txt': ('tracking', '# a plain list\n*.doubleclick.net\nsphotos.ak.fbcdn.net\n'),
    'adguard.txt': ('malware', '! AdGuard\n[Adblock Plus 2.0]\n||in-addr.arpa^\n'
                    '||Microsoft.COM^\n'),
}


@pytest.fixture(scope='module')
def capture(corpus_dir):
    return corpus_dir / 'pcap' / CAPTURE_NAME


@pytest.fixture(scope='module')
def tshark_names(capture):
    return [(m['time_ns'], m['qname']) for m in dns_messages(capture)]


def write_rules(folder):
    args = []
    for name, (category, text) in RULE_FILES.items():
        path = folder / name
        path.write_text(text)
        args += ['--classify', ('%s=%s' % (category, path)) if category else str(path)]
    return args


def python_rules():
    """The rule files read independently: domain (lower case, no final dot) -> category."""
    rules = {}
    for _, (category, text) in RULE_FILES.items():
        for line in text.splitlines():
            line = line.split('#', 1)[0].strip()
            if not line or line[0] in '![':
                continue
            if line.startswith('||'):
                assert line.endswith('^')
                names = [(line[2:-1], category)]
            else:
                fields = line.split()
                if ':' in fields[0] or fields[0].replace('.', '').isdigit():
                    names = [(f, category) for f in fields[1:]]
                elif len(fields) == 2:
                    names = [(fields[0], fields[1])]
                else:
                    names = [(fields[0], category)]
            for name, cat in names:
                name = name.lower().rstrip('.')
                if name.startswith('*.'):
                    name = name[2:]
                rules[name] = cat
    return rules


def classify(rules, qname):
    if qname is None:
        return None
    labels = qname.lower().rstrip('.').split('.')
    for i in range(len(labels)):
        suffix = '.'.join(labels[i:])
        if suffix in rules:
            return rules[suffix], suffix
    return None


def test_categories_match_an_independent_reading(dnsprobe, tmp_path, capture, tshark_names):
    run = dnsprobe.replay([capture], *write_rules(tmp_path))
    run.check_clean()
    records = run.records()
    assert [rfc3339_to_ns(r['@timestamp']) for r in records] == [t for t, _ in tshark_names]
    rules = python_rules()
    want = [classify(rules, name) for _, name in tshark_names]
    got = [(r['dnsprobe']['category'], r['dnsprobe']['rule']) if 'category' in r['dnsprobe']
           else None for r in records]
    assert got == want
    # Every format and the longest-match rule had something to do in this capture.
    seen = {w[0] for w in want if w}
    assert {'social', 'cdn', 'root-a', 'ads', 'tracking', 'malware'} <= seen
    assert 'rule' not in {k for r in records if 'category' not in r['dnsprobe']
                          for k in r['dnsprobe']}
    assert run.summary['classified'] == sum(1 for w in want if w)
    assert run.summary['policy_dropped'] == 0 and run.summary['balanced']
    assert '%d rules in 8 categories from 4 files' % len(rules) in run.stderr


def test_drop_category_counts(dnsprobe, tmp_path, capture, tshark_names):
    stats = tmp_path / 'stats.prom'
    run = dnsprobe.replay([capture], *write_rules(tmp_path), '--drop-category', 'malware',
                          '--drop-category', 'cdn', '--drop-category', 'unused',
                          '--stats-file', stats)
    run.check_clean()
    rules = python_rules()
    want = [classify(rules, name) for _, name in tshark_names]
    dropped = {c: sum(1 for w in want if w and w[0] == c) for c in ('malware', 'cdn', 'unused')}
    assert dropped['malware'] > 0 and dropped['cdn'] > 0
    kept = [w for w in want if not (w and w[0] in dropped)]
    records = run.records()
    assert [(r['dnsprobe'].get('category'), r['dnsprobe'].get('rule')) for r in records] == \
        [(w[0], w[1]) if w else (None, None) for w in kept]
    s = run.summary
    assert s['policy_dropped'] == sum(dropped.values())
    assert s['policy_dropped_categories'] == dropped
    assert s['delivered'] == len(records) == s['records'] - s['policy_dropped']
    assert s['balanced']
    assert ' %d policy_dropped' % sum(dropped.values()) in run.stderr
    metrics = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for f in text_string_to_metric_families(stats.read_text()) for s in f.samples}
    assert metrics[('dnsprobe_policy_dropped_total', (('source', 'replay'),))] == \
        sum(dropped.values())
    for category, n in dropped.items():
        key = ('dnsprobe_policy_dropped_category_total',
               (('category', category), ('source', 'replay')))
        assert metrics[key] == n


def test_later_duplicate_wins_and_is_counted(dnsprobe, tmp_path, capture, tshark_names):
    (tmp_path / 'a.txt').write_text('facebook.com social\ngoogle.com search\n')
    (tmp_path / 'b.txt').write_text('facebook.com\ngoogle.com\n')
    run = dnsprobe.replay([capture], '--classify', tmp_path / 'a.txt',
                          '--classify', 'other=%s' % (tmp_path / 'b.txt'))
    run.check_clean()
    assert '2 rules given again with another category (the later one kept), the first at %s:1' \
        % (tmp_path / 'b.txt') in run.stderr
    categories = {r['dnsprobe'].get('category') for r in run.records()}
    assert categories == {None, 'other'}


@pytest.mark.parametrize('content, args, message', [
    ('example.com ads\nexample.org ads extra\n', [], 'bad.txt:2: \'example.org ads extra\' is '
     'not a rule'),
    ('# ok\nexa_mple..com\n', ['ads='], "bad.txt:2: 'exa_mple..com' is not a domain name"),
    ('bad..name ads\n', [], "bad.txt:1: 'bad..name' is not a domain name"),
    ('0.0.0.0 ads.example\n', [], "bad.txt:1: '0.0.0.0 ads.example' has no category"),
    ('just.a.domain\n', [], "bad.txt:1: 'just.a.domain' has no category"),
    ('example.com ad$\n', [], "bad.txt:1: 'example.com ad$' has a bad category"),
    ('||example.com^$third-party\n', ['ads='], 'bad.txt:1: \'||example.com^$third-party\' is '
     'an adblock rule this probe does not read'),
    ('0.0.0.0\n', ['ads='], "bad.txt:1: '0.0.0.0' is a hosts line without a name"),
])
def test_bad_rule_file(dnsprobe, tmp_path, capture, content, args, message):
    rules = tmp_path / 'bad.txt'
    rules.write_text(content)
    out = tmp_path / 'out.json'
    arg = (args[0] + str(rules)) if args else str(rules)
    run = dnsprobe.raw(['replay', capture, '--classify', arg, '-o', out])
    assert run.rc == 2, run.describe()
    assert message in run.stderr, run.stderr
    assert len(run.stderr.strip().splitlines()) == 1
    assert not out.exists()


@pytest.mark.parametrize('args, message', [
    (['--classify', '/nonexistent/rules.txt'], 'cannot read /nonexistent/rules.txt'),
    (['--classify', '=rules.txt'], 'has an empty category'),
    (['--classify', 'ads='], 'give a rule file'),
    (['--drop-category', 'ads'], '--drop-category needs rules'),
    (['--drop-category', 'a b'], "--drop-category: 'a b' is not a category"),
    (['--rate-limit', '0'], "--rate-limit: '0' is not a rate"),
    (['--rate-limit-per-client', 'x'], "--rate-limit-per-client: 'x' is not a rate"),
])
def test_bad_policy_option(dnsprobe, tmp_path, capture, args, message):
    out = tmp_path / 'out.json'
    run = dnsprobe.raw(['replay', capture, '-o', out] + args)
    assert run.rc == 2, run.describe()
    assert message in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1
    assert not out.exists()


def test_options_in_help(dnsprobe):
    for command in ('replay', 'capture'):
        text = dnsprobe.raw([command, '--help']).stdout.decode()
        for option in ('--classify', '--drop-category', '--rate-limit ',
                       '--rate-limit-per-client'):
            assert option in text, (command, option)


# --------------------------------------------------------------------------
# Rate limits, on a capture written here whose duration and clients are known.
# --------------------------------------------------------------------------

def dns_wire(ident, name, response):
    """A DNS message of one question (A, IN), and for a response one A answer (RFC 1035 4.1)."""
    qname = b''.join(bytes([len(p)]) + p.encode() for p in name.split('.')) + b'\0'
    flags = 0x8180 if response else 0x0100
    header = struct.pack('!HHHHHH', ident, flags, 1, 1 if response else 0, 0, 0)
    body = qname + struct.pack('!HH', 1, 1)
    if response:
        body += struct.pack('!HHHIH', 0xC00C, 1, 1, 60, 4) + bytes([192, 0, 2, 1])
    return header + body


def udp_frame(src, dst, sport, dport, payload):
    """Ethernet, IPv4 (header checksum per RFC 791), UDP without a checksum (RFC 768)."""
    udp = struct.pack('!HHHH', sport, dport, 8 + len(payload), 0) + payload
    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0,
                     socket.inet_aton(src), socket.inet_aton(dst))
    words = struct.unpack('!10H', ip)
    total = sum(words)
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    ip = ip[:10] + struct.pack('!H', ~total & 0xFFFF) + ip[12:]
    return b'\x02\0\0\0\0\x02\x02\0\0\0\0\x01\x08\x00' + ip + udp


def write_pcap(path, frames):
    with open(path, 'wb') as out:
        out.write(struct.pack('<IHHiIII', 0xA1B23C4D, 2, 4, 0, 0, 65535, 1))  # nanoseconds
        for ns, frame in frames:
            out.write(struct.pack('<IIII', ns // 10**9, ns % 10**9, len(frame), len(frame)))
            out.write(frame)


SERVER = '198.51.100.53'
START_NS = 1_700_000_000 * 10**9


def exchanges(clients, seconds):
    """clients: {address: queries per second}. Every query is answered 1 ms later. Returns the
    frames in time order and, per frame, (client, id, port, is_response)."""
    events = []
    for n, (client, rate) in enumerate(sorted(clients.items())):
        for i in range(int(rate * seconds)):
            ns = START_NS + i * 10**9 // rate + n * 1000
            ident, port = i & 0xFFFF, 1024 + (i >> 16)
            name = 'q%d.client%d.example' % (i, n)
            events.append((ns, udp_frame(client, SERVER, port, 53, dns_wire(ident, name, False)),
                           (client, ident, port, False)))
            events.append((ns + 10**6, udp_frame(SERVER, client, 53, port,
                                                 dns_wire(ident, name, True)),
                           (client, ident, port, True)))
    events.sort(key=lambda e: e[0])
    return events


def kept_exchanges(records):
    """(client, id, port) -> set of kept directions, from the records."""
    kept = {}
    for r in records:
        response = r['dns']['type'] == 'answer'
        client = r['destination']['ip'] if response else r['source']['ip']
        port = r['destination']['port'] if response else r['source']['port']
        kept.setdefault((client, r['dns']['id'], port), set()).add(response)
    return kept


def test_rate_limit_keeps_n_per_second(dnsprobe, tmp_path):
    seconds, rate = 10, 1000
    events = exchanges({'192.0.2.10': 1500, '192.0.2.11': 500}, seconds)
    capture = tmp_path / 'flood.pcap'
    write_pcap(capture, [(ns, frame) for ns, frame, _ in events])
    stats = tmp_path / 'stats.prom'
    run = dnsprobe.replay([capture], '--rate-limit', rate, '--stats-file', stats)
    run.check_clean()
    s = run.summary
    records = run.records()
    assert s['records'] == len(events)
    assert len(records) == s['delivered']
    assert s['delivered'] + s['rate_limited'] == len(events)   # kept + limited = all
    assert s['balanced']
    duration = (events[-1][0] - events[0][0]) / 1e9
    assert abs(len(records) - rate * duration) <= 0.03 * rate * duration
    # Query and response of an exchange are kept or limited together.
    kept = kept_exchanges(records)
    assert all(directions == {False, True} for directions in kept.values())
    assert ' %d rate_limited' % s['rate_limited'] in run.stderr
    metrics = {s.name: s.value for f in text_string_to_metric_families(stats.read_text())
               for s in f.samples}
    assert metrics['dnsprobe_rate_limited_total'] == s['rate_limited']


def test_rate_limit_per_client_spares_the_quiet_one(dnsprobe, tmp_path):
    seconds, per_client = 10, 200
    noisy, quiet = '192.0.2.66', '192.0.2.7'
    events = exchanges({noisy: 2000, quiet: 50}, seconds)   # quiet: 100 records a second
    capture = tmp_path / 'noisy.pcap'
    write_pcap(capture, [(ns, frame) for ns, frame, _ in events])
    run = dnsprobe.replay([capture], '--rate-limit-per-client', per_client)
    run.check_clean()
    s = run.summary
    records = run.records()
    assert s['delivered'] + s['rate_limited'] == len(events) and s['balanced']
    by_client = {}
    for (client, _, _), directions in kept_exchanges(records).items():
        assert directions == {False, True}
        by_client[client] = by_client.get(client, 0) + 2
    sent = {c: sum(1 for _, _, info in events if info[0] == c) for c in (noisy, quiet)}
    assert by_client[quiet] == sent[quiet]
    assert abs(by_client[noisy] - per_client * seconds) <= 0.03 * per_client * seconds


# --------------------------------------------------------------------------
# SIGHUP reloads the rule files while the probe runs.
# --------------------------------------------------------------------------

class StderrLines:
    """The lines a running probe writes on stderr, read on a thread of their own."""

    def __init__(self, proc):
        self.lines = []
        self.cond = threading.Condition()
        self.thread = threading.Thread(target=self._read, args=(proc.stderr,), daemon=True)
        self.thread.start()

    def _read(self, stream):
        for raw in stream:
            with self.cond:
                self.lines.append(raw.decode('utf-8', 'replace'))
                self.cond.notify_all()

    def wait_for(self, text, timeout=30):
        with self.cond:
            ok = self.cond.wait_for(lambda: any(text in line for line in self.lines), timeout)
        assert ok, 'no %r on stderr:\n%s' % (text, ''.join(self.lines))
        return next(line for line in self.lines if text in line)


def wait_for_records(path, count, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and path.read_bytes().count(b'\n') >= count:
            return
        time.sleep(0.05)
    pytest.fail('fewer than %d records written' % count)


def classify_all(rules_text, names):
    rules = {}
    for line in rules_text.splitlines():
        domain, category = line.split()
        rules[domain] = category
    return [classify(rules, n) for n in names]


def test_sighup_reloads_rules_during_a_loop_replay(dnsprobe_bin, tmp_path, capture,
                                                   tshark_names):
    old_rules = 'facebook.com social\nfbcdn.net images\n'
    new_rules = 'facebook.com friends\ngoogle.com search\n'
    rules = tmp_path / 'rules.txt'
    rules.write_text(old_rules)
    out = tmp_path / 'out.jsonl'   # written as it goes: records reach it while the probe runs
    summary = tmp_path / 'summary.json'
    proc = subprocess.Popen([str(dnsprobe_bin), 'replay', str(capture), '--loop', '0',
                             '--speed', '20', '--classify', str(rules), '-o', '-',
                             '--summary-json', str(summary)],
                            stdout=open(out, 'wb'), stderr=subprocess.PIPE, env=run_env())
    err = StderrLines(proc)
    try:
        wait_for_records(out, 2000)
        # A file that does not parse: one line naming it and its line, the old rules stay.
        rules.write_text(old_rules + 'google.com search extra\n')
        proc.send_signal(signal.SIGHUP)
        line = err.wait_for('reload failed')
        assert '%s:3:' % rules in line and 'the old rules stay' in line
        wait_for_records(out, 4000)
        rules.write_text(new_rules)
        proc.send_signal(signal.SIGHUP)
        assert 'rules reloaded: 2 rules in 2 categories from 1 file' in \
            err.wait_for('rules reloaded')
        wait_for_records(out, out.read_bytes().count(b'\n') + 2000)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
    err.thread.join(timeout=10)
    assert proc.returncode == 0, ''.join(err.lines)
    assert not any(m in ''.join(err.lines) for m in SANITIZER_MARKS), ''.join(err.lines)
    s = json.loads(summary.read_text())
    records = [json.loads(line) for line in out.read_bytes().splitlines()]
    # Every record accounted: each message read is in the output once, in order, none lost.
    assert s['balanced'] and s['delivered'] == len(records) == s['records'] == s['packets']
    pass_names = ['.' if name == '<Root>' else name for _, name in tshark_names]
    names = [r['dns']['question']['name'] for r in records]
    assert names == (pass_names * (len(names) // len(pass_names) + 1))[:len(names)]
    got = [(r['dnsprobe']['category'], r['dnsprobe']['rule']) if 'category' in r['dnsprobe']
           else None for r in records]
    old, new = classify_all(old_rules, names), classify_all(new_rules, names)
    # The categories switch at one point: the old rules before it, the new ones after.
    switch = next(i for i, (g, o) in enumerate(zip(got, old)) if g != o)
    assert switch >= 4000
    assert got[:switch] == old[:switch] and got[switch:] == new[switch:]
    assert {'friends', 'search'} <= {g[0] for g in got[switch:] if g}


def test_rate_limit_follows_the_capture_clock_of_each_loop_pass(dnsprobe, tmp_path):
    seconds, rate = 5, 400
    events = exchanges({'192.0.2.20': 1000}, seconds)
    capture = tmp_path / 'loop.pcap'
    write_pcap(capture, [(ns, frame) for ns, frame, _ in events])
    one = dnsprobe.replay([capture], '--rate-limit', rate)
    two = dnsprobe.replay([capture], '--rate-limit', rate, '--loop', 2, '--speed', 1000)
    one.check_clean()
    two.check_clean()
    # The clock goes back at the second pass: its buckets start full again, so it keeps what
    # the first kept (the same packets at the same capture times), whatever the replay speed.
    assert two.summary['delivered'] == 2 * one.summary['delivered']
    assert two.summary['delivered'] + two.summary['rate_limited'] == 2 * len(events)
    duration = (events[-1][0] - events[0][0]) / 1e9
    assert abs(one.summary['delivered'] - rate * duration) <= 0.03 * rate * duration
