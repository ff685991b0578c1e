"""A candidate classifier in shadow: every record says what it thought, the tally counts it."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from edge.cli import main
from edge.shadow import ShadowTally
from tests.support.camera import grey_frames

from ..support.records import make_record
from ..support.schema import validate


def _candidate(model: str, label: str, agrees: bool) -> dict[str, object]:
    return {"model": model, "top": [{"label": label, "score": 0.8}], "label": label,
            "agrees": agrees}  # fmt: skip


def test_the_tally_counts_agreement_and_confusion_and_restarts_for_a_new_model() -> None:
    tally = ShadowTally()
    for live, said in (("cat", "cat"), ("cat", "dog"), ("dog", "dog"), ("cat", "cat")):
        timing = {"capture": 1, "colors": 1, "classify": 1, "anomaly": None, "total": 3,
                  "candidate": 2.5}  # fmt: skip
        record = make_record(label=live, candidate=_candidate("m2", said, live == said),
                             timing_ms=timing)  # fmt: skip
        tally = tally.add(record)
    assert tally.as_dict() == {
        "model": "m2", "compared": 4, "agreement": 0.75,
        "confusion": {"cat": {"cat": 2, "dog": 1}, "dog": {"dog": 1}},
        "latency_ms": {"p50": 2.5, "p95": 2.5, "max": 2.5},
    }  # fmt: skip
    assert tally.add(make_record()) is tally  # no candidate: nothing to count
    fresh = tally.add(make_record(label="cat", candidate=_candidate("m3", "cat", True)))
    assert (fresh.model, fresh.compared, fresh.agreement) == ("m3", 1, 1.0)


def test_the_daemon_runs_the_candidate_on_every_nth_frame(
    tmp_path: Path, make_bundle: Callable[..., Path]
) -> None:
    frames = grey_frames(tmp_path / "frames")
    bundle = make_bundle("softmax")
    config = tmp_path / "edge.toml"
    config.write_text(f"""
[[cameras]]
name = "door"
source = "folder:{frames}"
fps = 0.0
classifier = "{bundle}"
anomaly = ""
candidate = "{bundle}"
candidate_every = 2
[outputs]
console = false
""")
    out = tmp_path / "out"
    assert main(["run", "--quiet", "--config", str(config), "--out", str(out), "--no-web"]) == 0
    lines = next((out / "door").glob("results-*.jsonl")).read_text().splitlines()
    records = [json.loads(line) for line in lines]
    assert len(records) == 6
    for record in records:
        validate(record)
    shadowed = [record["candidate"] for record in records]
    assert shadowed[1::2] == [None, None, None]
    for record, candidate in zip(records[::2], shadowed[::2], strict=True):
        assert candidate["agrees"] is True  # the same bundle decides the same
        assert candidate["top"] == record["classification"]["top"]
        assert record["timing_ms"]["candidate"] > 0
    assert "candidate" not in records[1]["timing_ms"]
