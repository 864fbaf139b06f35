# test_conformance: replays every capture of the public corpus
# (../shared/corpus/pcap) with dnsprobe and compares it with tshark.
#
# Per file (test_corpus_file): exit 0, no crash or sanitizer report, every
# line strict JSON with a valid record shape, a balanced summary, and as many
# packets read as tshark reads.
#
# Over the whole corpus (test_corpus_agreement): every DNS message over UDP or
# TCP port 53 that tshark decodes, with its own IP and TCP reassembly
# ('dns && (udp.port==53 || tcp.port==53) && !icmp && !icmpv6'; mDNS and LLMNR
# are not "dns" to tshark) is matched with a dnsprobe record by (timestamp, id,
# source, source port, destination, destination port, transport); pairs
# left over are matched without the timestamp, in order, and count as a
# 'timestamp' disagreement.  A matched pair agrees when QR, qname, qtype and
# (on responses) rcode agree; see tshark_oracle for how tshark's names and
# numbers are normalised.  In tunnels the innermost IP/UDP layer is used.
#   agreement = agreeing pairs / (tshark messages + dnsprobe records tshark lacks)
# must be >= 0.99.  A per-file table of disagreements is printed (run pytest
# with -s to see it) and written to build/conformance-report.txt; messages
# dnsprobe missed are sorted by cause (IP fragments, tunnel type, other) and
# files with DNS that dnsprobe missed entirely are listed (docs/conformance.md).

import collections
import concurrent.futures
import os
import pathlib

import pytest

import tshark_oracle as oracle

REPO = pathlib.Path(__file__).resolve().parents[2]
CORPUS_PCAP = REPO.parent / 'shared' / 'corpus' / 'pcap'
FILES = sorted(p.name for p in CORPUS_PCAP.iterdir()) if CORPUS_PCAP.is_dir() else []
REPORT = REPO / 'build' / 'conformance-report.txt'
THRESHOLD = 0.99
BUCKETS = ('records', 'not_dns', 'malformed', 'tcp', 'ip_fragments', 'unsupported_link')
TUNNELS = ('vxlan', 'geneve', 'gre', 'pppoes', 'ppp', 'mpls', 'gtp', 'l2tp', 'teredo', 'erspan')


def missed_cause(msg):
    """Why dnsprobe may not have seen a message tshark decoded."""
    if msg['reassembled']:
        return 'ip-fragments-reassembled'
    if msg['fragment']:
        return 'ip-fragment-not-reassembled'
    protos = msg['protocols'].split(':')
    for name in TUNNELS:
        if name in protos:
            return 'tunnel:' + name
    if sum(p in ('ip', 'ipv6') for p in protos) > 1:
        return 'tunnel:ip-in-ip'
    if msg['snaplen_cut']:
        return 'frame-cut-by-snaplen'
    if msg['udp_too_long']:
        return 'udp-length-beyond-ip-payload'
    if msg['size'] is not None and msg['size'] < 12:
        return 'shorter-than-dns-header'
    return 'other'


class FileResult:
    """dnsprobe and tshark on one corpus file, and how they compare."""

    def __init__(self, name):
        self.name = name
        self.run = None
        self.records = []
        self.json_errors = []
        self.shape_problems = []
        self.tshark_packets = 0
        self.messages = []
        self.agreeing = 0
        self.disagreeing = []     # (frame, [(field, probe value, tshark value)])
        self.missing = []         # tshark messages without a record
        self.extra = []           # records tshark has no message for

    @property
    def total(self):
        return len(self.messages) + len(self.extra)


def probe_value(rec, field):
    return {'qr': oracle.get(rec, 'dns.type'), 'qname': oracle.get(rec, 'dns.question.name'),
            'qtype': oracle.get(rec, 'dns.question.type'),
            'rcode': oracle.get(rec, 'dns.response_code'),
            'timestamp': rec.get('@timestamp')}[field]


def tshark_value(msg, field):
    return {'qr': 'answer' if msg['qr'] else 'query', 'qname': msg['qname'], 'qtype': msg['qtype'],
            'rcode': msg['rcode'], 'timestamp': msg['time_ns']}[field]


def compare(result):
    """Pair records with tshark messages and count agreements."""
    by_key = collections.defaultdict(list)
    for msg in result.messages:
        by_key[oracle.tshark_key(msg)].append(msg)
    unpaired = []
    pairs = []
    for rec in result.records:
        try:
            key = oracle.probe_key(rec)
        except (ValueError, KeyError, TypeError):
            key = None
        if key is not None and by_key.get(key):
            pairs.append((rec, by_key[key].pop(0), []))
        else:
            unpaired.append(rec)
    # second pass: same id and endpoints, in order, timestamps differ
    by_key_no_time = collections.defaultdict(list)
    for msgs in by_key.values():
        for msg in msgs:
            by_key_no_time[oracle.tshark_key(msg)[1:]].append(msg)
    for msgs in by_key_no_time.values():
        msgs.sort(key=lambda m: m['frame'])
    for rec in unpaired:
        key = (oracle.get(rec, 'dns.id'), oracle.canonical_ip(oracle.get(rec, 'source.ip')),
               oracle.get(rec, 'source.port'), oracle.canonical_ip(oracle.get(rec, 'destination.ip')),
               oracle.get(rec, 'destination.port'), oracle.get(rec, 'network.transport'))
        if by_key_no_time.get(key):
            pairs.append((rec, by_key_no_time[key].pop(0), ['timestamp']))
        else:
            result.extra.append(rec)
    paired_frames = {id(msg) for _rec, msg, _d in pairs}
    result.missing = [m for m in result.messages if id(m) not in paired_frames]
    for rec, msg, diffs in pairs:
        diffs = diffs + oracle.compare_tuple(rec, msg)
        if diffs:
            result.disagreeing.append((msg['frame'], [(f, probe_value(rec, f), tshark_value(msg, f))
                                                      for f in diffs]))
        else:
            result.agreeing += 1


def analyse(dnsprobe, path):
    result = FileResult(path.name)
    result.run = dnsprobe.replay([path])
    for n, line in enumerate(result.run.lines, 1):
        try:
            rec = oracle.strict_json_line(line)
        except ValueError as e:
            result.json_errors.append('line %d: %s' % (n, e))
            continue
        result.records.append(rec)
        result.shape_problems += ['line %d: %s' % (n, p) for p in oracle.record_shape_problems(rec)]
    result.tshark_packets = oracle.count_packets(path)
    result.messages = oracle.dns_messages(path)
    compare(result)
    return result


@pytest.fixture(scope='session')
def corpus_results(corpus_dir, dnsprobe):
    """name -> FileResult, computed once per file and shared by the tests."""
    cache = {}

    def get(names):
        todo = [n for n in names if n not in cache]
        workers = max(1, min(len(todo), os.cpu_count() or 1))
        with concurrent.futures.ThreadPoolExecutor(workers) as pool:
            for name, res in zip(todo, pool.map(lambda n: analyse(dnsprobe, corpus_dir / 'pcap' / n), todo)):
                cache[name] = res
        return [cache[n] for n in names]
    return get


@pytest.mark.parametrize('name', FILES or ['corpus-missing'])
def test_corpus_file(corpus_results, name):
    res = corpus_results([name])[0]
    res.run.check_clean()
    assert not res.json_errors, 'invalid JSON output:\n' + '\n'.join(res.json_errors[:20])
    assert not res.shape_problems, 'bad records:\n' + '\n'.join(res.shape_problems[:20])
    s = res.run.summary
    assert s is not None, 'no summary written\n' + res.run.describe()
    assert s['packets'] + s['reassembled_datagrams'] + s['tcp_messages'] == \
        sum(s.get(k, 0) for k in BUCKETS), 'summary does not balance: %r' % s
    assert s['records'] == len(res.records), 'summary records %d, %d lines printed' % (
        s['records'], len(res.records))
    assert s['packets'] == res.tshark_packets, 'dnsprobe read %d packets, tshark %d' % (
        s['packets'], res.tshark_packets)


def format_report(results):
    total = sum(r.total for r in results)
    agreeing = sum(r.agreeing for r in results)
    agreement = agreeing / total if total else 1.0
    causes = collections.Counter(missed_cause(m) for r in results for m in r.missing)
    fields = collections.Counter(f for r in results for _fr, d in r.disagreeing for f, _p, _t in d)
    lines = [
        'dnsprobe conformance against tshark on %d corpus files' % len(results),
        'agreement = %d / %d = %.4f (threshold %.2f)' % (agreeing, total, agreement, THRESHOLD),
        'tshark DNS/UDP-53 messages %d; dnsprobe records %d; paired but disagreeing %d; '
        'missed by dnsprobe %d; extra in dnsprobe %d' % (
            sum(len(r.messages) for r in results), sum(len(r.records) for r in results),
            sum(len(r.disagreeing) for r in results), sum(len(r.missing) for r in results),
            sum(len(r.extra) for r in results)),
        'missed by cause: %s' % (dict(causes.most_common()) or '-'),
        'disagreeing fields: %s' % (dict(fields.most_common()) or '-'),
        '',
        '%-55s %13s %7s %7s %7s %7s %7s %7s' % ('file', 'pkts ts/dp', 'tshark', 'records', 'agree',
                                               'differ', 'missed', 'extra'),
    ]
    details = []
    for r in results:
        probe_pkts = r.run.summary['packets'] if r.run.summary else '?'
        flag = ''
        if r.messages and r.agreeing + len(r.disagreeing) == 0:
            flag = '  MISSED ENTIRELY'
        if r.run.rc != 0:
            flag += '  EXIT %d' % r.run.rc
        lines.append('%-55s %6s/%-6s %7d %7d %7d %7d %7d %7d%s' % (
            r.name[:55], r.tshark_packets, probe_pkts, len(r.messages), len(r.records), r.agreeing,
            len(r.disagreeing), len(r.missing), len(r.extra), flag))
        if r.disagreeing or r.missing or r.extra:
            details.append('%s:' % r.name)
            if r.missing:
                c = collections.Counter(missed_cause(m) for m in r.missing)
                details.append('  missed %d (%s); frames %s' % (
                    len(r.missing), ', '.join('%s %d' % kv for kv in c.most_common()),
                    ' '.join(str(m['frame']) for m in r.missing[:12])))
            for frame, diffs in r.disagreeing[:5]:
                details.append('  frame %d: %s' % (frame, '; '.join(
                    '%s dnsprobe=%.80r tshark=%.80r' % d for d in diffs)))
            if len(r.disagreeing) > 5:
                details.append('  ... %d more disagreeing messages' % (len(r.disagreeing) - 5))
            for rec in r.extra[:3]:
                details.append('  extra record: %s id=%s %s:%s -> %s:%s' % (
                    rec.get('@timestamp'), oracle.get(rec, 'dns.id'), oracle.get(rec, 'source.ip'),
                    oracle.get(rec, 'source.port'), oracle.get(rec, 'destination.ip'),
                    oracle.get(rec, 'destination.port')))
    missed_files = [r.name for r in results if r.messages and r.agreeing + len(r.disagreeing) == 0]
    lines += ['', 'Files whose DNS dnsprobe missed entirely: %s' % (', '.join(missed_files) or 'none'),
              '', 'Disagreements per file:'] + (details or ['none'])
    return agreement, '\n'.join(lines) + '\n'


def test_corpus_agreement(corpus_results):
    results = corpus_results(FILES)
    agreement, report = format_report(results)
    REPORT.parent.mkdir(exist_ok=True)
    REPORT.write_text(report)
    print('\n' + report)
    head = '\n'.join(report.splitlines()[:5])
    assert agreement >= THRESHOLD, '%s\n(full table: %s)' % (head, REPORT)
