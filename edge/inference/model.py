"""A TFLite model run on RGB frames: preprocess, quantize into the input tensor, invoke,
dequantize. The classifier and the anomaly detector are thin layers on top of it.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import numpy.typing as npt

from edge.errors import BundleError, ModelError
from edge.inference.bundle import Bundle, TensorSpec
from edge.inference.preprocess import FramePreprocessor, Preprocess, dequantize, quantize
from edge.inference.runtime import make_interpreter

logger = logging.getLogger(__name__)


class TFLiteModel:
    """One interpreter with one image input and one output.

    Per frame, nothing is allocated that a buffer made once can hold: the frame is resized
    through preallocated buffers (not at all when it already has the input's size), then mapped
    by a 256-entry lookup table from pixel value to tensor value (built once from the
    preprocessing's normalisation and the input's scale and zero point) straight into the
    interpreter's input tensor; the output is dequantized into a buffer the caller keeps
    (``run(rgb, out=...)``). Where the table is exactly a bit operation, that is done instead:
    for 0..1 inputs quantized with scale 1/255 and zero point -128 (what ``edge convert`` makes)
    the int8 value of pixel x is x - 128, whose byte is ``x ^ 0x80``; the identity table is a
    copy.
    """

    def __init__(self, model_content: bytes, preprocess: Preprocess, num_threads: int = 1) -> None:
        self.preprocess = preprocess
        self.interpreter = make_interpreter(model_content, num_threads)
        inputs = self.interpreter.get_input_details()
        outputs = self.interpreter.get_output_details()
        if len(inputs) != 1 or len(outputs) != 1:
            raise ModelError(
                "expected a model with one input and one output, "
                f"got {len(inputs)} and {len(outputs)}"
            )
        self._input_index = int(inputs[0]["index"])
        # what gives a view of the input buffer (it holds the interpreter, not the buffer)
        self._input_tensor = self.interpreter.tensor(self._input_index)
        self._output_index = int(outputs[0]["index"])
        self.input = TensorSpec.from_detail(inputs[0])
        self.output = TensorSpec.from_detail(outputs[0])
        self._check_input()
        self._lut = self._input_lut()
        self._lut_bytes = self._lut.view(np.uint8)
        self.input_path = input_path(self._lut)
        self._frames = FramePreprocessor(preprocess)
        self._dequantized = self._output_table()

    @property
    def output_table(self) -> npt.NDArray[np.float32] | None:
        """For an 8-bit output, the float value of each byte value; else None."""
        return self._dequantized

    def _check_input(self) -> None:
        expected = (1, self.preprocess.height, self.preprocess.width, self.preprocess.channels)
        if self.input.shape != expected:
            raise ModelError(
                f"model input shape {list(self.input.shape)} is not an image of "
                f"{list(expected)} as the preprocessing says"
            )

    def _input_lut(self) -> npt.NDArray[Any]:
        offset, divisor = self.preprocess.affine
        values = (np.arange(256, dtype=np.float32) - offset) / divisor
        dtype = np.dtype(self.input.dtype)
        if not self.input.quantized:
            return values.astype(dtype)
        if self.input.scale <= 0:
            raise ModelError(f"input tensor is {dtype} but has no quantization scale")
        return quantize(values, self.input.scale, self.input.zero_point, dtype)

    def _output_table(self) -> npt.NDArray[np.float32] | None:
        """For an 8-bit output: the float value of each of its 256 byte values, by byte."""
        if not self.output.quantized:
            return None
        dtype = np.dtype(self.output.dtype)
        values = np.arange(256, dtype=np.uint8).view(dtype)  # the byte's value in that type
        return dequantize(values, self.output.scale, self.output.zero_point)

    def set_input(self, rgb: npt.NDArray[np.uint8]) -> None:
        """Preprocess one RGB frame straight into the input tensor."""
        pixels = self._frames(rgb)
        view = self._input_tensor()
        path = self.input_path
        if path == "xor":  # exactly the table (input_path checked it)
            np.bitwise_xor(pixels, 0x80, out=view[0].view(np.uint8))
        elif path == "copy":
            np.copyto(view[0].view(np.uint8), pixels)
        elif path == "lut":  # int8 or uint8: map to the table's bytes
            import cv2

            cv2.LUT(pixels, self._lut_bytes, dst=view[0].view(np.uint8))
        else:
            np.take(self._lut, pixels, out=view[0])
        del view  # the interpreter refuses to invoke while a view of its buffers is alive

    def invoke(self) -> None:
        try:
            self.interpreter.invoke()
        except RuntimeError as exc:
            raise ModelError(f"the interpreter failed: {exc}") from exc

    def raw_output(self) -> npt.NDArray[Any]:
        return self.interpreter.get_tensor(self._output_index)  # type: ignore[no-any-return]

    def run_bytes(self, rgb: npt.NDArray[np.uint8]) -> bytes:
        """One frame through the model: its output's bytes as they are (for an 8-bit output, a
        byte a value: see ``output_table``)."""
        self.set_input(rgb)
        try:
            self.interpreter.invoke()
        except RuntimeError as exc:
            raise ModelError(f"the interpreter failed: {exc}") from exc
        return self.interpreter.get_tensor(self._output_index).tobytes()  # type: ignore[no-any-return]

    def output_float(self, out: npt.NDArray[np.float32] | None = None) -> npt.NDArray[np.float32]:
        """The output without its batch axis, dequantized with the tensor's scale and zero point;
        written into ``out`` when given (a buffer of the output's shape), else a new array."""
        raw = self.interpreter.get_tensor(self._output_index)[0]  # a copy: quicker than a view
        if self._dequantized is not None:  # the reference dequantize, looked up by byte
            if out is None:
                found: npt.NDArray[np.float32] = self._dequantized[raw.view(np.uint8)]
                return found
            np.take(self._dequantized, raw.view(np.uint8), out=out)
            return out
        if out is None:
            return np.asarray(raw, np.float32)
        np.copyto(out, raw)
        return out

    def input_float(self) -> npt.NDArray[np.float32]:
        """The current input without its batch axis, as the float values it stands for."""
        raw = self.interpreter.get_tensor(self._input_index)[0]
        if self.input.quantized:
            return dequantize(raw, self.input.scale, self.input.zero_point)
        as_float: npt.NDArray[np.float32] = raw.astype(np.float32)
        return as_float

    def run(
        self, rgb: npt.NDArray[np.uint8], out: npt.NDArray[np.float32] | None = None
    ) -> npt.NDArray[np.float32]:
        """One frame through the model: its dequantized output (in ``out`` when given)."""
        self.set_input(rgb)
        self.invoke()
        return self.output_float(out)

    @classmethod
    def from_bundle(cls, bundle: Bundle, num_threads: int = 1) -> TFLiteModel:
        """The bundle's model, refused when its tensors differ from what the sidecar says."""
        model = cls(bundle.model_bytes, bundle.preprocess, num_threads)
        for what, expected, actual in (
            ("input", bundle.input, model.input),
            ("output", bundle.output, model.output),
        ):
            problem = expected.mismatch(actual)
            if problem:
                raise BundleError(
                    f"{bundle.path}: model {what} {problem} in {bundle.sidecar_path.name}; "
                    "the sidecar does not belong to this model, convert it again"
                )
        return model


def input_path(table: npt.NDArray[Any]) -> str:
    """How pixels become input values for this lookup table (pixel value to tensor value): "copy"
    or "xor" (flip the top bit) when the table's bytes are exactly that, "lut" for another
    one-byte table, "take" for a wider type."""
    if table.itemsize != 1:
        return "take"
    values = table.view(np.uint8)
    if np.array_equal(values, _BYTES):
        return "copy"
    if np.array_equal(values, _BYTES ^ 0x80):
        return "xor"
    return "lut"


_BYTES = np.arange(256, dtype=np.uint8)
