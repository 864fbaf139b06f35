# test_tunnels: DNS inside VXLAN, Geneve, GRE, ERSPAN, MPLS and IP-in-IP (issue 15).
#
# The captures in tests/captures/tunnels are written by scripts/make-tunnel-captures, which also
# writes expected.json: what each packet was built from.  tshark, the independent decoder, must
# find in each record's frame the inner 5-tuple, DNS id and name, and the tunnel id and outer
# endpoints expected.json gives; dnsprobe's records and counts must then match expected.json.
# Also: the inner flow key is the key of the same packet untunnelled, the VXLAN/Geneve port
# options, the public corpus files that carry tunnels.

import json
import struct
import subprocess

import pytest

from conftest import CAPTURES, CORPUS
from tshark_oracle import run_tshark

TUNNELS = CAPTURES / 'tunnels'
with open(TUNNELS / 'expected.json') as _fh:
    EXPECTED = json.load(_fh)['files']

# tshark needs to be told that MPLS label 20 carries an Ethernet pseudowire with a control word.
DECODE_AS = ['mpls.label==20,pwethcw']
TUNNEL_ID_FIELDS = {'vxlan': 'vxlan.vni', 'geneve': 'geneve.vni', 'gre': 'gre.key',
                    'erspan': 'erspan.spanid', 'mpls': 'mpls.label'}
FIELDS = ['frame.number', 'frame.protocols', 'ip.src', 'ip.dst', 'ipv6.src', 'ipv6.dst',
          'udp.srcport', 'udp.dstport', 'tcp.srcport', 'tcp.dstport', 'dns.id', 'dns.qry.name',
          'dns.flags.response', 'gre.key.call_id'] + list(TUNNEL_ID_FIELDS.values())


def tshark_view(layers, tunnel_type):
    """What tshark says the record of this frame should hold."""
    protos = layers['frame.protocols'][0].split(':')
    ip = [p for p in protos if p in ('ip', 'ipv6')][-1]
    transport = 'tcp' if 'tcp' in protos else 'udp'
    outer = [p for p in protos if p in ('ip', 'ipv6')][0]
    view = {
        'source': {'ip': layers[ip + '.src'][-1],
                   'port': int(layers[transport + '.srcport'][-1])},
        'destination': {'ip': layers[ip + '.dst'][-1],
                        'port': int(layers[transport + '.dstport'][-1])},
        'transport': transport,
        'dns_id': int(layers['dns.id'][0], 16),
        'name': layers['dns.qry.name'][0],
        'type': 'answer' if layers['dns.flags.response'][0] == '1' else 'query',
        'outer': (layers[outer + '.src'][0], layers[outer + '.dst'][0]),
    }
    field = TUNNEL_ID_FIELDS.get(tunnel_type)
    if layers.get(field):
        view['id'] = int(layers[field][0], 0)
    elif layers.get('gre.key.call_id'):
        view['id'] = int(layers['gre.key.call_id'][0], 0)
    return view


@pytest.mark.parametrize('name', sorted(EXPECTED))
def test_tshark_agrees_with_expected(name):
    """The captures hold what expected.json says (tshark, no dnsprobe)."""
    frames = {int(l['frame.number'][0]): l
              for l in run_tshark(TUNNELS / name, '', fields=FIELDS, decode_as=DECODE_AS)}
    assert len(frames) == EXPECTED[name]['packets']
    for want in EXPECTED[name]['records']:
        tun = want['tunnel']
        got = tshark_view(frames[want['frame']], tun['type'])
        for key in ('source', 'destination', 'transport', 'dns_id', 'name', 'type'):
            assert got[key] == want[key], (name, want['frame'], key)
        if 'source' in tun:
            assert got['outer'] == (tun['source'], tun['destination']), (name, want['frame'])
        if 'id' in tun:
            assert got.get('id') == tun['id'], (name, want['frame'], got)


def test_generator_reproduces_captures(tmp_path):
    subprocess.run(['/usr/bin/python3', str(CAPTURES.parents[1] / 'scripts' /
                                            'make-tunnel-captures'), '--outdir', str(tmp_path)],
                   check=True)
    for path in TUNNELS.iterdir():
        assert (tmp_path / path.name).read_bytes() == path.read_bytes(), path.name


def record_view(r):
    return {
        'source': {k: r['source'][k] for k in ('ip', 'port')},
        'destination': {k: r['destination'][k] for k in ('ip', 'port')},
        'transport': r['network']['transport'], 'dns_id': r['dns']['id'],
        'name': r['dns']['question']['name'], 'type': r['dns']['type'],
        'tunnel': r['dnsprobe'].get('tunnel'),
    }


def check_counts(summary, counts):
    assert summary['balanced'] is True
    assert summary['records'] == counts['records']
    assert summary['not_dns'] == counts['not_dns']
    assert summary['ip_fragments'] == counts['ip_fragments']
    assert summary['tcp'] == counts['tcp']
    assert summary['malformed'] == sum(counts['malformed'].values())
    for reason, n in counts['malformed'].items():
        assert summary['malformed_reasons'][reason] == n, reason


@pytest.mark.parametrize('name', sorted(EXPECTED))
def test_replay_matches_expected(dnsprobe, name):
    """Every kind of tunnel: the records carry the inner 5-tuple and the tunnel; the malformed
    (truncated inner frame, nesting past the bound) and not-DNS inner packets are counted as
    such, and the accounting balances."""
    run = dnsprobe.replay([TUNNELS / name])
    run.check_clean()
    want = EXPECTED[name]
    check_counts(run.summary, want['counts'])
    got = [record_view(r) for r in run.records()]
    expected = [{k: v for k, v in w.items() if k != 'frame'} for w in want['records']]
    assert got == expected


def mpls_payload(stack):
    """Under the bottom label (RFC 3032): IP, or a control word and Ethernet (RFC 4448)."""
    while True:
        entry, stack = stack[:4], stack[4:]
        if entry[2] & 1:
            break
    return (1, stack[4:]) if stack[0] >> 4 == 0 else (101, stack)


def strip_tunnel(frame):
    """The inner packet of a tunnelled frame, as scapy (not dnsprobe) finds it: (link, bytes)."""
    from scapy.all import IP, IPv6, Ether, UDP
    from scapy.contrib.geneve import GENEVE
    from scapy.layers.l2 import GRE
    from scapy.layers.vxlan import VXLAN
    pkt = Ether(frame)
    if pkt.type == 0x8847 or (pkt.haslayer(GRE) and pkt[GRE].proto == 0x8847):
        return mpls_payload(frame[14:] if pkt.type == 0x8847 else bytes(pkt[GRE].payload))
    for layer in (VXLAN, GENEVE):
        if pkt.haslayer(layer):
            inner = pkt[layer].payload
            return (1, bytes(inner)) if isinstance(inner, Ether) else (101, bytes(inner))
    if pkt.haslayer(GRE) and pkt[GRE].proto == 0x6558:
        return 1, bytes(pkt[GRE].payload)
    if pkt.haslayer(GRE):
        return 101, bytes(pkt[GRE].payload)
    ip = pkt.payload
    return 101, bytes(ip.payload)


def write_pcap(path, link, frames):
    with open(path, 'wb') as out:
        out.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, link))
        for i, frame in enumerate(frames):
            out.write(struct.pack('<IIII', 1381235696 + i, 0, len(frame), len(frame)) + frame)


def read_pcap(path):
    data = path.read_bytes()
    frames, at = [], 24
    while at < len(data):
        _, _, caplen, _ = struct.unpack('<IIII', data[at:at + 16])
        frames.append(data[at + 16:at + 16 + caplen])
        at += 16 + caplen
    return frames


@pytest.mark.parametrize('name', ['vxlan.pcap', 'geneve.pcap', 'gre.pcap', 'mpls.pcap',
                                  'ipip.pcap'])
def test_inner_flow_key_is_the_untunnelled_key(dnsprobe, tmp_path, name):
    """A tunnelled packet gets the flow key of its inner packet sent untunnelled: a query and its
    response share a key whichever tunnel carries them."""
    from scapy.all import Ether
    frames = read_pcap(TUNNELS / name)
    tunnelled = dnsprobe.replay([TUNNELS / name])
    tunnelled.check_clean()
    keys = []
    for frame in frames:
        if Ether(frame).haslayer('PPP'):
            keys.append(None)  # enhanced GRE: scapy does not take PPP apart
            continue
        link, inner = strip_tunnel(frame)
        path = tmp_path / 'plain.pcap'
        write_pcap(path, link, [inner])
        plain = dnsprobe.replay([path])
        plain.check_clean()
        assert plain.summary['records'] == 1, (name, plain.describe())
        keys.append(plain.records()[0]['dnsprobe']['flow_key'])
    records = tunnelled.records()
    assert len(records) == len(frames)
    for record, key in zip(records, keys):
        if key is not None:
            assert record['dnsprobe']['flow_key'] == key
            assert 'tunnel' not in plain.records()[0]['dnsprobe']


def vxlan_on_port(port):
    from scapy.all import DNS, DNSQR, IP, UDP, Ether
    from scapy.layers.vxlan import VXLAN
    inner = Ether() / IP(src='10.99.1.2', dst='10.99.1.1') / UDP(sport=40000, dport=53) / DNS(
        id=7, qd=DNSQR(qname='port.example.'))
    return bytes(Ether() / IP(src='192.0.2.1', dst='192.0.2.2') /
                 UDP(sport=49152, dport=port, chksum=0) / VXLAN(vni=9) / inner)


def test_vxlan_port_option(dnsprobe, tmp_path):
    """Linux's own VXLAN port (8472) is not the standard one: --vxlan-port adds it."""
    path = tmp_path / 'vxlan8472.pcap'
    write_pcap(path, 1, [vxlan_on_port(8472)])
    run = dnsprobe.replay([path])
    run.check_clean()
    assert run.summary['records'] == 0 and run.summary['not_dns'] == 1
    run = dnsprobe.replay([path], '--vxlan-port', '8472')
    run.check_clean()
    assert run.summary['records'] == 1
    assert run.records()[0]['dnsprobe']['tunnel']['id'] == 9
    assert run.records()[0]['source']['ip'] == '10.99.1.2'


def test_geneve_port_option(dnsprobe, tmp_path):
    from scapy.all import DNS, DNSQR, IP, UDP, Ether
    from scapy.contrib.geneve import GENEVE
    pkt = Ether() / IP(src='192.0.2.1', dst='192.0.2.2') / UDP(sport=1, dport=6082) / GENEVE(
        vni=3, proto=0x0800) / IP(src='10.99.1.2', dst='10.99.1.1') / UDP(
            sport=40000, dport=53) / DNS(id=8, qd=DNSQR(qname='g.example.'))
    path = tmp_path / 'geneve6082.pcap'
    write_pcap(path, 1, [bytes(pkt)])
    assert dnsprobe.replay([path]).summary['not_dns'] == 1
    run = dnsprobe.replay([path], '--geneve-port', '6082')
    assert run.summary['records'] == 1
    assert run.records()[0]['dnsprobe']['tunnel'] == {
        'type': 'geneve', 'id': 3, 'source': '192.0.2.1', 'destination': '192.0.2.2'}


@pytest.mark.parametrize('option', ['--vxlan-port', '--geneve-port'])
@pytest.mark.parametrize('value', ['0', '65536', 'vxlan', ''])
def test_bad_port_is_one_line_exit_2(dnsprobe, tmp_path, option, value):
    out = tmp_path / 'out.json'
    run = dnsprobe.raw(['replay', TUNNELS / 'vxlan.pcap', option, value, '--output', out])
    assert run.rc == 2
    assert run.stderr.count('\n') == 1 and option in run.stderr, run.stderr
    assert not out.exists()


def test_help_names_the_tunnel_options(dnsprobe):
    for command in ('replay', 'capture'):
        text = dnsprobe.raw([command, '--help']).stdout.decode()
        assert '--vxlan-port' in text and '--geneve-port' in text and '4789' in text


CORPUS_TUNNELS = {
    # file: (records, tunnel type of every record)
    'arkime__6-4-gre-ppp-udp-4-dns.pcap': (2, 'ipip'),
    'zeek__geneve-vxlan-dns-truncated.pcap': (2, 'geneve'),
}


@pytest.mark.parametrize('name', sorted(CORPUS_TUNNELS))
def test_corpus_tunnels(dnsprobe, corpus_dir, name):
    """The corpus files that carry DNS in tunnels: every DNS message tshark finds there is a
    record with the same inner endpoints and id."""
    path = corpus_dir / 'pcap' / name
    run = dnsprobe.replay([path])
    run.check_clean()
    records, kind = CORPUS_TUNNELS[name]
    assert run.summary['records'] == records and run.summary['balanced']
    tshark = run_tshark(path, 'dns', fields=FIELDS)
    got = sorted((r['dns']['id'], r['source']['ip'], r['source']['port'],
                  r['destination']['ip']) for r in run.records())
    want = []
    for layers in tshark:
        protos = layers['frame.protocols'][0].split(':')
        ip = [p for p in protos if p in ('ip', 'ipv6')][-1]
        want.append((int(layers['dns.id'][0], 16), layers[ip + '.src'][-1],
                     int(layers['udp.srcport'][-1]), layers[ip + '.dst'][-1]))
    assert got == sorted(want)
    assert all(r['dnsprobe']['tunnel']['type'] == kind for r in run.records())


# --format raw: a message reassembled inside a tunnel (from inner fragments or TCP segments), or
# from outer fragments, is published as one rebuilt packet that keeps the tunnel headers with
# their lengths and checksums set to fit (docs/kafka.md).  tshark must decode each value, alone
# and without reassembly, as the message inside the same tunnel, every checksum good.
from test_raw_reassembled import broker  # noqa: E402,F401  (the Kafka broker fixture)

CHECKSUM_FIELDS = ['ip.checksum.status', 'udp.checksum.status', 'tcp.checksum.status',
                   'gre.checksum.status']


@pytest.mark.parametrize('name', ['fragments.pcap', 'tcp.pcap', 'vxlan.pcap', 'gre.pcap'])
def test_raw_value_keeps_the_tunnel(dnsprobe, broker, tmp_path, name):  # noqa: F811
    topic = 'raw-tunnel-%s' % name.split('.')[0]
    broker.create_topic(topic, 1)
    run = dnsprobe.replay([TUNNELS / name], '--brokers', broker.bootstrap, '--topic', topic,
                          '--format', 'raw', output=None)
    run.check_clean()
    want = EXPECTED[name]['records']
    assert run.summary['delivered'] == len(want), run.describe()
    values = [r.value for r in broker.consume_all(topic)]
    path = tmp_path / 'values.pcap'
    write_pcap(path, 1, values)
    layers = run_tshark_plain(path)
    assert len(layers) == len(want)
    for got, exp in zip(layers, want):
        view = tshark_view(got, exp['tunnel']['type'])
        for key in ('source', 'destination', 'dns_id', 'name', 'type'):
            assert view[key] == exp[key], (name, key, view)
        assert view['outer'] == (exp['tunnel']['source'], exp['tunnel']['destination'])
        if 'id' in exp['tunnel']:
            assert view.get('id') == exp['tunnel']['id']
        for field in CHECKSUM_FIELDS:
            # 1: good; 3: not present (a UDP checksum of zero, which IPv4 allows)
            assert all(s in ('1', '3') for s in got.get(field, [])), (name, field, got.get(field))


def run_tshark_plain(path):
    """tshark on each frame alone (no IP or TCP reassembly), checking every checksum."""
    cmd = ['tshark', '-n', '-r', str(path), '-T', 'json', '-o', 'ip.defragment:FALSE',
           '-o', 'tcp.desegment_tcp_streams:FALSE', '-o', 'ip.check_checksum:TRUE',
           '-o', 'udp.check_checksum:TRUE', '-o', 'tcp.check_checksum:TRUE',
           ]
    for f in FIELDS + CHECKSUM_FIELDS:
        cmd += ['-e', f]
    out = subprocess.run(cmd, capture_output=True, check=True).stdout
    return [p['_source']['layers'] for p in json.loads(out)] if out.strip() else []


# Live: a real tunnel interface (ip link add ... type vxlan, geneve, gre, ipip) between two
# network namespaces joined by a veth pair (the underlay, 10.99.30.0/24); unbound answers on the
# server's tunnel address (the overlay, 10.99.31.0/24) and dig asks from the client's; the probe
# captures on the server's veth, where only tunnelled packets pass, with the default filter.
# The oracle is what the test configured: the tunnel, its id, its endpoints, and unbound's zone.
import os  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402

from test_live_capture import Capture, read_records  # noqa: E402

UNDERLAY, OVERLAY = '10.99.30', '10.99.31'
LIVE_TUNNELS = {
    'vxlan': (['type', 'vxlan', 'id', '4242', 'dstport', '4789', 'local', '{local}', 'remote',
               '{remote}'], 4242),
    'geneve': (['type', 'geneve', 'id', '5000', 'remote', '{remote}'], 5000),
    'gre': (['type', 'gre', 'local', '{local}', 'remote', '{remote}', 'key', '77'], 77),
    'ipip': (['type', 'ipip', 'local', '{local}', 'remote', '{remote}'], None),
}
UNBOUND_CONF = '''server:
	interface: {net}.1
	port: 53
	do-daemonize: no
	chroot: ""
	username: ""
	directory: "{dir}"
	pidfile: ""
	use-syslog: no
	logfile: "{dir}/unbound.log"
	verbosity: 0
	num-threads: 1
	do-ip6: no
	access-control: {net}.0/24 allow
	module-config: "iterator"
	local-zone: "lab.test." static
	local-data: "lab.test. 300 IN SOA ns.lab.test. admin.lab.test. 1 3600 600 86400 300"
	local-data: "www.lab.test. 300 IN A {net}.80"
remote-control:
	control-enable: no
'''


def sh(*args):
    return subprocess.run([str(a) for a in args], check=True, capture_output=True, timeout=60)


class TunnelLab:
    """srv and cli namespaces, a veth underlay, a tunnel of `kind` over it, unbound in srv."""

    def __init__(self, workdir, kind):
        tag = 'dpt' + uuid.uuid4().hex[:6]
        self.srv, self.cli, self.veth = tag + '-srv', tag + '-cli', tag + '-s'
        self.dir = workdir / tag
        self.dir.mkdir()
        self.unbound = None
        sh('ip', 'netns', 'add', self.srv)
        sh('ip', 'netns', 'add', self.cli)
        try:
            sh('ip', 'link', 'add', self.veth, 'netns', self.srv, 'type', 'veth', 'peer', 'name',
               tag + '-c', 'netns', self.cli)
            args, self.tunnel_id = LIVE_TUNNELS[kind]
            for ns, dev, me, peer in ((self.srv, self.veth, 1, 2), (self.cli, tag + '-c', 2, 1)):
                sh('ip', '-n', ns, 'addr', 'add', '%s.%d/24' % (UNDERLAY, me), 'dev', dev)
                sh('ip', '-n', ns, 'link', 'set', dev, 'up')
                sh('ip', '-n', ns, 'link', 'set', 'lo', 'up')
                link = [a.format(local='%s.%d' % (UNDERLAY, me), remote='%s.%d' % (UNDERLAY, peer))
                        for a in args]
                made = subprocess.run(['ip', '-n', ns, 'link', 'add', 'tun0'] + link,
                                      capture_output=True, text=True, timeout=60)
                if 'Unknown device type' in made.stderr:
                    pytest.skip('this kernel has no %s devices' % kind)
                assert made.returncode == 0, made.stderr
                sh('ip', '-n', ns, 'addr', 'add', '%s.%d/24' % (OVERLAY, me), 'dev', 'tun0')
                sh('ip', '-n', ns, 'link', 'set', 'tun0', 'up')
            conf = self.dir / 'unbound.conf'
            conf.write_text(UNBOUND_CONF.format(net=OVERLAY, dir=self.dir))
            self.unbound = subprocess.Popen(['ip', 'netns', 'exec', self.srv, 'unbound', '-d',
                                             '-c', str(conf)], stdout=subprocess.DEVNULL,
                                            stderr=subprocess.DEVNULL)
            for _ in range(50):
                if self.dig('www.lab.test', short=True).strip() == OVERLAY + '.80':
                    break
                time.sleep(0.2)
            else:
                raise RuntimeError('unbound does not answer over the %s tunnel' % kind)
        except BaseException:  # pytest.skip too
            self.down()
            raise

    def dig(self, name, short=False):
        cmd = ['ip', 'netns', 'exec', self.cli, 'dig', '+tries=1', '+time=2',
               '@%s.1' % OVERLAY, name, 'A'] + (['+short'] if short else [])
        return subprocess.run(cmd, capture_output=True, text=True, timeout=30).stdout

    def down(self):
        if self.unbound:
            self.unbound.terminate()
            self.unbound.wait(10)
        for ns in (self.srv, self.cli):
            subprocess.run(['ip', 'netns', 'del', ns], capture_output=True, timeout=60)


@pytest.mark.skipif(os.geteuid() != 0, reason='needs root for network namespaces and capture')
@pytest.mark.skipif(not all(shutil.which(t) for t in ('unbound', 'dig', 'ip')),
                    reason='needs unbound, dig and ip (scripts/setup installs them)')
@pytest.mark.parametrize('kind', sorted(LIVE_TUNNELS))
def test_live_capture_on_the_underlay(dnsprobe_bin, tmp_path, kind):
    lab = TunnelLab(tmp_path, kind)
    try:
        out, summary = tmp_path / 'records.json', tmp_path / 'summary.json'
        cap = Capture(['ip', 'netns', 'exec', lab.srv, dnsprobe_bin, 'capture', '-i', lab.veth,
                       '-o', out, '--summary-json', summary])
        cap.wait_ready()
        names = ['www.lab.test', 'n1.lab.test', 'n2.lab.test']
        for name in names:
            assert 'status: ' in lab.dig(name)
        cap.stop(signal.SIGINT)
        cap.check_clean()
    finally:
        lab.down()
    records = read_records(out)
    queries = [r for r in records if r['dns']['type'] == 'query']
    answers = [r for r in records if r['dns']['type'] == 'answer']
    assert sorted(q['dns']['question']['name'] for q in queries) == sorted(names)
    assert sorted(a['dns']['question']['name'] for a in answers) == sorted(names)
    client, server = OVERLAY + '.2', OVERLAY + '.1'
    for r in records:
        query = r['dns']['type'] == 'query'
        assert (r['source']['ip'], r['destination']['ip']) == (
            (client, server) if query else (server, client))
        want = {'type': kind, 'source': UNDERLAY + ('.2' if query else '.1'),
                'destination': UNDERLAY + ('.1' if query else '.2')}
        if lab.tunnel_id is not None:
            want['id'] = lab.tunnel_id
        assert r['dnsprobe']['tunnel'] == want
    # a query and its response share the inner flow key
    keys = {}
    for r in records:
        keys.setdefault(r['dns']['id'], set()).add(r['dnsprobe']['flow_key'])
    assert all(len(k) == 1 for k in keys.values())
    s = json.loads(summary.read_text())
    assert s['balanced'] is True and s['records'] == 2 * len(names)


SEND_FRAMES = '''
import socket, sys
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((sys.argv[1], 0))
data = open(sys.argv[2], 'rb').read()
at = 24
while at < len(data):
    caplen = int.from_bytes(data[at + 8:at + 12], 'little')
    s.send(data[at + 16:at + 16 + caplen])
    at += 16 + caplen
'''


@pytest.mark.skipif(os.geteuid() != 0, reason='needs root for network namespaces and capture')
def test_default_filter_takes_every_tunnel_in(dnsprobe, dnsprobe_bin, tmp_path):
    """The frames of every tunnel capture, sent on a veth pair between two namespaces, reach a
    live capture with the default libpcap filter (which drops what is not DNS in the kernel):
    the records and the malformed/not-DNS counts are those of replaying the same files."""
    tag = 'dpf' + uuid.uuid4().hex[:6]
    srv, cli = tag + '-srv', tag + '-cli'
    sh('ip', 'netns', 'add', srv)
    sh('ip', 'netns', 'add', cli)
    try:
        sh('ip', 'link', 'add', tag + '-s', 'netns', srv, 'type', 'veth', 'peer', 'name',
           tag + '-c', 'netns', cli)
        for ns, dev in ((srv, tag + '-s'), (cli, tag + '-c')):
            sh('ip', 'netns', 'exec', ns, 'sysctl', '-qw',
               'net.ipv6.conf.all.disable_ipv6=1')
            sh('ip', '-n', ns, 'link', 'set', dev, 'up')
        files = sorted(TUNNELS.glob('*.pcap'))
        out, summary = tmp_path / 'live.json', tmp_path / 'live-summary.json'
        cap = Capture(['ip', 'netns', 'exec', srv, dnsprobe_bin, 'capture', '-i', tag + '-s',
                       '-o', out, '--summary-json', summary])
        cap.wait_ready()
        for path in files:
            sh('ip', 'netns', 'exec', cli, '/usr/bin/python3', '-c', SEND_FRAMES, tag + '-c',
               path)
        cap.stop(signal.SIGINT)
        cap.check_clean()
    finally:
        for ns in (srv, cli):
            subprocess.run(['ip', 'netns', 'del', ns], capture_output=True, timeout=60)
    replayed = dnsprobe.replay(files)
    replayed.check_clean()
    # times differ: capture time, and the response times (event.start, end, duration) with it
    strip = lambda r: {k: v for k, v in r.items() if k not in ('@timestamp', 'event')}  # noqa: E731
    assert [strip(r) for r in read_records(out)] == [strip(r) for r in replayed.records()]
    live = json.loads(summary.read_text())
    for key in ('records', 'not_dns', 'malformed', 'tcp'):
        assert live[key] == replayed.summary[key], key
    assert live['malformed_reasons'] == replayed.summary['malformed_reasons']
    # The capture's fanout group asks the kernel to defragment (PACKET_FANOUT_FLAG_DEFRAG): the
    # two outer fragments of fragments.pcap arrive as one datagram, the inner fragments (each in
    # a whole VXLAN packet) as they are.
    assert (live['packets'], live['ip_fragments']) == (replayed.summary['packets'] - 1,
                                                       replayed.summary['ip_fragments'] - 2)
    assert live['balanced'] is True


def test_outer_vlan_tag_is_kept(dnsprobe):
    """The VXLAN packet whose outer frame carries 802.1Q tag 30 (tshark's vlan.id) is decoded,
    and its record keeps the tag."""
    tagged = [l for l in run_tshark(TUNNELS / 'vxlan.pcap', 'vlan', fields=FIELDS + ['vlan.id'])]
    assert [(int(l['frame.number'][0]), l['vlan.id']) for l in tagged] == [(4, ['30'])]
    run = dnsprobe.replay([TUNNELS / 'vxlan.pcap'])
    run.check_clean()
    record = run.records()[3]
    assert record['dns']['question']['name'] == 'tagged.vxlan.example'
    assert record['network']['vlan'] == {'id': 30}
    assert all('vlan' not in r['network'] for i, r in enumerate(run.records()) if i != 3)
