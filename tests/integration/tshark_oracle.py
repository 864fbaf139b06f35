# tshark_oracle: shared helpers that ask tshark what a capture holds, and turn
# tshark's view and dnsprobe's records into comparable tuples.
#
# tshark is the independent decoder both test files compare dnsprobe with.
# Things to know about its output (TShark 4.0):
#   - we use "-T json -e FIELD", which gives every field as a list of strings,
#     so names containing the "," separator of "-T fields" cannot break parsing;
#   - in tunnels (GRE, 6in4, VXLAN, ...) ip.src, udp.srcport, ... hold one value
#     per layer; we use the innermost (last) one, and pick IPv4 or IPv6 from the
#     last "ip"/"ipv6" entry of frame.protocols;
#   - dns.id, dns.qry.class and dns.resp.ext_rcode are hex strings, dns.qry.type
#     and dns.flags.rcode are decimal;
#   - names are printed lossily: "<Root>" for the root, bytes < 0x20 and 0x7f as
#     octal escapes (\000, \177), bytes >= 0x80 decoded as UTF-8 (U+FFFD when
#     invalid), dots and backslashes inside labels not escaped; names it cannot
#     decode are shown as "<...>" placeholders.  probe_name_as_tshark() renders
#     a dnsprobe name the same way so the two can be compared.

import calendar
import ipaddress
import json
import re
import subprocess
import unicodedata

import dns.rdatatype

TSHARK = 'tshark'

FIELDS = [
    'frame.number', 'frame.time_epoch', 'frame.protocols', 'frame.len', 'frame.cap_len',
    'ip.src', 'ip.dst', 'ipv6.src', 'ipv6.dst', 'udp.srcport', 'udp.dstport', 'udp.length',
    'tcp.srcport', 'tcp.dstport', 'dns.length',
    'ip.len', 'ip.hdr_len', 'ip.flags.mf', 'ip.frag_offset', 'ipv6.plen', 'ipv6.fraghdr.offset',
    'vlan.id', 'ieee8021ad.id',
    'ip.reassembled.length', 'ipv6.reassembled.length', '_ws.malformed',
    'dns.id', 'dns.flags.response', 'dns.flags.opcode', 'dns.flags.rcode', 'dns.resp.ext_rcode',
    'dns.flags.authoritative', 'dns.flags.truncated', 'dns.flags.recdesired',
    'dns.flags.recavail', 'dns.flags.authenticated', 'dns.flags.checkdisable', 'dns.resp.z.do',
    'dns.count.queries', 'dns.count.answers', 'dns.count.auth_rr', 'dns.count.add_rr',
    'dns.count.zones', 'dns.count.prerequisites', 'dns.count.updates',
    'dns.qry.name', 'dns.qry.type', 'dns.qry.class',
    'dns.rr.udp_payload_size', 'dns.resp.z.do', 'dns.resp.edns0_version',
    'dns.opt.client.family', 'dns.opt.client.netmask', 'dns.opt.client.addr4',
    'dns.opt.client.addr6',
]

FLAG_FIELDS = [('AA', 'dns.flags.authoritative'), ('TC', 'dns.flags.truncated'),
               ('RD', 'dns.flags.recdesired'), ('RA', 'dns.flags.recavail'),
               ('AD', 'dns.flags.authenticated'), ('CD', 'dns.flags.checkdisable')]

# Names dnsprobe uses (the spec); numbers not listed print as "RCODEnnn" / "nnn".
RCODES = {0: 'NOERROR', 1: 'FORMERR', 2: 'SERVFAIL', 3: 'NXDOMAIN', 4: 'NOTIMP',
          5: 'REFUSED', 6: 'YXDOMAIN', 7: 'YXRRSET', 8: 'NXRRSET', 9: 'NOTAUTH',
          10: 'NOTZONE', 11: 'DSOTYPENI', 16: 'BADVERS', 17: 'BADKEY', 18: 'BADTIME',
          19: 'BADMODE', 20: 'BADNAME', 21: 'BADALG', 22: 'BADTRUNC', 23: 'BADCOOKIE'}
OPCODES = {0: 'QUERY', 1: 'IQUERY', 2: 'STATUS', 4: 'NOTIFY', 5: 'UPDATE', 6: 'DSO'}
CLASSES = {1: 'IN', 3: 'CH', 4: 'HS', 254: 'NONE', 255: 'ANY'}


def rcode_text(n):
    return RCODES.get(n, 'RCODE%d' % n)


def opcode_text(n):
    return OPCODES.get(n, 'OPCODE%d' % n)


def qtype_text(n):
    """Mnemonic from dnspython ("TYPEnnn" for unknown types).  ldns, which the
    spec follows, differs for ten rare types (EID, NIMLOC, ATMA, SINK, TALINK
    known only to ldns; NINFO, UNSPEC, AVC, AMTRELAY, TA only to dnspython)."""
    return dns.rdatatype.to_text(n)


def class_text(n):
    return CLASSES.get(n, 'CLASS%d' % n)


def run_tshark(path, display_filter, fields=FIELDS, decode_as=(), timeout=600):
    """Run tshark and return one dict per matching frame: field -> [strings]."""
    cmd = [TSHARK, '-n', '-r', str(path), '-T', 'json']
    for d in decode_as:
        cmd += ['-d', d]
    if display_filter:
        cmd += ['-Y', display_filter]
    for f in fields:
        cmd += ['-e', f]
    proc = subprocess.run(cmd, capture_output=True, timeout=timeout)
    text = proc.stdout.decode('utf-8', 'replace').strip()
    if not text:
        return []
    return [p['_source']['layers'] for p in json.loads(text)]


def count_packets(path, timeout=600):
    """Number of frames tshark reads from the file."""
    proc = subprocess.run([TSHARK, '-n', '-r', str(path), '-T', 'fields', '-e', 'frame.number'],
                          capture_output=True, timeout=timeout)
    return len(proc.stdout.split())


def epoch_to_ns(text):
    """'1381235696.123456789' -> integer nanoseconds (exact, no float)."""
    sec, _, frac = text.partition('.')
    return int(sec) * 10 ** 9 + int((frac + '000000000')[:9])


def rfc3339_to_ns(text):
    """dnsprobe's '2013-10-08T12:34:56.123456000Z' -> integer nanoseconds."""
    m = re.fullmatch(r'(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)\.(\d{9})Z', text)
    if not m:
        raise ValueError('not an RFC 3339 UTC timestamp with 9 digits: %r' % text)
    y, mo, d, h, mi, s, ns = (int(g) for g in m.groups())
    return calendar.timegm((y, mo, d, h, mi, s, 0, 0, 0)) * 10 ** 9 + ns


def _int(v):
    return int(v, 0)


def _first(layers, field):
    v = layers.get(field)
    return v[0] if v else None


def _last(layers, field):
    v = layers.get(field)
    return v[-1] if v else None


def vlan_ids(layers):
    """VLAN ids outermost first, ordered by frame.protocols."""
    ad = list(layers.get('ieee8021ad.id', []))
    q = list(layers.get('vlan.id', []))
    out = []
    for proto in _first(layers, 'frame.protocols').split(':'):
        if proto == 'ieee8021ad' and ad:
            out.append(int(ad.pop(0)))
        elif proto == 'vlan' and q:
            out.append(int(q.pop(0)))
    return out


def innermost_ip(layers):
    """'ip' or 'ipv6': the last IP layer in the frame's protocol stack."""
    protos = _first(layers, 'frame.protocols').split(':')
    for p in reversed(protos):
        if p in ('ip', 'ipv6'):
            return p
    return None


def port(layers, which):
    """The innermost transport port: UDP, or TCP for DNS over TCP."""
    for proto in ('udp', 'tcp'):
        value = _last(layers, proto + '.' + which)
        if value:
            return int(value)
    return None


def dns_message(layers):
    """Normalise one tshark frame into a dict of comparable values."""
    ipf = innermost_ip(layers)
    qr = _first(layers, 'dns.flags.response') == '1'
    rcode = None
    if qr and _first(layers, 'dns.flags.rcode') is not None:
        rcode = int(_first(layers, 'dns.flags.rcode'))
        ext = _first(layers, 'dns.resp.ext_rcode')
        if ext is not None:
            rcode |= _int(ext) << 4
    qtype = _first(layers, 'dns.qry.type')
    qclass = _first(layers, 'dns.qry.class')
    udp_len = _last(layers, 'udp.length')
    tcp = _last(layers, 'tcp.srcport') is not None and udp_len is None
    if tcp:
        size = _int(_first(layers, 'dns.length')) if _first(layers, 'dns.length') else None
    else:
        size = int(udp_len) - 8 if udp_len is not None else None
    ecs = None
    fam = _first(layers, 'dns.opt.client.family')
    if fam is not None:
        addr = _first(layers, 'dns.opt.client.addr4' if fam == '1' else 'dns.opt.client.addr6')
        ecs = '%s/%s' % (addr, _first(layers, 'dns.opt.client.netmask'))
    sections = ('queries', 'answers', 'auth_rr', 'add_rr')
    if _first(layers, 'dns.count.zones') is not None:      # UPDATE names its sections differently
        sections = ('zones', 'prerequisites', 'updates', 'add_rr')
    counts = [_first(layers, 'dns.count.' + c) for c in sections]
    # an IP datagram that was not reassembled: more-fragments set or an offset
    fragment = (ipf == 'ip' and (_last(layers, 'ip.flags.mf') == '1'
                                 or _last(layers, 'ip.frag_offset') not in (None, '0'))) \
        or (ipf == 'ipv6' and _last(layers, 'ipv6.fraghdr.offset') is not None)
    # UDP length larger than what the IP header says it carries
    if ipf == 'ip' and _last(layers, 'ip.len') and _last(layers, 'ip.hdr_len'):
        ip_payload = int(_last(layers, 'ip.len')) - int(_last(layers, 'ip.hdr_len'))
    elif ipf == 'ipv6' and _last(layers, 'ipv6.plen'):
        ip_payload = int(_last(layers, 'ipv6.plen'))
    else:
        ip_payload = None
    udp_too_long = udp_len is not None and ip_payload is not None and int(udp_len) > ip_payload
    return {
        'frame': int(_first(layers, 'frame.number')),
        'time_ns': epoch_to_ns(_first(layers, 'frame.time_epoch')),
        'protocols': _first(layers, 'frame.protocols'),
        'id': _int(_first(layers, 'dns.id')) if _first(layers, 'dns.id') else None,
        'src': _last(layers, ipf + '.src') if ipf else None,
        'dst': _last(layers, ipf + '.dst') if ipf else None,
        'sport': port(layers, 'srcport'),
        'dport': port(layers, 'dstport'),
        'transport': 'tcp' if tcp else 'udp',
        'network_type': {'ip': 'ipv4', 'ipv6': 'ipv6'}.get(ipf),
        'qr': qr,
        'opcode': opcode_text(int(_first(layers, 'dns.flags.opcode') or 0)),
        'rcode': rcode_text(rcode) if rcode is not None else None,
        # tshark shows AA and RA on responses only
        'flags': sorted([name for name, f in FLAG_FIELDS if _first(layers, f) == '1'] +
                        (['DO'] if _first(layers, 'dns.resp.z.do') in ('1', 'True') else [])),
        'qname': _first(layers, 'dns.qry.name'),
        'qtype': qtype_text(int(qtype)) if qtype is not None else None,
        'qclass': class_text(_int(qclass)) if qclass is not None else None,
        'counts': [int(c) if c is not None else None for c in counts],
        'size': size,
        'vlans': vlan_ids(layers),
        'edns': None if _first(layers, 'dns.rr.udp_payload_size') is None else {
            'udp_size': int(_first(layers, 'dns.rr.udp_payload_size')),
            'do': _first(layers, 'dns.resp.z.do') == '1',
            'version': int(_first(layers, 'dns.resp.edns0_version')),
            'ecs': ecs},
        'reassembled': bool(layers.get('ip.reassembled.length') or layers.get('ipv6.reassembled.length')),
        'fragment': fragment,
        'udp_too_long': udp_too_long,
        'snaplen_cut': int(_first(layers, 'frame.cap_len')) < int(_first(layers, 'frame.len')),
        'malformed': '_ws.malformed' in layers,
    }


DNS_PORT53_FILTER = 'dns && (udp.port==53 || tcp.port==53) && !icmp && !icmpv6'


def dns_messages(path, display_filter=DNS_PORT53_FILTER, decode_as=()):
    """Every DNS message over UDP or TCP port 53 that tshark decodes in the file (for DNS over
    TCP, the first message of each frame that completes one)."""
    return [dns_message(layers) for layers in run_tshark(path, display_filter, decode_as=decode_as)]

# --------------------------------------------------------------------------
# Names.
# --------------------------------------------------------------------------


def unescape_name(text):
    """dnsprobe presentation name -> list of label bytes ('.' -> [])."""
    if text == '.':
        return []
    labels, cur, i = [], bytearray(), 0
    while i < len(text):
        c = text[i]
        if c == '\\':
            if re.match(r'\d{3}', text[i + 1:i + 4]):
                cur.append(int(text[i + 1:i + 4]))
                i += 4
                continue
            if i + 1 >= len(text):
                raise ValueError('dangling backslash in %r' % text)
            cur.extend(text[i + 1].encode('utf-8'))
            i += 2
            continue
        if c == '.':
            labels.append(bytes(cur))
            cur = bytearray()
        else:
            cur.extend(c.encode('utf-8'))
        i += 1
    labels.append(bytes(cur))
    return labels


C_ESCAPES = {7: '\\a', 8: '\\b', 9: '\\t', 10: '\\n', 11: '\\v', 12: '\\f', 13: '\\r'}


def _unichar_isprint(cp):
    """glib's g_unichar_isprint: not control, format, unassigned, private, surrogate."""
    return unicodedata.category(chr(cp)) not in ('Cc', 'Cf', 'Cn', 'Co', 'Cs')


def tshark_label(label):
    """Render label bytes the way tshark 4.0 (format_text) prints them: ASCII
    controls as C or octal escapes, a lenient UTF-8 decoder (overlong forms
    accepted, 5- and 6-byte forms too), one U+FFFD per broken sequence or
    code point past U+10FFFF, and code points glib finds unprintable as \\uXXXX."""
    out, i, n = [], 0, len(label)
    while i < n:
        c = label[i]
        i += 1
        if c < 0x80:
            if 0x20 <= c <= 0x7e:
                out.append(chr(c))
            else:
                out.append(C_ESCAPES.get(c, '\\%03o' % c))
            continue
        for mask, lead, more in ((0xE0, 0xC0, 1), (0xF0, 0xE0, 2), (0xF8, 0xF0, 3),
                                 (0xFC, 0xF8, 4), (0xFE, 0xFC, 5)):
            if c & mask == lead:
                cp = c & (0x7F >> (more + 1))
                break
        else:
            out.append('\ufffd')          # stray continuation byte, 0xfe, 0xff
            continue
        for _ in range(more):
            if i >= n or label[i] & 0xC0 != 0x80:
                cp = None
                break
            cp = (cp << 6) | (label[i] & 0x3F)
            i += 1
        if cp is None or cp > 0x10FFFF or 0xD800 <= cp <= 0xDFFF:
            out.append('\ufffd')
        elif _unichar_isprint(cp):
            out.append(chr(cp))
        elif cp <= 0xFFFF:
            out.append('\\u%04X' % cp)
        else:
            out.append('\\U%08X' % cp)
    return ''.join(out)


def labels_as_tshark(labels):
    if not labels:
        return '<Root>'
    return '.'.join(tshark_label(l) for l in labels)


def probe_name_as_tshark(text):
    """A dnsprobe name rendered as tshark would print the same wire name."""
    return labels_as_tshark(unescape_name(text))


def tshark_name_is_placeholder(name):
    """tshark could not decode the name ('<Name contains a pointer that loops>',
    '<Name too long>', ...).  A real name can look like this too ('<10.1.2.3>'),
    so compare_tuple tries an exact match first."""
    return name is not None and name.startswith('<') and name.endswith('>') and name != '<Root>'

# --------------------------------------------------------------------------
# dnsprobe records.
# --------------------------------------------------------------------------


def strict_json_line(line):
    """Parse one output line as strict JSON: valid UTF-8, one object, no
    NaN/Infinity, no duplicate keys, and it survives a dump/load round trip."""
    def no_constants(name):
        raise ValueError('non-standard JSON constant %s' % name)

    def no_duplicates(pairs):
        keys = [k for k, _ in pairs]
        if len(keys) != len(set(keys)):
            raise ValueError('duplicate keys in %r' % keys)
        return dict(pairs)

    text = line.decode('utf-8')          # strict: raises on invalid UTF-8
    obj = json.loads(text, parse_constant=no_constants, object_pairs_hook=no_duplicates)
    if not isinstance(obj, dict):
        raise ValueError('line is not a JSON object: %r' % text[:200])
    if json.loads(json.dumps(obj, ensure_ascii=False)) != obj:
        raise ValueError('line does not round-trip: %r' % text[:200])
    return obj


def get(record, dotted, default=None):
    """record['a']['b'] for 'a.b'; '@timestamp' is a top-level key."""
    cur = record
    for part in ([dotted] if dotted == '@timestamp' else dotted.split('.')):
        if not isinstance(cur, dict) or part not in cur:
            return default
        cur = cur[part]
    return cur


def probe_key(record):
    """(time_ns, id, src, sport, dst, dport, transport) of a dnsprobe record."""
    return (rfc3339_to_ns(record['@timestamp']), get(record, 'dns.id'),
            canonical_ip(get(record, 'source.ip')), get(record, 'source.port'),
            canonical_ip(get(record, 'destination.ip')), get(record, 'destination.port'),
            get(record, 'network.transport'))


def tshark_key(msg):
    return (msg['time_ns'], msg['id'], canonical_ip(msg['src']), msg['sport'],
            canonical_ip(msg['dst']), msg['dport'], msg['transport'])


def compare_tuple(record, msg):
    """Differences between a dnsprobe record and the tshark message with the
    same key, over (QR, qname, qtype, rcode); returns a list of field names."""
    diffs = []
    if (get(record, 'dns.type') == 'answer') != msg['qr']:
        diffs.append('qr')
    probe_name = get(record, 'dns.question.name')
    try:
        shown = probe_name_as_tshark(probe_name) if probe_name is not None else None
    except ValueError:
        shown = '<unparseable %r>' % probe_name
    if shown == msg['qname']:
        if get(record, 'dns.question.type') != msg['qtype']:
            diffs.append('qtype')
    elif tshark_name_is_placeholder(msg['qname']):
        # tshark could not read the name: dnsprobe must not have invented one
        if probe_name is not None and get(record, 'dnsprobe.malformed') is None:
            diffs.append('qname')
    else:
        diffs.append('qname')
        if get(record, 'dns.question.type') != msg['qtype']:
            diffs.append('qtype')
    if msg['qr'] and get(record, 'dns.response_code') != msg['rcode']:
        diffs.append('rcode')
    return diffs


def canonical_ip(text):
    """Addresses compared as ipaddress objects, so text forms do not matter."""
    try:
        return ipaddress.ip_address(text)
    except (TypeError, ValueError):
        return text


def flow_key_of(proto, src, sport, dst, dport):
    """dnsprobe.flow_key and direction recomputed from the spec: version,
    protocol, lower (address16, port) endpoint first, IPv4 as ::ffff:a.b.c.d."""
    def addr16(a):
        ip = ipaddress.ip_address(a)
        return ip.packed if ip.version == 6 else b'\0' * 10 + b'\xff\xff' + ip.packed
    a = addr16(src) + sport.to_bytes(2, 'big')
    b = addr16(dst) + dport.to_bytes(2, 'big')
    lo, hi = (a, b) if a <= b else (b, a)
    version = ipaddress.ip_address(src).version
    key = bytes([4 if version == 4 else 6, proto]) + lo[:16] + hi[:16] + lo[16:] + hi[16:]
    return key.hex(), 'a_to_b' if a <= b else 'b_to_a'


HEADER_FLAGS = {'AA', 'TC', 'RD', 'RA', 'AD', 'CD', 'DO'}  # DO: from the OPT record, as ECS lists it
TIMESTAMP_RE = re.compile(r'\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z')


def record_shape_problems(rec):
    """Checks every record must pass, whatever packet it came from."""
    problems = []
    for field in ('@timestamp', 'source.ip', 'source.port', 'destination.ip', 'destination.port',
                  'network.transport', 'network.type', 'dns.id', 'dns.type', 'dns.op_code',
                  'dns.header_flags', 'dnsprobe.flow_key', 'dnsprobe.direction',
                  'dnsprobe.size', 'dnsprobe.counts'):
        if get(rec, field) is None:
            problems.append('missing %s' % field)
    if problems:
        return problems
    if not TIMESTAMP_RE.fullmatch(rec['@timestamp']):
        problems.append('bad @timestamp %r' % rec['@timestamp'])
    if get(rec, 'network.transport') not in ('udp', 'tcp'):
        problems.append('bad network.transport %r' % get(rec, 'network.transport'))
    if get(rec, 'network.type') not in ('ipv4', 'ipv6'):
        problems.append('bad network.type %r' % get(rec, 'network.type'))
    if get(rec, 'dns.type') not in ('query', 'answer'):
        problems.append('bad dns.type %r' % get(rec, 'dns.type'))
    flags = get(rec, 'dns.header_flags')
    if not isinstance(flags, list) or not set(flags) <= HEADER_FLAGS or len(flags) != len(set(flags)):
        problems.append('bad dns.header_flags %r' % (flags,))
    if (get(rec, 'dns.type') == 'answer') != (get(rec, 'dns.response_code') is not None):
        problems.append('dns.response_code must be present exactly on answers')
    counts = get(rec, 'dnsprobe.counts')
    if not isinstance(counts, dict) or sorted(counts) != ['an', 'ar', 'ns', 'qd']:
        problems.append('bad dnsprobe.counts %r' % (counts,))
    malformed = get(rec, 'dnsprobe.malformed')
    if malformed is not None and not (isinstance(malformed, str) and malformed):
        problems.append('dnsprobe.malformed must be a non-empty string: %r' % (malformed,))
    key = get(rec, 'dnsprobe.flow_key')
    if not (isinstance(key, str) and re.fullmatch(r'[0-9a-fA-F]{76}', key)):
        problems.append('bad dnsprobe.flow_key %r' % (key,))
    else:
        try:
            want_key, want_dir = flow_key_of(17 if get(rec, 'network.transport') == 'udp' else 6,
                                             get(rec, 'source.ip'), get(rec, 'source.port'),
                                             get(rec, 'destination.ip'), get(rec, 'destination.port'))
            if key.lower() != want_key:
                problems.append('flow_key %s, expected %s from the endpoints' % (key, want_key))
            if get(rec, 'dnsprobe.direction') != want_dir:
                problems.append('direction %r, expected %r' % (get(rec, 'dnsprobe.direction'), want_dir))
        except (ValueError, TypeError, AttributeError) as e:
            problems.append('cannot recompute flow key: %s' % e)
    return problems


def tshark_field_problems(rec, msg, inner_vlan_one_of=None):
    """Compare a record (dnsprobe's, or an expected one from expected.json) with
    the tshark message of the same frame.  Only fields the record has are
    compared, so a partial expected record checks only what it knows."""
    problems = []

    def differ(field, mine, theirs):
        problems.append('%s: record %r, tshark %r' % (field, mine, theirs))

    if '@timestamp' in rec and rfc3339_to_ns(rec['@timestamp']) != msg['time_ns']:
        differ('@timestamp', rec['@timestamp'], msg['time_ns'])
    for field, theirs in (('dns.id', msg['id']), ('source.port', msg['sport']),
                          ('destination.port', msg['dport']), ('network.type', msg['network_type']),
                          ('dns.op_code', msg['opcode']), ('dnsprobe.size', msg['size'])):
        mine = get(rec, field)
        if mine is not None and mine != theirs:
            differ(field, mine, theirs)
    for field, theirs in (('source.ip', msg['src']), ('destination.ip', msg['dst'])):
        mine = get(rec, field)
        if mine is not None and canonical_ip(mine) != canonical_ip(theirs):
            differ(field, mine, theirs)
    if get(rec, 'dns.type') is not None and (get(rec, 'dns.type') == 'answer') != msg['qr']:
        differ('dns.type', get(rec, 'dns.type'), 'answer' if msg['qr'] else 'query')
    if get(rec, 'dns.response_code') is not None and get(rec, 'dns.response_code') != msg['rcode']:
        differ('dns.response_code', get(rec, 'dns.response_code'), msg['rcode'])
    flags = get(rec, 'dns.header_flags')
    if flags is not None:
        if not msg['qr']:
            flags = [f for f in flags if f not in ('AA', 'RA')]   # tshark hides them on queries
        if sorted(flags) != msg['flags']:
            differ('dns.header_flags', get(rec, 'dns.header_flags'), msg['flags'])
    name = get(rec, 'dns.question.name')
    if name is not None and probe_name_as_tshark(name) != msg['qname']:
        differ('dns.question.name', name, msg['qname'])
    for field, theirs in (('dns.question.type', msg['qtype']), ('dns.question.class', msg['qclass'])):
        if get(rec, field) is not None and get(rec, field) != theirs:
            differ(field, get(rec, field), theirs)
    counts = get(rec, 'dnsprobe.counts')
    if counts is not None and [counts.get(k) for k in ('qd', 'an', 'ns', 'ar')] != msg['counts']:
        differ('dnsprobe.counts', counts, msg['counts'])
    edns = get(rec, 'dnsprobe.edns')
    if edns is not None:
        theirs = msg['edns'] or {}
        for k in ('udp_size', 'do', 'version', 'ecs'):
            if edns.get(k) != theirs.get(k):
                differ('dnsprobe.edns.' + k, edns.get(k), theirs.get(k))
    vlans = msg['vlans']
    outer, inner = get(rec, 'network.vlan.id'), get(rec, 'network.inner.vlan.id')
    if outer is not None and outer != (vlans[0] if vlans else None):
        differ('network.vlan.id', outer, vlans)
    if inner is not None:
        allowed = inner_vlan_one_of or vlans[1:2]
        if inner not in allowed:
            differ('network.inner.vlan.id', inner, vlans)
    return problems
