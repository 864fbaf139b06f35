# test_ecs: every JSON record of the public corpus, the test captures and the transaction
# captures against ECS's own field definitions (elastic/ecs generated/ecs/ecs_flat.yml, as the npm
# package @elastic/ecs 9.4.0 ships it in generated/ecs_flat.js; scripts/setup fetches it) and
# against the Elasticsearch index template in dist/elasticsearch/; and the template and
# docs/records.md against each other.
# Oracle: ECS's definitions (names, types, allowed values, which fields are arrays).
# Covers: every field outside dnsprobe.* is an ECS field, with a JSON value of its ECS type; every
# field of a record is in the template with the type ECS gives it (dnsprobe.* with ours); the
# documented exceptions (numbers in three keyword fields, nanosecond dates) and nothing else;
# every template field is in the table of docs/records.md.

import ipaddress
import json
import os
import pathlib
import re
import subprocess

import pytest

from corpus_records import corpus_records
from tshark_oracle import TIMESTAMP_RE

HERE = pathlib.Path(__file__).resolve().parent
REPO = HERE.parents[1]
TEMPLATE = REPO / 'dist' / 'elasticsearch' / 'dnsprobe-index-template.json'
RECORDS_DOC = REPO / 'docs' / 'records.md'
ECS_VERSION = '9.4.0'
ECS_DIR = pathlib.Path(os.environ.get('DNSPROBE_ECS_DIR') or pathlib.Path(
    os.environ.get('XDG_CACHE_HOME') or pathlib.Path.home() / '.cache') / 'dnsprobe' /
    ('ecs-' + ECS_VERSION)) / 'package' / 'generated' / 'ecs_flat.js'
# ECS keyword fields that records carry as JSON numbers (docs/records.md says why): a keyword
# field indexes a number as its text.
NUMBERS_IN_KEYWORDS = {'dns.id', 'network.vlan.id', 'network.inner.vlan.id'}


@pytest.fixture(scope='module')
def ecs():
    if not ECS_DIR.is_file():
        pytest.fail('ECS definitions not found at %s: run scripts/setup' % ECS_DIR, pytrace=False)
    out = subprocess.run(['node', '-e', 'process.stdout.write(JSON.stringify('
                          'require(process.argv[1]).EcsFlat))', str(ECS_DIR)],
                         capture_output=True, text=True, check=True, timeout=120).stdout
    return json.loads(out)


@pytest.fixture(scope='module')
def template():
    """Dotted field name -> mapping type, from the template's nested properties."""
    fields = {}

    def walk(prefix, props):
        for name, spec in props.items():
            path = prefix + name
            if 'properties' in spec:
                if spec.get('type'):
                    fields[path] = spec['type']
                walk(path + '.', spec['properties'])
            else:
                fields[path] = spec['type']

    mappings = json.loads(TEMPLATE.read_text())['template']['mappings']
    assert mappings['dynamic'] == 'strict'
    walk('', mappings['properties'])
    return fields


def leaves(value, path=''):
    """(dotted path, value, in_array) for every leaf; arrays of objects give their members'
    fields, as Elasticsearch flattens them."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from leaves(v, path + '.' + k if path else k)
    elif isinstance(value, list):
        for v in value:
            for p, leaf, _ in leaves(v, path):
                yield p, leaf, True
    else:
        yield path, value, False


def type_problem(ecs_type, value, path):
    if ecs_type == 'keyword' or ecs_type == 'constant_keyword':
        if isinstance(value, str):
            return None
        if path in NUMBERS_IN_KEYWORDS and isinstance(value, int) and not isinstance(value, bool):
            return None
        return 'keyword field holds %r' % (value,)
    if ecs_type == 'long':
        return None if isinstance(value, int) and not isinstance(value, bool) else \
            'long field holds %r' % (value,)
    if ecs_type == 'date':
        return None if isinstance(value, str) and TIMESTAMP_RE.fullmatch(value) else \
            'date field holds %r' % (value,)
    if ecs_type == 'ip':
        try:
            ipaddress.ip_address(value)
            return None
        except (ValueError, TypeError):
            return 'ip field holds %r' % (value,)
    if ecs_type == 'boolean':
        return None if isinstance(value, bool) else 'boolean field holds %r' % (value,)
    return 'ECS type %s not expected in a record' % ecs_type


OUR_TYPES = {'keyword': str, 'long': int, 'boolean': bool, 'ip': str}


@pytest.fixture(scope='module')
def all_records(dnsprobe, corpus_dir, captures_dir):
    records = list(corpus_records(dnsprobe, corpus_dir))
    files = sorted(captures_dir.glob('*.pcap*')) + sorted(
        (captures_dir / 'transactions').glob('*.pcap')) + sorted(
        (captures_dir / 'tunnels').glob('*.pcap'))
    for f in files:
        run = dnsprobe.replay([f])
        if run.rc == 0:
            records += run.records()
    assert len(records) > 10000
    return records


def test_every_record_is_ecs(all_records, ecs, template):
    problems = {}
    seen = set()
    for rec in all_records:
        arrays = set()
        for path, value, in_array in leaves(rec):
            seen.add(path)
            if in_array:
                arrays.add(path)
            if path not in template:
                problems.setdefault('%s: not in the index template' % path, rec)
                continue
            if path.startswith('dnsprobe.'):
                want = OUR_TYPES[template[path]]
                if not isinstance(value, want) or (want is int and isinstance(value, bool)):
                    problems.setdefault('%s: %r is not %s' % (path, value, template[path]), rec)
                continue
            field = ecs.get(path)
            if field is None:
                problems.setdefault('%s: not an ECS %s field' % (path, ECS_VERSION), rec)
                continue
            problem = type_problem(field['type'], value, path)
            if problem:
                problems.setdefault('%s: %s' % (path, problem), rec)
            mapped = template[path]
            if mapped != field['type'] and not (mapped == 'date_nanos' and field['type'] == 'date'):
                problems.setdefault('%s: template maps %s, ECS says %s' % (path, mapped,
                                                                          field['type']), rec)
            allowed = [v['name'] for v in field.get('allowed_values', [])]
            if allowed and value not in allowed:
                problems.setdefault('%s: %r is not one of ECS\'s %s' % (path, value, allowed), rec)
        for path in arrays:
            parent = path.rsplit('.', 1)[0]
            ecs_field = ecs.get(path) or {}
            is_array = 'array' in ecs_field.get('normalize', []) or (
                ecs.get(parent, {}).get('type') in ('object', 'nested')) or \
                path.startswith('dns.answers.')
            if path.startswith('dnsprobe.') or not is_array:
                problems.setdefault('%s: an array where ECS has one value' % path, rec)
    assert not problems, '\n'.join('%s\n  in %s' % (p, json.dumps(r)[:300])
                                   for p, r in list(problems.items())[:20])
    # The corpus exercises most of what a record can hold.
    for path in ('event.duration', 'dns.resolved_ip', 'network.inner.vlan.id',
                 'dns.question.registered_domain', 'dns.answers.data', 'dnsprobe.tunnel.type'):
        assert path in seen, path


def test_template_fields_are_documented(template):
    documented = set()
    for line in RECORDS_DOC.read_text().splitlines():
        m = re.match(r'^\| (`[^|]+`) \|', line)
        if m:
            documented |= set(re.findall(r'`([^`]+)`', m.group(1)))
    leaf_fields = {f for f, t in template.items() if t != 'object'}
    assert leaf_fields - documented == set()
