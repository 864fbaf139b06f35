# test_policy_live: SIGHUP reloads the --classify rules during a live capture, on the veth lab of
# test_live_capture (unbound answers, dnsperf asks). Oracle: dnsperf's own counts and the rule
# files read in Python (test_policy.classify).
# Covers: with one and two workers, every query and answer of both batches is a record (none
# lost or written twice across the reload), the first batch is classified by the old rules and
# the second by the new ones, each worker switching at one point.
#
# Needs root (namespaces, promiscuous capture), unbound, dnsperf and dig.

import json
import signal
import time

import pytest

from test_live_capture import (Capture, capture_cmd, lab, pytestmark,  # noqa: F401
                               read_records, stop_leftover_captures)
from test_policy import classify

OLD_RULES = {'lab.test': 'zone'}
NEW_RULES = {'www.lab.test': 'web', 'lab.test': 'lab'}


def rules_text(rules):
    return ''.join('%s %s\n' % item for item in rules.items())


@pytest.mark.parametrize('workers', [1, 2])
def test_sighup_reloads_rules_during_a_live_capture(dnsprobe_bin, lab, tmp_path,  # noqa: F811
                                                    workers):
    rules = tmp_path / 'rules.txt'
    rules.write_text(rules_text(OLD_RULES))
    out, summary = tmp_path / 'records-{worker}.json', tmp_path / 'summary.json'
    cap = Capture(capture_cmd(dnsprobe_bin, lab, out, '--classify', rules, '--workers', workers,
                              '--summary-json', summary))
    cap.wait_ready()
    first = ['www.lab.test' if i % 10 == 0 else 'a%d.lab.test' % i for i in range(500)]
    second = ['www.lab.test' if i % 10 == 0 else 'b%d.lab.test' % i for i in range(500)]
    sent1, completed1, _ = lab.dnsperf(first, clients=8, workdir=tmp_path)
    rules.write_text(rules_text(NEW_RULES))
    # The swap is at a point of the probe's reading: the first batch must be read out of the
    # kernel's ring first (its blocks retire after 100 ms), or its last packets get new rules.
    time.sleep(0.7)
    with cap.changed:
        cap.proc.send_signal(signal.SIGHUP)
        assert cap.changed.wait_for(lambda: any('rules reloaded' in line for line in cap.lines),
                                    30), cap.describe()
    sent2, completed2, _ = lab.dnsperf(second, clients=8, workdir=tmp_path)
    cap.stop(signal.SIGTERM)
    cap.check_clean()
    assert (completed1, completed2) == (sent1, sent2) == (len(first), len(second))

    s = json.loads(summary.read_text())
    per_worker = [read_records(tmp_path / ('records-%d.json' % w)) for w in range(workers)]
    assert all(per_worker), 'a worker saw nothing: the test would not show its switch'
    records = [r for recs in per_worker for r in recs]
    assert s['balanced'] and s['delivered'] == len(records)
    names = [r['dns']['question']['name'] for r in records]
    assert sorted(names) == sorted(first * 2 + second * 2)   # every query and answer, once
    for r, name in zip(records, names):
        if name == 'www.lab.test':
            continue   # in both batches; checked by position below
        want = classify(OLD_RULES if name.startswith('a') else NEW_RULES, name)
        assert (r['dnsprobe'].get('category'), r['dnsprobe'].get('rule')) == want, name
    # www.lab.test: in each worker's records, the old rule's category up to one point and the
    # new one's after it.
    for recs in per_worker:
        www = [r['dnsprobe']['category'] for r in recs
               if r['dns']['question']['name'] == 'www.lab.test']
        assert www == ['zone'] * www.count('zone') + ['web'] * www.count('web')
    www = [r['dnsprobe']['category'] for r in records
           if r['dns']['question']['name'] == 'www.lab.test']
    assert www.count('zone') == www.count('web') == 2 * len(first) // 10
