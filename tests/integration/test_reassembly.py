"""IP fragments, DNS over TCP and hostile input (issue 5): the captures of tests/captures/hostile
are replayed, and the records must be the DNS messages the captures were built from
(expected.json, written by scripts/make-hostile-captures): each message that a correct
reassembling probe must publish comes out exactly once, with its id, name, transport and the
capture time of the packet that completed it; nothing else comes out; malformed messages become
records marked malformed or are counted; the accounting balances. Each capture is also checked
against tshark's own reassembly, the independent oracle, where tshark decodes it.
Crash regression captures in tests/regressions are replayed too."""

import json
import subprocess

import pytest

from conftest import REPO
from tshark_oracle import epoch_to_ns, rfc3339_to_ns

HOSTILE = REPO / 'tests' / 'captures' / 'hostile'
REGRESSIONS = REPO / 'tests' / 'regressions'
TSHARK_PREFS = ['-o', 'ip.defragment:TRUE', '-o', 'ipv6.defragment:TRUE',
                '-o', 'tcp.desegment_tcp_streams:TRUE', '-o', 'tcp.reassemble_out_of_order:TRUE',
                '-o', 'dns.desegment_dns_messages:TRUE']


def load_expected():
    path = HOSTILE / 'expected.json'
    if not path.exists():
        return {}
    with open(path) as fh:
        return json.load(fh)['files']


EXPECTED = load_expected()
# The memory captures are replayed by test_bounded_memory.py; here only once each.
CAPTURES = sorted(EXPECTED)
COMPARED_WITH_TSHARK = [name for name in CAPTURES if not name.startswith('mem_')]


def ident(record):
    """(id, question name, query|answer) of one output record."""
    dns = record.get('dns', {})
    return dns.get('id'), dns.get('question', {}).get('name'), dns.get('type')


def expected_ident(entry):
    return entry['id'], entry['qname'], entry['type']


@pytest.fixture(scope='module')
def replayed(dnsprobe):
    """Each hostile capture replayed once: name -> Run."""
    cache = {}

    def run(name):
        if name not in cache:
            cache[name] = dnsprobe.replay([HOSTILE / name])
        return cache[name]
    return run


def test_hostile_captures_exist():
    assert CAPTURES, ('no tests/captures/hostile/expected.json: run '
                      '/usr/bin/python3 scripts/make-hostile-captures')
    for name in CAPTURES:
        assert (HOSTILE / name).is_file(), name


@pytest.mark.parametrize('name', CAPTURES)
def test_replay_is_clean_and_balanced(replayed, name):
    run = replayed(name)
    run.check_clean()
    assert run.summary is not None, 'no --summary-json written\n' + run.describe()
    assert run.summary['balanced'] is True, 'accounting does not balance: %s' % run.summary
    assert run.summary['packets'] == EXPECTED[name]['packets']


@pytest.mark.parametrize('name', CAPTURES)
def test_each_message_is_one_record(replayed, name):
    """Every message that must come out does, exactly once, with the right fields."""
    run = replayed(name)
    run.check_clean()
    records = run.records()
    for want in EXPECTED[name]['records']:
        found = [r for r in records if ident(r) == expected_ident(want)]
        assert len(found) == 1, ('%s: message id 0x%04x %s (%s) must be exactly one record, '
                                 'found %d' % (name, want['id'], want['qname'], want['type'],
                                               len(found)))
        got = found[0]
        where = '%s: id 0x%04x %s' % (name, want['id'], want['qname'])
        assert got['network']['transport'] == want['transport'], where
        assert got['network']['type'] == want['network_type'], where
        assert got['dnsprobe']['size'] == want['size'], where
        assert got['@timestamp'] == want['timestamp'], (
            where + ': the record must carry the capture time of the packet that completed '
            'the message')
        assert 'malformed' not in got['dnsprobe'], where


@pytest.mark.parametrize('name', CAPTURES)
def test_nothing_else_comes_out(replayed, name):
    """Messages that must not come out do not; optional ones at most once; no stray records."""
    run = replayed(name)
    run.check_clean()
    records = run.records()
    spec = EXPECTED[name]
    for gone in spec['absent']:
        found = [r for r in records if ident(r) == expected_ident(gone)]
        assert not found, '%s: id 0x%04x %s must not come out (%s)' % (
            name, gone['id'], gone['qname'], spec['description'])
    for maybe in spec['optional']:
        found = [r for r in records if ident(r) == expected_ident(maybe)]
        assert len(found) <= 1, '%s: id 0x%04x came out %d times' % (name, maybe['id'], len(found))
    known = {expected_ident(e) for e in spec['records'] + spec['optional']}
    malformed_ids = {m['id'] for m in spec['malformed']}
    stray = [r for r in records if ident(r) not in known and r['dns']['id'] not in malformed_ids]
    assert not stray, '%s: records for no message of the capture: %s' % (
        name, [ident(r) for r in stray][:10])


@pytest.mark.parametrize('name', [n for n in CAPTURES if EXPECTED[n]['malformed'] or
                                  EXPECTED[n].get('malformed_at_least')])
def test_malformed_messages_are_marked_or_counted(replayed, name):
    run = replayed(name)
    run.check_clean()
    records = run.records()
    spec = EXPECTED[name]
    not_published = 0
    for bad in spec['malformed']:
        found = [r for r in records if r['dns']['id'] == bad['id']]
        assert len(found) <= 1, '%s: malformed message 0x%04x came out %d times' % (
            name, bad['id'], len(found))
        if not found:
            not_published += 1
            continue
        got = found[0]
        what = '%s: 0x%04x (%s)' % (name, bad['id'], bad['what'])
        assert got['dnsprobe'].get('malformed'), what + ': the record must say it is malformed'
        assert got['@timestamp'] == bad['timestamp'], what
        assert got['network']['transport'] == bad.get('transport', 'udp'), what
        if 'qname' in bad:
            assert got['dns'].get('question', {}).get('name') == bad['qname'], (
                what + ': the intact question must still be in the record')
    at_least = max(not_published, spec.get('malformed_at_least', 0))
    assert run.summary['malformed'] >= at_least, (
        '%s: %d malformed messages were not published, so they must be counted as malformed: %s'
        % (name, at_least, run.summary))

# --------------------------------------------------------------------------
# tshark, the independent oracle.
# --------------------------------------------------------------------------


def find_field(tree, field):
    """The first value of field anywhere in one protocol tree of tshark's JSON."""
    if isinstance(tree, dict):
        if field in tree:
            return tree[field]
        for value in tree.values():
            found = find_field(value, field)
            if found is not None:
                return found
    elif isinstance(tree, list):
        for value in tree:
            found = find_field(value, field)
            if found is not None:
                return found
    return None


def tshark_messages(path):
    """Every DNS message tshark decodes after its own reassembly: (ident, time in ns, transport).
    The full JSON tree is read (not -e fields), so that each message of a frame stays whole even
    when one of them is malformed."""
    cmd = ['tshark', '-n', '-r', str(path), '-Y', 'dns', '-T', 'json', '--no-duplicate-keys',
           '-J', 'frame dns'] + TSHARK_PREFS
    proc = subprocess.run(cmd, capture_output=True, timeout=300)
    assert proc.returncode == 0, proc.stderr.decode('utf-8', 'replace')
    text = proc.stdout.decode('utf-8', 'replace').strip()
    out = []
    for frame in (json.loads(text) if text else []):
        layers = frame['_source']['layers']
        transport = 'tcp' if 'tcp' in layers['frame']['frame.protocols'].split(':') else 'udp'
        ts = epoch_to_ns(layers['frame']['frame.time_epoch'])
        messages = layers.get('dns', [])
        for dns in (messages if isinstance(messages, list) else [messages]):
            if 'dns.id' not in dns:
                continue
            kind = 'answer' if find_field(dns, 'dns.flags.response') == '1' else 'query'
            name = find_field(dns, 'dns.qry.name')
            out.append(((int(dns['dns.id'], 16), name, kind), ts, transport))
    return out


@pytest.mark.parametrize('name', COMPARED_WITH_TSHARK)
def test_capture_agrees_with_tshark(name):
    """The captures say what expected.json says they do, as far as tshark can tell; the
    differences README.md lists are the only ones."""
    spec = EXPECTED[name]
    seen = tshark_messages(HOSTILE / name)
    differs = spec.get('tshark', {})
    tshark_extra = {expected_ident(e) for e in differs.get('extra', [])}
    tshark_missing = {expected_ident(e) for e in differs.get('missing', [])}
    tshark_time = {expected_ident(e): e['timestamp'] for e in differs.get('timestamps', [])}
    for want in spec['records']:
        key = expected_ident(want)
        hits = [s for s in seen if s[0] == key]
        if key in tshark_missing:
            assert not hits, '%s: tshark now decodes %s: update expected.json' % (name, key)
            continue
        assert len(hits) == 1, '%s: tshark sees %s %d times' % (name, key, len(hits))
        when = tshark_time.get(key, want['timestamp'])
        assert hits[0][1] == rfc3339_to_ns(when), (
            '%s: tshark completes %s at %s, expected.json says %s' % (
                name, key, hits[0][1], when))
        assert hits[0][2] == want['transport'], name
    for gone in spec['absent']:
        key = expected_ident(gone)
        hits = [s for s in seen if s[0] == key]
        if key in tshark_extra:
            assert hits, '%s: tshark no longer decodes %s: update expected.json' % (name, key)
        else:
            assert not hits, '%s: tshark decodes %s, which must not come out' % (name, key)

# --------------------------------------------------------------------------
# Crash regressions found by fuzzing.
# --------------------------------------------------------------------------


REGRESSION_CAPTURES = sorted(p.name for p in REGRESSIONS.glob('*.pcap')) if REGRESSIONS.is_dir() \
    else []


@pytest.mark.parametrize('name', REGRESSION_CAPTURES)
def test_regression_capture_replays_cleanly(dnsprobe, name):
    run = dnsprobe.replay([REGRESSIONS / name])
    run.check_clean()
    run.records()
    assert run.summary['balanced'] is True, run.summary
