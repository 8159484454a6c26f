"""Build an openai-whisper checkpoint (.pt) from the bundled CTranslate2 Whisper base, for tests and the bench.

Nothing may be downloaded here, and no openai-whisper weights ship on the package registry; the
CTranslate2 conversion holds the same tensors (float16), only renamed and with q/k/v fused, so the
two engines can be compared on identical weights. Not part of the product.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

_DTYPES = {0: np.float32, 1: np.int8, 2: np.int16, 3: np.int32, 4: np.float16}
BASE_DIMS = {
    "n_mels": 80,
    "n_audio_ctx": 1500,
    "n_audio_state": 512,
    "n_audio_head": 8,
    "n_audio_layer": 6,
    "n_vocab": 51865,
    "n_text_ctx": 448,
    "n_text_state": 512,
    "n_text_head": 8,
    "n_text_layer": 6,
}


def read_ctranslate2(path: Path) -> dict[str, np.ndarray]:
    """The variables of a CTranslate2 model.bin (format version 6), by name."""
    with path.open("rb") as handle:

        def string() -> str:
            (length,) = struct.unpack("H", handle.read(2))
            return handle.read(length)[:-1].decode()

        def number(kind: str, source: BinaryIO = handle) -> Any:
            return struct.unpack(kind, source.read(struct.calcsize(kind)))[0]

        version = number("I")
        if version != 6:
            raise ValueError(f"unsupported CTranslate2 model version {version}")
        string()
        number("I")
        variables: dict[str, np.ndarray] = {}
        for _ in range(number("I")):
            name = string()
            rank = handle.read(1)[0]
            shape = struct.unpack(f"{rank}I", handle.read(4 * rank))
            dtype = _DTYPES[handle.read(1)[0]]
            size = number("I")
            variables[name] = np.frombuffer(handle.read(size), dtype=dtype).reshape(shape)
    return variables


def _attention(out: dict[str, np.ndarray], target: str, fused: list[tuple[str, np.ndarray, np.ndarray]]) -> None:
    for part, weight, bias in fused:
        out[f"{target}.{part}.weight"] = weight
        if part != "key":  # Whisper's key projection has no bias (CTranslate2 stores zeros)
            out[f"{target}.{part}.bias"] = bias


def openai_state_dict(ct2: dict[str, np.ndarray], layers: int, width: int) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}

    def split(prefix: str, names: tuple[str, ...]) -> list[tuple[str, np.ndarray, np.ndarray]]:
        weight, bias = ct2[f"{prefix}/weight"], ct2[f"{prefix}/bias"]
        return [
            (n, weight[i * width : (i + 1) * width], bias[i * width : (i + 1) * width]) for i, n in enumerate(names)
        ]

    def linear(prefix: str, part: str) -> tuple[str, np.ndarray, np.ndarray]:
        return part, ct2[f"{prefix}/weight"], ct2[f"{prefix}/bias"]

    def norm(target: str, prefix: str) -> None:
        out[f"{target}.weight"], out[f"{target}.bias"] = ct2[f"{prefix}/gamma"], ct2[f"{prefix}/beta"]

    def block(side: str, i: int) -> None:
        source, target = f"{side}/layer_{i}", f"{side}.blocks.{i}"
        _attention(
            out,
            f"{target}.attn",
            [
                *split(f"{source}/self_attention/linear_0", ("query", "key", "value")),
                linear(f"{source}/self_attention/linear_1", "out"),
            ],
        )
        norm(f"{target}.attn_ln", f"{source}/self_attention/layer_norm")
        if side == "decoder":
            _attention(
                out,
                f"{target}.cross_attn",
                [
                    linear(f"{source}/attention/linear_0", "query"),
                    *split(f"{source}/attention/linear_1", ("key", "value")),
                    linear(f"{source}/attention/linear_2", "out"),
                ],
            )
            norm(f"{target}.cross_attn_ln", f"{source}/attention/layer_norm")
        for index, name in ((0, "0"), (1, "2")):
            out[f"{target}.mlp.{name}.weight"] = ct2[f"{source}/ffn/linear_{index}/weight"]
            out[f"{target}.mlp.{name}.bias"] = ct2[f"{source}/ffn/linear_{index}/bias"]
        norm(f"{target}.mlp_ln", f"{source}/ffn/layer_norm")

    for conv in ("conv1", "conv2"):
        out[f"encoder.{conv}.weight"] = ct2[f"encoder/{conv}/weight"]
        out[f"encoder.{conv}.bias"] = ct2[f"encoder/{conv}/bias"]
    out["encoder.positional_embedding"] = ct2["encoder/position_encodings/encodings"]
    out["decoder.token_embedding.weight"] = ct2["decoder/embeddings/weight"]
    out["decoder.positional_embedding"] = ct2["decoder/position_encodings/encodings"]
    norm("encoder.ln_post", "encoder/layer_norm")
    norm("decoder.ln", "decoder/layer_norm")
    for i in range(layers):
        block("encoder", i)
        block("decoder", i)
    return out


def write_openai_checkpoint(ct2_model_dir: Path, target: Path) -> Path:
    """Write `target` (.pt) from the CTranslate2 Whisper base in `ct2_model_dir`, once."""
    if target.exists():
        return target
    import torch

    ct2 = read_ctranslate2(ct2_model_dir / "model.bin")
    state = openai_state_dict(ct2, BASE_DIMS["n_text_layer"], BASE_DIMS["n_text_state"])
    tensors = {name: torch.from_numpy(np.array(value, dtype=np.float16)) for name, value in state.items()}
    target.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"dims": dict(BASE_DIMS), "model_state_dict": tensors}, target)
    return target
