"""What a reload changes: the plan between the running and the new configuration, and the
publishers kept or reopened."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from edge.camera import DaemonControl
from edge.config import Config, FilesOutput, parse_config
from edge.daemon import Outputs
from edge.errors import PublishError
from edge.reload import Plan

from ..support.records import make_record


def _config(device: str = "pi", out: str = "/srv/out", **cameras: dict[str, Any]) -> Config:
    return parse_config(
        {
            "device": device,
            "cameras": [{"name": name, **section} for name, section in cameras.items()],
            "outputs": {"files": {"dir": out}},
        }
    )


def test_the_same_config_keeps_every_camera() -> None:
    config = _config(a={"fps": 5}, b={"fps": 2})
    plan = Plan.between(config, _config(a={"fps": 5}, b={"fps": 2}))
    assert plan == Plan(keep={"a", "b"})
    assert plan.describe() == "no camera changed; 2 camera(s) keep running"


def test_a_changed_camera_restarts_alone_and_new_ones_start() -> None:
    running = _config(a={"fps": 5}, b={"fps": 2}, c={})
    plan = Plan.between(running, _config(a={"fps": 5}, b={"fps": 3}, d={}))
    assert plan == Plan(keep={"a"}, restart={"b", "c"}, start={"b", "d"})
    assert plan.describe() == "restarting b, c; starting d; keeping a"


def test_a_new_device_or_results_directory_restarts_every_camera() -> None:
    running = _config(a={}, b={})
    for new in (_config("other", a={}, b={}), _config(out="/srv/elsewhere", a={}, b={})):
        assert Plan.between(running, new) == Plan(restart={"a", "b"}, start={"a", "b"})


def test_outputs_other_than_the_directory_keep_the_cameras() -> None:
    running = _config(a={})
    new = running.model_copy(
        update={"outputs": running.outputs.model_copy(update={"console": True})}
    )
    assert Plan.between(running, new) == Plan(keep={"a"})


def test_a_publisher_reopens_only_when_its_own_settings_changed(tmp_path: Path) -> None:
    outputs, control = Outputs([], None), DaemonControl([])
    first = FilesOutput(dir=str(tmp_path / "a"))
    outputs.configure({"files": first}, control)
    opened = outputs.publishers[0]
    outputs.configure({"files": FilesOutput(dir=str(tmp_path / "a"))}, control)  # equal
    assert outputs.publishers == [opened]
    outputs.configure({"files": FilesOutput(dir=str(tmp_path / "b"))}, control)
    assert outputs.publishers[0] is not opened
    with pytest.raises(PublishError, match="closed"):
        opened.publish(make_record())
    outputs.close()
    with pytest.raises(PublishError, match="closed"):
        outputs.publishers[0].publish(make_record())
