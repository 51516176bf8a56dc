"""Model sources, loading, streaming, budgets and cancel, on a tiny Qwen2 model built here."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from analyzer.errors import Cancelled, ModelError
from analyzer.llm import LoadOptions, load_generator, unload
from analyzer.llm import sources as src
from analyzer.llm.generate import Sampling, TransformersGenerator
from analyzer.llm.loader import current, get_model, load
from analyzer.progress import CancelToken

CHAT_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
CORPUS = [
    "营销背景与挑战：品牌在年轻人群中的认知度偏低。",
    "策略与创意：以城市记忆为核心洞察，线上话题与线下门店联动。",
    "营销效果：话题阅读量3.2亿，门店客流同比增长27%。",
    "The quick brown fox jumps over the lazy dog 0123456789.",
]
MESSAGES = [
    {"role": "system", "content": "你是撰稿人。"},
    {"role": "user", "content": "请写营销背景。"},
]


def build_tiny_model(folder: Path) -> Path:
    """A Qwen2-shaped model with random weights and a byte-level BPE tokenizer, in ~1 s."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM

    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400,
        special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    bpe.train_from_iterator(CORPUS, trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=bpe, eos_token="<|im_end|>", pad_token="<|endoftext|>"
    )
    tokenizer.chat_template = CHAT_TEMPLATE
    tokenizer.save_pretrained(folder)
    torch.manual_seed(0)
    config = Qwen2Config(
        vocab_size=len(tokenizer),
        hidden_size=16,
        intermediate_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=1,
        max_position_embeddings=512,
        tie_word_embeddings=True,
        eos_token_id=tokenizer.convert_tokens_to_ids("<|im_end|>"),
        pad_token_id=tokenizer.pad_token_id,
    )
    Qwen2ForCausalLM(config).save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("tiny-qwen2"))


@pytest.fixture
def tiny(tiny_model_dir: Path) -> TransformersGenerator:
    """The tiny model in fp32, unquantized (so its output can be compared with generate)."""
    options = LoadOptions(device="cpu", quantize=False)
    generator = load_generator(str(tiny_model_dir), options=options)
    generator.sampling = Sampling(repetition_penalty=1.0, stop_on_repeated_line=False)
    return generator


@pytest.fixture(autouse=True)
def _own_model_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWARD_WRITER_MODELS", str(tmp_path / "models"))


# ---------------------------------------------------------------------------- sources


def test_no_model_named_means_the_bundled_default() -> None:
    for spec in (None, "", "default", "bundled"):
        assert src.resolve(spec).kind == "bundled"


def test_a_folder_and_a_gguf_file_resolve_to_themselves(tiny_model_dir: Path, tmp_path: Path):
    assert src.resolve(str(tiny_model_dir)).kind == "folder"
    gguf = tmp_path / "m.gguf"
    gguf.write_bytes(b"GGUF")
    assert src.resolve(str(gguf)) == src.ModelSource("gguf", str(gguf.resolve()), "m.gguf")


def test_a_hub_name_needs_an_explicit_download() -> None:
    with pytest.raises(ModelError, match="--download"):
        src.resolve("Qwen/Qwen2.5-1.5B-Instruct")
    assert src.resolve("Qwen/Qwen2.5-1.5B-Instruct", download=True).kind == "hub"


def test_an_incomplete_folder_names_what_is_missing(tiny_model_dir: Path, tmp_path: Path):
    folder = tmp_path / "model"
    folder.mkdir()
    with pytest.raises(ModelError, match=r"不完整：缺少 config\.json"):
        src.resolve(str(folder))
    (folder / "config.json").write_text((tiny_model_dir / "config.json").read_text())
    with pytest.raises(ModelError, match="没有权重文件"):
        src.resolve(str(folder))
    index = {"weight_map": {"a": "model-00001-of-00002.safetensors"}}
    (folder / "model.safetensors.index.json").write_text(json.dumps(index))
    with pytest.raises(ModelError, match=r"缺少 model-00001-of-00002\.safetensors"):
        src.resolve(str(folder))
    (folder / "model.safetensors.index.json").unlink()
    (folder / "model.safetensors").write_bytes(b"")
    with pytest.raises(ModelError, match="没有分词器文件"):
        src.resolve(str(folder))


def test_a_missing_path_is_reported() -> None:
    with pytest.raises(ModelError, match="找不到模型文件夹或文件"):
        src.resolve("./no/such/model")


def _fake_parts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, data: bytes) -> None:
    parts = []
    for i in range(3):
        part = tmp_path / f"part{i:02d}.bin"
        part.write_bytes(data[i::3])  # deliberately interleaved: order matters
        parts.append(part)
    monkeypatch.setattr(src, "bundled_parts", lambda: parts)
    monkeypatch.setattr(src, "BUNDLED_SIZE", len(data))


def test_the_bundled_model_is_assembled_once_and_checked(tmp_path, monkeypatch) -> None:
    data = bytes(range(256)) * 10
    _fake_parts(tmp_path, monkeypatch, data)
    joined = b"".join((tmp_path / f"part{i:02d}.bin").read_bytes() for i in range(3))
    monkeypatch.setattr(src, "BUNDLED_SHA256", hashlib.sha256(joined).hexdigest())
    path = src.install_default()
    assert path.read_bytes() == joined
    assert src.bundled_installed()
    mtime = path.stat().st_mtime_ns
    assert src.install_default() == path and path.stat().st_mtime_ns == mtime
    assert src.file_sha256(path) == hashlib.sha256(joined).hexdigest()


def test_a_bundled_model_with_the_wrong_hash_is_refused(tmp_path, monkeypatch) -> None:
    _fake_parts(tmp_path, monkeypatch, b"x" * 999)
    monkeypatch.setattr(src, "BUNDLED_SHA256", "0" * 64)
    with pytest.raises(ModelError, match="SHA-256"):
        src.install_default()
    assert not src.bundled_path().exists()
    assert not list(src.bundled_path().parent.iterdir())  # no half file left behind


def test_missing_bundled_wheels_say_how_to_install(monkeypatch) -> None:
    monkeypatch.setattr(src, "BUNDLED_PARTS", ("award-writer-no-such-dist",))
    with pytest.raises(ModelError, match=r"bundled-model"):
        src.bundled_parts()


# ---------------------------------------------------------------------------- loading


def test_an_unsupported_architecture_is_a_clear_error(tiny_model_dir: Path, tmp_path: Path):
    folder = tmp_path / "odd"
    folder.mkdir()
    for f in tiny_model_dir.iterdir():
        (folder / f.name).write_bytes(f.read_bytes())
    config = json.loads((folder / "config.json").read_text())
    config.update(model_type="my_custom_lm", auto_map={"AutoModelForCausalLM": "x.Y"})
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelError, match="不支持的模型架构 'my_custom_lm'"):
        load(src.resolve(str(folder)), LoadOptions(device="cpu"))


def test_a_file_that_is_not_gguf_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"PK\x03\x04 not a model")
    with pytest.raises(ModelError, match="不是 GGUF 文件"):
        load(src.resolve(str(bad)), LoadOptions(device="cpu"))


def test_one_model_per_process_and_unload(tiny_model_dir: Path) -> None:
    source = src.resolve(str(tiny_model_dir))
    options = LoadOptions(device="cpu", quantize=False)
    first = get_model(source, options)
    assert get_model(source, options) is first
    unload()
    assert current() is None
    assert get_model(source, options) is not first


def test_cpu_loading_quantizes_linear_layers_to_int8(tiny_model_dir: Path) -> None:
    generator = load_generator(str(tiny_model_dir), options=LoadOptions(device="cpu"))
    layer = generator.loaded.model.model.layers[0].mlp.up_proj
    assert generator.loaded.placement.quantized
    assert "quantized" in type(layer).__module__
    assert "".join(generator.stream(MESSAGES, max_new_tokens=6))  # still generates


# ---------------------------------------------------------------------------- streaming


def _bare_generate(generator: TransformersGenerator, n: int) -> str:
    import torch

    ids = generator.encode(MESSAGES)
    with torch.inference_mode():
        out = generator.loaded.model.generate(
            ids,
            attention_mask=torch.ones_like(ids),
            max_new_tokens=n,
            do_sample=False,
            eos_token_id=sorted(generator.eos_ids),
            pad_token_id=generator.loaded.tokenizer.pad_token_id,
        )
    return str(generator.loaded.tokenizer.decode(out[0, ids.shape[1] :], skip_special_tokens=True))


@pytest.mark.parametrize("mode", ["loop", "thread"])
def test_streamed_text_is_what_generate_would_write(tiny: TransformersGenerator, mode: str):
    tiny.sampling = Sampling(repetition_penalty=1.0, mode=mode, stop_on_repeated_line=False)
    pieces = list(tiny.stream(MESSAGES, max_new_tokens=24))
    assert len(pieces) > 1  # streamed, not returned at the end
    assert "".join(pieces) == _bare_generate(tiny, 24)


def test_the_token_budget_is_respected(tiny: TransformersGenerator) -> None:
    list(tiny.stream(MESSAGES, max_new_tokens=5))
    assert tiny.last_token_count <= 5
    assert tiny.finish_reason in ("max_tokens", "eos")


def test_the_time_budget_stops_generation(tiny: TransformersGenerator) -> None:
    list(tiny.stream(MESSAGES, max_new_tokens=200, time_budget=0.0))
    assert tiny.finish_reason == "time"
    assert tiny.last_token_count == 1


@pytest.mark.parametrize("mode", ["loop", "thread"])
def test_cancel_stops_at_the_next_token(tiny: TransformersGenerator, mode: str) -> None:
    tiny.sampling = Sampling(repetition_penalty=1.0, mode=mode, stop_on_repeated_line=False)
    cancel = CancelToken()
    received = []
    with pytest.raises(Cancelled):
        for piece in tiny.stream(MESSAGES, max_new_tokens=200, cancel=cancel):
            received.append(piece)
            if len(received) == 3:
                cancel.cancel()
    assert tiny.finish_reason == "cancelled"
    assert tiny.last_token_count < 50


def test_a_cancelled_token_stops_before_the_first_token(tiny: TransformersGenerator) -> None:
    cancel = CancelToken()
    cancel.cancel()
    with pytest.raises(Cancelled):
        next(iter(tiny.stream(MESSAGES, max_new_tokens=10, cancel=cancel)))


def test_a_repeated_line_ends_the_reply(tiny: TransformersGenerator) -> None:
    tiny.sampling = Sampling(repetition_penalty=1.0)

    def looping() -> object:
        yield from ["第一阶段发布海报。\n", "第二阶段达人探店。\n", "第一阶段发布海报。\n", "更多"]

    text = "".join(tiny._until_repeated_line(looping()))  # type: ignore[arg-type]
    assert "更多" not in text and tiny.finish_reason == "repetition"
