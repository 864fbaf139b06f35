# test_transactions_live: matching in a live capture with two workers, on the veth lab of
# test_live_capture (unbound answers, dnsperf asks). Per-worker matching tables are right only if
# both directions of every flow reach the same worker (PACKET_FANOUT by flow hash): the invariant
# is checked by its consequence. Oracle: dnsperf's own counts (every query answered).
# Covers: with --workers 2, every answer record carries event.duration, nothing is unmatched or
# unanswered, the matched count is dnsperf's completed count, and the worker that wrote an
# answer is the one that wrote its query; event.start of an answer is its query's @timestamp.
#
# Needs root (namespaces, promiscuous capture), unbound, dnsperf and dig.

import collections
import json
import signal

from test_live_capture import (Capture, by_type, capture_cmd, flow_of, lab, pytestmark,  # noqa: F401
                               query_names, read_records, stop_leftover_captures)
from tshark_oracle import rfc3339_to_ns


def test_two_workers_match_every_answer(dnsprobe_bin, lab, tmp_path):  # noqa: F811
    out = tmp_path / 'worker-{worker}.json'
    summary = tmp_path / 'summary.json'
    cap = Capture(capture_cmd(dnsprobe_bin, lab, out, '--workers', 2, '--summary-json', summary))
    cap.wait_ready()
    names = query_names(1000)
    sent, completed, lost = lab.dnsperf(names, clients=24, workdir=tmp_path)
    cap.stop(signal.SIGTERM)
    cap.check_clean()
    assert (sent, completed, lost) == (len(names), len(names), 0), 'the client lost queries'

    s = json.loads(summary.read_text())
    assert s['balanced'] is True
    assert (s['matched_responses'], s['unmatched_responses'], s['unanswered_queries'],
            s['match_table_full']) == (completed, 0, 0, 0), s

    queries_at = {}
    worker_of = collections.defaultdict(set)
    answers = []
    for worker in (0, 1):
        queries, ans = by_type(read_records(tmp_path / ('worker-%d.json' % worker)))
        for q in queries:
            queries_at[flow_of(q), q['dns']['id']] = rfc3339_to_ns(q['@timestamp'])
            worker_of[flow_of(q), q['dns']['id']].add(worker)
        for a in ans:
            answers.append((worker, a))
    assert {w for w, _ in answers} == {0, 1}, 'all flows went to one worker'
    assert len(answers) == completed
    for worker, a in answers:
        key = (flow_of(a), a['dns']['id'])
        assert worker_of[key] == {worker}, 'query and answer on different workers: %s' % (key,)
        event = a['event']
        assert rfc3339_to_ns(event['start']) == queries_at[key]
        assert rfc3339_to_ns(event['end']) == rfc3339_to_ns(a['@timestamp'])
        assert event['duration'] == rfc3339_to_ns(a['@timestamp']) - queries_at[key] >= 0
