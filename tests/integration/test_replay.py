# test_replay: runs `dnsprobe replay` on the synthetic captures in
# tests/captures/ and checks what it prints against two independent sources:
# expected.json (the values scripts/make-test-captures built each packet from)
# and tshark's decoding of the same file.  Also checks the summary counts,
# strict JSON output, error handling (exit 2, one stderr line, no output file),
# --output - versus --output PATH, several files in one run, and --dns-port.
#
# Two tests need no binary: the generator reproduces the checked-in captures
# byte for byte, and tshark agrees with expected.json.

import json
import pathlib
import subprocess

import pytest

import tshark_oracle as oracle
from conftest import untimed

REPO = pathlib.Path(__file__).resolve().parents[2]
CAPTURES = REPO / 'tests' / 'captures'

with open(CAPTURES / 'expected.json') as _fh:
    EXPECTED = json.load(_fh)['files']

READABLE = sorted(n for n, e in EXPECTED.items() if e['exit'] == 0)
NOT_CAPTURES = sorted(n for n, e in EXPECTED.items() if e['exit'] != 0)
BUCKETS = ('records', 'not_dns', 'malformed', 'tcp', 'ip_fragments', 'unsupported_link')


def decode_as(name):
    """tshark needs telling that non-53 DNS ports carry DNS."""
    return ['udp.port==%s,dns' % p for p in EXPECTED[name].get('dns_port_runs', {})]


def expected_runs(name):
    """(extra dnsprobe args, expected summary, expected records) for each way
    the file is replayed: the default run, plus one per extra DNS port."""
    e = EXPECTED[name]
    runs = [([], e['summary'], e['records'])]
    for port, sub in sorted(e.get('dns_port_runs', {}).items()):
        runs.append((['--dns-port', port], sub['summary'], sub['records']))
    return runs


def all_expected_records(name):
    """Every record any run of the file should produce, by frame number."""
    out = {}
    for _args, _summary, records in expected_runs(name):
        for r in records:
            out[r['frame']] = r
    return out

# --------------------------------------------------------------------------
# Comparing a record with expected.json.
# --------------------------------------------------------------------------


def expected_problems(rec, exp):
    """Differences between a dnsprobe record and one expected.json entry."""
    problems = []

    def walk(path, want, got):
        if isinstance(want, dict):
            if not isinstance(got, dict):
                problems.append('%s: expected an object, got %r' % (path, got))
                return
            for key, value in want.items():
                sub = path + '.' + key if path else key
                if key not in got:
                    problems.append('%s: missing (expected %r)' % (sub, value))
                else:
                    walk(sub, value, got[key])
        elif path == 'dns.header_flags':
            if not isinstance(got, list) or sorted(got) != sorted(want) or len(set(got)) != len(got):
                problems.append('%s: expected %r (any order), got %r' % (path, want, got))
        elif path == 'dnsprobe.flow_key':
            if not isinstance(got, str) or got.lower() != want:
                problems.append('%s: expected %s, got %r' % (path, want, got))
        elif type(want) is not type(got) or want != got:
            problems.append('%s: expected %r, got %r' % (path, want, got))

    want = exp['expect']
    walk('', want, rec)
    get = oracle.get
    if exp['malformed']:
        if not isinstance(get(rec, 'dnsprobe.malformed'), str) or not get(rec, 'dnsprobe.malformed'):
            problems.append('dnsprobe.malformed: expected a reason string, got %r'
                            % get(rec, 'dnsprobe.malformed'))
        return problems

    # a well-formed message: optional fields must be absent unless expected
    absent_unless = ['dnsprobe.malformed', 'dnsprobe.edns', 'dnsprobe.edns.ecs',
                     'dns.response_code', 'dns.question', 'network.vlan']
    if 'inner_vlan_one_of' in exp['check']:
        inner = get(rec, 'network.inner.vlan.id')
        if inner not in exp['check']['inner_vlan_one_of']:
            problems.append('network.inner.vlan.id: expected one of %r, got %r'
                            % (exp['check']['inner_vlan_one_of'], inner))
    else:
        absent_unless.append('network.inner')
    for field in absent_unless:
        if get(want, field) is None and get(rec, field) is not None:
            problems.append('%s: should be absent, got %r' % (field, get(rec, field)))
    if get(want, 'dns.answers') is None and get(rec, 'dns.answers') not in (None, []):
        problems.append('dns.answers: expected none, got %r' % get(rec, 'dns.answers'))
    return problems


def check_run_against_expected(run, summary, records, label):
    """Summary counts and every record of one run against expected.json."""
    run.check_clean()
    got = run.records()
    assert run.summary is not None, 'no --summary-json written\n' + run.describe()
    s = run.summary
    for key in ('packets',) + BUCKETS:
        assert s.get(key) == summary[key], '%s: summary %s = %r, expected %r (summary %r)' % (
            label, key, s.get(key), summary[key], s)
    assert s['packets'] + s['reassembled_datagrams'] + s['tcp_messages'] == \
        sum(s[k] for k in BUCKETS), 'summary does not balance: %r' % s
    assert sum(s['malformed_reasons'].values()) == s['malformed'], \
        'malformed_reasons %r do not add up to malformed %d' % (s['malformed_reasons'], s['malformed'])
    assert len(got) == len(records), '%s: %d records, expected %d' % (label, len(got), len(records))
    problems = []
    for rec, exp in zip(got, records):
        where = '%s frame %d' % (label, exp['frame'])
        problems += ['%s: %s' % (where, p) for p in oracle.record_shape_problems(rec)]
        problems += ['%s: %s' % (where, p) for p in expected_problems(rec, exp)]
    assert not problems, '\n'.join(problems)

# --------------------------------------------------------------------------
# Tests that need no binary.
# --------------------------------------------------------------------------


def test_generator_reproduces_captures(tmp_path):
    """scripts/make-test-captures rebuilds every checked-in file byte for byte."""
    proc = subprocess.run(['/usr/bin/python3', str(REPO / 'scripts' / 'make-test-captures'),
                           '--outdir', str(tmp_path)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    made = sorted(p.name for p in tmp_path.iterdir())
    checked_in = sorted(p.name for p in CAPTURES.iterdir() if p.is_file())
    assert made == checked_in, 'generated and checked-in file lists differ'
    differ = [n for n in made if (tmp_path / n).read_bytes() != (CAPTURES / n).read_bytes()]
    assert not differ, 'regenerate tests/captures: these differ from the generator output: %s' % differ


@pytest.mark.parametrize('name', READABLE)
def test_tshark_agrees_with_expected(name):
    """The captures hold what expected.json says (checked by tshark, no dnsprobe)."""
    e = EXPECTED[name]
    assert oracle.count_packets(CAPTURES / name) == e['summary']['packets']
    msgs = {m['frame']: m for m in oracle.dns_messages(CAPTURES / name, 'dns && (udp || tcp) && !icmp',
                                                       decode_as=decode_as(name))}
    problems = []
    for frame, exp in sorted(all_expected_records(name).items()):
        if frame not in msgs:
            problems.append('frame %d: tshark decodes no DNS message' % frame)
            continue
        for p in oracle.tshark_field_problems(exp['expect'], msgs[frame],
                                              exp['check'].get('inner_vlan_one_of')):
            problems.append('frame %d: %s' % (frame, p))
    assert not problems, '\n'.join(problems)

# --------------------------------------------------------------------------
# dnsprobe on each capture.
# --------------------------------------------------------------------------


@pytest.mark.parametrize('name', READABLE)
def test_replay_matches_expected(dnsprobe, name):
    for args, summary, records in expected_runs(name):
        run = dnsprobe.replay([CAPTURES / name], *args)
        check_run_against_expected(run, summary, records, ' '.join([name] + args))


@pytest.mark.parametrize('name', READABLE)
def test_replay_agrees_with_tshark(dnsprobe, name):
    """Every record has a tshark DNS message with the same timestamp, id and
    endpoints, and they agree on every field dnsprobe printed."""
    msgs = oracle.dns_messages(CAPTURES / name, 'dns && (udp || tcp) && !icmp', decode_as=decode_as(name))
    by_key = {oracle.tshark_key(m): m for m in msgs}
    problems = []
    for args, _summary, _records in expected_runs(name):
        run = dnsprobe.replay([CAPTURES / name], *args)
        run.check_clean()
        for n, rec in enumerate(run.records(), 1):
            try:
                msg = by_key.get(oracle.probe_key(rec))
            except (ValueError, KeyError) as e:
                problems.append('record %d: %s' % (n, e))
                continue
            if msg is None:
                problems.append('record %d: no tshark DNS message with key %r' % (n, oracle.probe_key(rec)))
                continue
            check = all_expected_records(name).get(msg['frame'], {}).get('check', {})
            for p in oracle.tshark_field_problems(rec, msg, check.get('inner_vlan_one_of')):
                problems.append('record %d (frame %d): %s' % (n, msg['frame'], p))
    assert not problems, '\n'.join(problems)


def test_odd_name_is_escaped(dnsprobe):
    """The name with space, dot-in-label, quote, backslash, 0x00, 0xff, 0x7f:
    valid JSON, printable ASCII only, and unescaping gives the wire labels back."""
    run = dnsprobe.replay([CAPTURES / 'names.pcap'])
    run.check_clean()
    for line in run.lines:
        assert all(0x20 <= b < 0x7f for b in line), 'raw control or non-ASCII byte in %r' % line
    records = run.records()
    odd = [r for r in records if r['dns']['id'] == 0x0d00]
    assert len(odd) == 2
    labels = [bytes.fromhex(h) for h in all_expected_records('names.pcap')[1]['check']['name_labels_hex']]
    for rec in odd:
        names = [rec['dns']['question']['name']] + [a['name'] for a in rec['dns'].get('answers', [])]
        for name in names:
            for escape in ('\\000', '\\255', '\\127', 'dot\\.in', 'back\\\\slash'):
                assert escape in name, '%r not in %r' % (escape, name)
            assert oracle.unescape_name(name) == labels, name


def test_output_stdout_and_file_identical(dnsprobe, tmp_path):
    files = [CAPTURES / n for n in READABLE]
    to_stdout = dnsprobe.replay(files, output='-')
    to_stdout.check_clean()
    path = tmp_path / 'out.jsonl'
    to_file = dnsprobe.replay(files, output=path)
    to_file.check_clean()
    assert to_file.stdout == b'', 'with --output PATH nothing should go to stdout'
    assert path.read_bytes() == to_stdout.stdout
    assert to_stdout.stdout.endswith(b'\n')
    assert untimed(to_stdout.summary) == untimed(to_file.summary)


def test_several_files_in_one_run(dnsprobe):
    """One run over all captures = the single runs concatenated, summaries added."""
    together = dnsprobe.replay([CAPTURES / n for n in READABLE])
    together.check_clean()
    output, totals = b'', dict.fromkeys(('packets',) + BUCKETS, 0)
    for name in READABLE:
        single = dnsprobe.replay([CAPTURES / name])
        single.check_clean()
        output += single.output
        for key in totals:
            totals[key] += single.summary[key]
    assert [json.loads(l) for l in together.lines] == [json.loads(l) for l in output.splitlines()]
    for key, value in totals.items():
        assert together.summary[key] == value, key
    assert totals['packets'] == sum(EXPECTED[n]['summary']['packets'] for n in READABLE)


def test_dns_port_5353(dnsprobe):
    name = 'udp_port_5353.pcap'
    default = dnsprobe.replay([CAPTURES / name])
    check_run_against_expected(default, EXPECTED[name]['summary'], [], name)
    sub = EXPECTED[name]['dns_port_runs']['5353']
    check_run_against_expected(dnsprobe.replay([CAPTURES / name], '--dns-port', '5353'),
                               sub['summary'], sub['records'], name + ' --dns-port 5353')
    # both ports at once, over two files
    both = dnsprobe.replay([CAPTURES / 'eth_ipv4_udp_edns.pcap', CAPTURES / name],
                           '--dns-port', '53', '--dns-port', '5353')
    first = EXPECTED['eth_ipv4_udp_edns.pcap']
    summary = {k: first['summary'][k] + sub['summary'][k] for k in ('packets',) + BUCKETS}
    check_run_against_expected(both, summary, first['records'] + sub['records'],
                               'two files, --dns-port 53 --dns-port 5353')


def test_empty_capture(dnsprobe):
    run = dnsprobe.replay([CAPTURES / 'empty.pcap'])
    run.check_clean()
    assert run.output == b''
    assert run.summary['packets'] == 0

# --------------------------------------------------------------------------
# Errors: exit 2, exactly one line on stderr, no output file left behind.
# --------------------------------------------------------------------------


GOOD = CAPTURES / 'eth_ipv4_udp_edns.pcap'
ERROR_CASES = {
    'missing-file': [CAPTURES / 'no-such-file.pcap'],
    'missing-after-good': [GOOD, CAPTURES / 'no-such-file.pcap'],
    'text-file': [CAPTURES / 'not_a_capture.txt'],
    'text-after-good': [GOOD, CAPTURES / 'not_a_capture.txt'],
    'zero-byte-file': [CAPTURES / 'zero_bytes.pcap'],
    'unknown-flag': [GOOD, '--no-such-flag'],
    'dns-port-70000': [GOOD, '--dns-port', '70000'],
    'dns-port-abc': [GOOD, '--dns-port', 'abc'],
    'dns-port-negative': [GOOD, '--dns-port', '-1'],
    'dns-port-empty': [GOOD, '--dns-port', ''],
    'dns-port-no-value': [GOOD, '--dns-port'],
}


@pytest.mark.parametrize('case', sorted(ERROR_CASES))
def test_error_exit_2(dnsprobe, tmp_path, case):
    out, summary = tmp_path / 'out.jsonl', tmp_path / 'summary.json'
    args = ['replay', '--output', out, '--summary-json', summary] + ERROR_CASES[case]
    run = dnsprobe.raw(args)
    assert run.rc == 2, 'expected exit 2\n' + run.describe()
    assert run.sanitizer_report() is None, run.describe()
    lines = run.stderr.rstrip('\n').split('\n')
    assert len(lines) == 1 and lines[0].strip(), 'expected exactly one stderr line, got %r' % run.stderr
    assert not out.exists(), 'output file left behind at %s' % out
    assert not summary.exists(), 'summary file left behind at %s' % summary
    assert run.stdout == b''
