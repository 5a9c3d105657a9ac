import json
import warnings

import pytest

from llasa_search.study.store import ResultStore, StoreCorruptionWarning, StoreLockedError


def rec(u, seed=0, v=1.0):
    return {"utt_id": u, "config_name": "ds/m/s/candidates=1", "seed": seed, "metrics": {"x": {"v": v}}}


def test_append_reopen_and_refuse_overwrite(tmp_path):
    with ResultStore(tmp_path, writer=True) as s:
        s.append(rec("a"))
        s.append(rec("b", v=float("nan")))
        with pytest.raises(KeyError):
            s.append(rec("a"))
    r = ResultStore(tmp_path)
    assert len(r) == 2 and ("a", "ds/m/s/candidates=1", 0) in r and r.report.n_corrupt == 0
    with pytest.raises(RuntimeError, match="read-only"):
        r.append(rec("c"))


def test_truncated_last_line_detected_reported_quarantined(tmp_path):
    with ResultStore(tmp_path, writer=True) as s:
        for u in "abc":
            s.append(rec(u))
    p = tmp_path / "records.jsonl"
    data = p.read_bytes()
    p.write_bytes(data[: len(data) - 25])           # a kill in the middle of the last write
    with pytest.warns(StoreCorruptionWarning, match="1 corrupt or truncated"):
        r = ResultStore(tmp_path)
    assert r.report.n_corrupt == 1 and r.report.corrupt[0].reason.startswith("truncated")
    assert len(r) == 2 and ("c", "ds/m/s/candidates=1", 0) not in r
    with pytest.warns(StoreCorruptionWarning):
        w = ResultStore(tmp_path, writer=True)
    w.append(rec("c", v=2.0))                       # recomputed
    w.close()
    with warnings.catch_warnings():
        warnings.simplefilter("error")              # repaired: no warning any more
        r2 = ResultStore(tmp_path)
    assert [k[0] for k in r2.keys()] == ["a", "b", "c"] and r2.get(("c", "ds/m/s/candidates=1", 0))["metrics"]["x"]["v"] == 2.0
    q = list((tmp_path / "quarantine").glob("*.jsonl"))
    assert len(q) == 1 and "truncated" in q[0].read_text()


def test_corrupted_middle_line_fails_checksum(tmp_path):
    with ResultStore(tmp_path, writer=True) as s:
        for u in "abc":
            s.append(rec(u, v=1.5))
    p = tmp_path / "records.jsonl"
    lines = p.read_text().splitlines(keepends=True)
    lines[1] = lines[1].replace("1.5", "9.5")      # bit rot that still parses as JSON
    p.write_text("".join(lines))
    with pytest.warns(StoreCorruptionWarning, match="checksum"):
        r = ResultStore(tmp_path)
    assert r.report.n_corrupt == 1 and r.report.corrupt[0].key == ("b", "ds/m/s/candidates=1", 0)
    assert [k[0] for k in r.keys()] == ["a", "c"]


def test_duplicates_first_wins_and_counted(tmp_path):
    with ResultStore(tmp_path, writer=True) as s:
        s.append(rec("a", v=1.0))
    with ResultStore(tmp_path, writer=True, filename="records.shard-1-of-2.jsonl") as s2:
        s2.append(rec("b"))
    # a second copy of "a" with another value in the shard file (e.g. two machines did the same job)
    from llasa_search.study.store import encode_line
    with open(tmp_path / "records.shard-1-of-2.jsonl", "ab") as f:
        f.write(encode_line(rec("a", v=7.0)))
    with pytest.warns(StoreCorruptionWarning, match="1 duplicate"):
        r = ResultStore(tmp_path)
    assert len(r) == 2 and r.get(("a", "ds/m/s/candidates=1", 0))["metrics"]["x"]["v"] == 1.0


def test_one_writer_per_file(tmp_path):
    with ResultStore(tmp_path, writer=True):
        with pytest.raises(StoreLockedError, match="another process"):
            ResultStore(tmp_path, writer=True)
        ResultStore(tmp_path, writer=True, filename="records.shard-0-of-2.jsonl").close()


def test_bad_records_rejected(tmp_path):
    with ResultStore(tmp_path, writer=True) as s:
        with pytest.raises(ValueError, match="utt_id, config_name and integer seed"):
            s.append({"utt_id": "a"})
    assert json.loads(json.dumps({"ok": 1}))
