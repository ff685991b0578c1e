"""The bad inputs of the bad-input table, made once per module in one folder: broken bundles,
configs, credentials, images, image folders and Keras files.

``build(root)`` writes what needs no TensorFlow; ``build_tf(root)`` the Keras and TFLite files
that need it. Rows of the table name these files relative to ``root`` as ``{d}/...``.
"""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from edge import demo
from edge.inference.bundle import sha256_bytes
from edge.inference.preprocess import Preprocess

FRAME = demo.frames_dir() / "000_digit6.png"


def _copy_bundle(source: Path, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for suffix in (".tflite", ".json"):
        shutil.copy(source.with_suffix(suffix), folder / source.with_suffix(suffix).name)
    return folder / source.name


def _edit_sidecar(tflite: Path, change: dict[str, Any] | None = None, drop: str = "") -> None:
    side = tflite.with_suffix(".json")
    meta = json.loads(side.read_text())
    meta.update(change or {})
    meta.pop(drop, None)
    side.write_text(json.dumps(meta))


def _rehash(tflite: Path) -> None:
    """Make the sidecar's hash match whatever the .tflite now holds."""
    data = tflite.read_bytes()
    _edit_sidecar(tflite, {"tflite_sha256": sha256_bytes(data), "tflite_bytes": len(data)})


def _bundles(root: Path) -> None:
    classifier = demo.classifier_path()
    for name in ("good", "nosidecar", "notjson", "array", "format", "hash", "truncated",
                 "random", "scale", "shape", "labels", "nokind", "badkind", "badinput",
                 "zeropoint", "infinity", "keras"):  # fmt: skip
        _copy_bundle(classifier, root / "bundle" / name)
    _copy_bundle(demo.autoencoder_path(), root / "bundle" / "autoencoder")
    b = root / "bundle"
    (b / "nosidecar" / "digits.json").unlink()
    (b / "notjson" / "digits.json").write_text("{not json")
    (b / "array" / "digits.json").write_text("[1, 2, 3]")
    _edit_sidecar(b / "format" / "digits.tflite", {"format": 2})
    data = (b / "hash" / "digits.tflite").read_bytes()
    (b / "hash" / "digits.tflite").write_bytes(data[: len(data) // 2])  # hash now wrong
    (b / "truncated" / "digits.tflite").write_bytes(data[: len(data) // 2])
    _rehash(b / "truncated" / "digits.tflite")  # hash right, flatbuffer cut
    rng = np.random.default_rng(0)
    (b / "random" / "digits.tflite").write_bytes(rng.integers(0, 256, 4096, np.uint8).tobytes())
    _rehash(b / "random" / "digits.tflite")
    meta = json.loads((b / "scale" / "digits.json").read_text())
    _edit_sidecar(b / "scale" / "digits.tflite", {"input": {**meta["input"], "scale": 0.5}})
    _edit_sidecar(
        b / "zeropoint" / "digits.tflite", {"output": {**meta["output"], "zero_point": 3}}
    )
    _edit_sidecar(b / "shape" / "digits.tflite", {"output": {**meta["output"], "shape": [1, 12]}})
    _edit_sidecar(b / "labels" / "digits.tflite", {"labels": ["a", "b", "c"]})
    _edit_sidecar(b / "nokind" / "digits.tflite", drop="kind")
    _edit_sidecar(b / "badkind" / "digits.tflite", {"kind": "detector"})
    _edit_sidecar(b / "badinput" / "digits.tflite", {"input": 5})
    side = b / "infinity" / "digits.json"  # Python's json writes and reads Infinity
    side.write_text(side.read_text().replace('"shape": [', '"shape": [Infinity, ', 1))
    (b / "keras" / "digits.tflite").rename(b / "keras" / "digits.keras")


def _images(root: Path) -> None:
    images = root / "img"
    images.mkdir()
    shutil.copy(FRAME, images / "frame.png")
    (images / "notimage.png").write_text("this is not a PNG\n")
    (images / "empty.png").write_bytes(b"")
    (images / "truncated.png").write_bytes(FRAME.read_bytes()[:100])
    (images / "folder.png").mkdir()
    odd = root / "odd"  # unusual but valid images: converted, never refused
    odd.mkdir()
    gray = np.asarray(Image.open(FRAME).convert("L"))
    Image.fromarray(gray).save(odd / "gray.png")
    Image.fromarray(gray.astype(np.uint16) * 257).save(odd / "gray16.png")
    rgb = np.asarray(Image.open(FRAME).convert("RGB"))
    Image.fromarray(np.dstack([rgb, np.full(gray.shape, 128, np.uint8)])).save(odd / "rgba.png")
    Image.open(FRAME).convert("P").save(odd / "palette.png")
    Image.open(FRAME).convert("1").save(odd / "bilevel.png")
    Image.open(FRAME).convert("CMYK").save(odd / "cmyk.jpg")
    Image.fromarray(gray).convert("LA").save(odd / "gray_alpha.png")


def _folders(root: Path) -> None:
    (root / "emptydir").mkdir()
    junk = root / "junk"  # files that look like images by name only
    junk.mkdir()
    for name in ("a.png", "b.jpg", "c.bmp"):
        (junk / name).write_text("not an image")
    (root / "junklabels" / "cat").mkdir(parents=True)
    for name in ("a.png", "b.png"):
        (root / "junklabels" / "cat" / name).write_text("not an image")
    (root / "junklabels" / "dog").mkdir()
    (root / "junklabels" / "dog" / "a.png").write_text("not an image")
    (root / "onelabel" / "cat").mkdir(parents=True)
    shutil.copy(FRAME, root / "onelabel" / "cat" / "a.png")
    (root / "calib").mkdir()
    for name in ("a.png", "b.png", "c.png"):
        shutil.copy(FRAME, root / "calib" / name)
    (root / "mixed").mkdir()  # calibration images of every mode, and one that is not an image
    for path in sorted((root / "odd").iterdir()):
        shutil.copy(path, root / "mixed" / path.name)
    (root / "mixed" / "broken.png").write_text("not an image")
    for label in ("even", "odd"):  # a training folder of every image mode, and one broken file
        shutil.copytree(root / "mixed", root / "mixedlabels" / label)


CONFIGS = {
    "notoml": "this is [not toml",
    "unknown_top": "colour = 'red'\n",
    "unknown_nested": "[[cameras]]\nname = 'a'\n[cameras.colors]\nq = 3\n",
    "wrong_type": "[[cameras]]\nfps = 'fast'\n",
    "wrong_type_list": "cameras = 'front'\n",
    "bool_for_int": "[[cameras]]\ntop_k = true\n",
    "range_k": "[[cameras]]\n[cameras.colors]\nk = 0\n",
    "range_fps": "[[cameras]]\nfps = 1000\n",
    "range_threshold": "[[cameras]]\nconfidence_threshold = 1.5\n",
    "nan": "[[cameras]]\nfps = nan\n",
    "log_level": "log_level = 'loud'\n",
    "no_cameras": "cameras = []\n",
    "duplicate": "[[cameras]]\nname = 'a'\n[[cameras]]\nname = 'a'\n",
    "camera_name": "[[cameras]]\nname = '../etc'\n",
    "device_name": "device = 'my pi'\n",
    "empty_source": "[[cameras]]\nsource = '  '\n",
    "roi": "[[cameras]]\nroi = [0.5, 0.5, 0.9, 0.1]\n",
    "stall": "[[cameras]]\nstall_timeout = 0\n",
    "retention": "[outputs.files]\nretention_days = -1\n",
    "url_scheme": "[outputs.mqtt]\nurl = 'http://broker'\n",
    "url_password": "[outputs.mqtt]\nurl = 'mqtt://pi:hunter2@broker'\n",
    "url_path": "[outputs.mqtt]\nurl = 'mqtt://broker/topic'\n",
    "url_port": "[outputs.mqtt]\nurl = 'mqtt://broker:70000'\n",
    "password_key": "[outputs.mqtt]\nurl = 'mqtt://broker'\npassword = 'hunter2'\n",
    "two_passwords": "[outputs.mqtt]\nurl = 'mqtt://b'\nusername = 'u'\n"
    "password_file = 'x'\npassword_env = 'Y'\n",
    "password_no_user": "[outputs.mqtt]\nurl = 'mqtt://b'\npassword_file = 'x'\n",
    "tls_half": "[outputs.mqtt]\nurl = 'mqtts://b'\ntls_cert = 'c.pem'\n",
    "backoff": "[outputs.mqtt]\nurl = 'mqtt://b'\nreconnect_min = 10\nreconnect_max = 1\n",
    "qos": "[outputs.mqtt]\nurl = 'mqtt://b'\nqos = 3\n",
    "protocol": "[outputs.mqtt]\nurl = 'mqtt://b'\nprotocol = '4'\n",
    "topic": "[outputs.mqtt]\nurl = 'mqtt://b'\ntopic_prefix = 'a/#'\n",
    "pw_missing": "[outputs.mqtt]\nurl = 'mqtt://127.0.0.1:1'\nusername = 'u'\n"
    "password_file = '{d}/secrets/nonexistent'\n",
    "pw_dir": "[outputs.mqtt]\nurl = 'mqtt://127.0.0.1:1'\nusername = 'u'\n"
    "password_file = '{d}/secrets'\n",
    "pw_empty": "[outputs.mqtt]\nurl = 'mqtt://127.0.0.1:1'\nusername = 'u'\n"
    "password_file = '{d}/secrets/empty'\n",
    "pw_binary": "[outputs.mqtt]\nurl = 'mqtt://127.0.0.1:1'\nusername = 'u'\n"
    "password_file = '{d}/secrets/binary'\n",
    "pw_noperm": "[outputs.mqtt]\nurl = 'mqtt://127.0.0.1:1'\nusername = 'u'\n"
    "password_file = '{d}/secrets/noperm'\n",
    "pw_env": "[outputs.mqtt]\nurl = 'mqtt://127.0.0.1:1'\nusername = 'u'\n"
    "password_env = 'EDGE_TEST_UNSET_PASSWORD'\n",
    "pw_credential": "[outputs.mqtt]\nurl = 'mqtt://127.0.0.1:1'\nusername = 'u'\n"
    "password_credential = 'mqtt-password'\n",
    "pw_credential_path": "[outputs.mqtt]\nurl = 'mqtt://127.0.0.1:1'\nusername = 'u'\n"
    "password_credential = '../mqtt-password'\n",
    "tls_ca_missing": "[outputs.mqtt]\nurl = 'mqtts://127.0.0.1:1'\n"
    "tls_ca = '{d}/nonexistent.pem'\n",
    "outbox_dir": "[outputs.mqtt]\nurl = 'mqtt://127.0.0.1:1'\n"
    "outbox = '{d}/secrets/binary/x.sqlite'\n",
    "model_missing": "[[cameras]]\nsource = 'demo'\nclassifier = '{d}/bundle/none/x.tflite'\n",
    "autoencoder_as_classifier": "[[cameras]]\nsource = 'demo'\n"
    "classifier = '{d}/bundle/autoencoder/digits_autoencoder.tflite'\n",
    "classifier_as_autoencoder": "[[cameras]]\nname = 'a'\nsource = 'demo'\n"
    "[[cameras]]\nname = 'b'\nsource = 'demo'\nanomaly = '{d}/bundle/good/digits.tflite'\n",
    "keras_model": "[[cameras]]\nsource = 'demo'\nclassifier = '{d}/bundle/keras/digits.keras'\n",
    "source_folder": "[[cameras]]\nsource = '{d}/img'\n",
    "files_dir_file": "[[cameras]]\nsource = 'demo'\n[outputs.files]\ndir = '{d}/img/frame.png'\n",
    "good": "[[cameras]]\nsource = 'demo'\n[outputs]\nconsole = false\n",  # runs: not bad
}


def _configs(root: Path) -> None:
    folder = root / "config"
    folder.mkdir()
    for name, text in CONFIGS.items():
        (folder / f"{name}.toml").write_text(text.replace("{d}", str(root)))
    (folder / "binary.toml").write_bytes(b"\xff\xfe\x00garbage")
    (folder / "dir.toml").mkdir()
    secrets = root / "secrets"
    secrets.mkdir()
    (secrets / "empty").write_text("\n")
    (secrets / "binary").write_bytes(b"\xff\xfe\xfd")
    (secrets / "noperm").write_text("secret\n")
    (secrets / "noperm").chmod(0)  # unreadable, except for root


def build(root: Path) -> Path:
    """Everything but the files that need TensorFlow."""
    _bundles(root)
    _images(root)
    _folders(root)
    _configs(root)
    return root


# -- with TensorFlow ---------------------------------------------------------------------------


def build_tf(root: Path, tiny_models: dict[str, tuple[Any, bytes]], preprocess: Preprocess) -> None:
    """Keras files that are not (usable) models, and bundles TensorFlow has to make."""
    import keras

    from ..support.tiny import bundle_meta, convert_keras

    k = root / "keras"
    k.mkdir()
    (k / "text.keras").write_text("not a model\n")
    (k / "garbage.h5").write_text("not HDF5\n")
    with zipfile.ZipFile(k / "noconfig.keras", "w") as archive:
        archive.writestr("metadata.json", "{}")
    softmax = tiny_models["softmax"][0]
    softmax.save(k / "classifier.keras")
    (k / "two.labels.txt").write_text("cat\ndog\n")
    inputs = keras.Input((8, 8, 3))
    x = keras.layers.Lambda(lambda t: t * 2.0)(inputs)  # arbitrary code: refused in safe mode
    x = keras.layers.Flatten()(x)
    keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(x)).save(k / "lambda.keras")
    vector = keras.Input((10,))
    flat = keras.Model(vector, keras.layers.Dense(3, activation="softmax")(vector))
    flat.save(k / "vector.keras")

    b = root / "bundle"
    float_bytes = convert_keras(softmax, preprocess, quantize=False)
    int8_meta = bundle_meta(tiny_models["softmax"][1], preprocess)
    _write(b / "float" / "tiny.tflite", float_bytes, {**int8_meta, **_classifier(3)})
    float_meta = {**bundle_meta(float_bytes, preprocess), **_classifier(3), "quantization": "int8"}
    _write(b / "floatint8" / "tiny.tflite", float_bytes, float_meta)  # honest tensors, says int8
    vector_bytes = convert_keras(flat, preprocess, quantize=False)
    meta = bundle_meta(vector_bytes, preprocess)
    _write(b / "vector" / "tiny.tflite", vector_bytes, {**meta, **_classifier(3)})


def _classifier(outputs: int) -> dict[str, Any]:
    return {"kind": "classifier", "labels": [str(i) for i in range(outputs)],
            "output_activation": "softmax"}  # fmt: skip


def _write(path: Path, model: bytes, meta: dict[str, Any]) -> None:
    from edge.inference.bundle import write_bundle

    write_bundle(path, model, meta)
