"""Model sources, loading, streaming, budgets and cancel, on a tiny Qwen2 model built here."""

from __future__ import annotations

import errno
import hashlib
import json
import os
from collections.abc import Iterator
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


def build_tiny_model(folder: Path, *, tied: bool = True, seed: int = 0) -> Path:
    """A Qwen2-shaped model with random weights and a byte-level BPE tokenizer, in ~1 s.

    With its embedding ``tied`` to the output (as in the bundled model) greedy decoding repeats
    the last token forever; untied, it writes varied, valid UTF-8 text (and may end it)."""
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
    torch.manual_seed(seed)
    config = Qwen2Config(
        vocab_size=len(tokenizer),
        hidden_size=16,
        intermediate_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=1,
        max_position_embeddings=512,
        tie_word_embeddings=tied,
        eos_token_id=tokenizer.convert_tokens_to_ids("<|im_end|>"),
        pad_token_id=tokenizer.pad_token_id,
    )
    model = Qwen2ForCausalLM(config)
    if not tied:  # a byte that is only part of a character never wins: the text stays valid
        with torch.no_grad():
            for i in range(len(tokenizer)):
                if "\ufffd" in tokenizer.decode([i]):
                    model.lm_head.weight[i] = 0.0
    model.save_pretrained(folder)
    return folder


def build_tiny_gguf(folder: Path, out: Path) -> Path:
    """The tiny model written as a GGUF file with gguf's own writer (f32 tensors, BPE vocab,
    chat template; an output matrix only when the model has one)."""
    import gguf
    from safetensors.torch import load_file

    cfg = json.loads((folder / "config.json").read_text())
    tok = json.loads((folder / "tokenizer.json").read_text())
    writer = gguf.GGUFWriter(str(out), "qwen2")
    writer.add_name("tiny qwen2")
    writer.add_context_length(cfg["max_position_embeddings"])
    writer.add_embedding_length(cfg["hidden_size"])
    writer.add_block_count(cfg["num_hidden_layers"])
    writer.add_feed_forward_length(cfg["intermediate_size"])
    writer.add_head_count(cfg["num_attention_heads"])
    writer.add_head_count_kv(cfg["num_key_value_heads"])
    writer.add_rope_freq_base(10000.0)
    writer.add_layer_norm_rms_eps(cfg["rms_norm_eps"])
    writer.add_file_type(gguf.LlamaFileType.ALL_F32)
    vocab = tok["model"]["vocab"]
    added = {t["content"]: t["id"] for t in tok["added_tokens"]}
    size = max([*vocab.values(), *added.values()]) + 1
    tokens, types = [""] * size, [gguf.TokenType.NORMAL] * size
    for text, i in vocab.items():
        tokens[i] = text
    for text, i in added.items():
        tokens[i], types[i] = text, gguf.TokenType.CONTROL
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("qwen2")
    writer.add_token_list(tokens)
    writer.add_token_types(types)
    writer.add_token_merges(
        [m if isinstance(m, str) else " ".join(m) for m in tok["model"]["merges"]]
    )
    writer.add_eos_token_id(added["<|im_end|>"])
    writer.add_pad_token_id(added["<|endoftext|>"])
    writer.add_bos_token_id(added["<|endoftext|>"])
    writer.add_chat_template(CHAT_TEMPLATE)
    names = gguf.TensorNameMap(gguf.MODEL_ARCH.QWEN2, cfg["num_hidden_layers"])
    for key, value in load_file(str(folder / "model.safetensors")).items():
        writer.add_tensor(names.get_name(key, try_suffixes=(".weight", ".bias")), value.numpy())
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return out


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
    # What arrived is the start of the uncancelled reply, and the model stopped within a few
    # tokens of the cancel (the thread mode's streamer may hold one or two already decoded).
    full = _bare_generate(tiny, 200)
    assert full.startswith("".join(received)) and len(received) == 3
    assert tiny.last_token_count <= 6


def test_a_cancelled_token_stops_before_the_first_token(tiny: TransformersGenerator) -> None:
    cancel = CancelToken()
    cancel.cancel()
    with pytest.raises(Cancelled):
        next(iter(tiny.stream(MESSAGES, max_new_tokens=10, cancel=cancel)))


def test_a_repeated_line_ends_the_reply() -> None:
    from analyzer.llm.base import until_repeated_line

    def looping() -> Iterator[str]:
        yield from ["第一阶段发布海报。\n", "第二阶段达人探店。\n", "第一阶段发布海报。\n", "更多"]

    stopped: list[bool] = []
    text = "".join(until_repeated_line(looping(), lambda: stopped.append(True)))
    assert "更多" not in text and stopped == [True]


# ---------------------------------------------------------------------------- caches


@pytest.fixture(scope="session")
def tiny_gguf(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_gguf(tiny_model_dir, tmp_path_factory.mktemp("gguf") / "tiny.gguf")


def test_a_gguf_is_converted_once_and_loads_from_the_cache(tiny_gguf: Path, monkeypatch) -> None:
    from analyzer.llm import cache

    monkeypatch.setattr(cache, "SHARD_BYTES", 8192)  # written in shards, as big models are
    options = LoadOptions(device="cpu", quantize=False)
    first = load(src.resolve(str(tiny_gguf)), options)
    assert first.converted and first.folder == cache.converted_dir(src.file_sha256(tiny_gguf))
    assert (first.folder / "model.safetensors.index.json").exists()
    config = json.loads((first.folder / "config.json").read_text())
    assert config["tie_word_embeddings"] is True  # no output matrix in the GGUF: shared
    assert first.model.lm_head.weight.data_ptr() == first.model.model.embed_tokens.weight.data_ptr()
    # the added tokens are in the tokenizer config: a warm load does not parse tokenizer.json
    # a second time for them (and a conversion stored without them is completed on loading)
    tok_config = first.folder / "tokenizer_config.json"
    stored = json.loads(tok_config.read_text())
    assert "added_tokens_decoder" in stored
    tok_config.write_text(
        json.dumps({k: v for k, v in stored.items() if k != "added_tokens_decoder"})
    )
    again = load(src.resolve(str(tiny_gguf)), options)
    assert not again.converted and again.folder == first.folder
    assert json.loads(tok_config.read_text()) == stored
    ids = TransformersGenerator(first).encode(MESSAGES)
    assert TransformersGenerator(again).encode(MESSAGES).tolist() == ids.tolist()
    assert again.tokenizer.added_tokens_decoder == first.tokenizer.added_tokens_decoder
    import torch

    with torch.inference_mode():  # the first load runs the weights as they were stored
        assert torch.equal(first.model(ids).logits, again.model(ids).logits)


def test_a_converted_model_drafts_the_same_before_and_after_its_int8_cache_is_rebuilt(
    tiny_gguf: Path,
) -> None:
    import shutil

    from analyzer.llm import cache

    options = LoadOptions(device="cpu")
    source = src.resolve(str(tiny_gguf))
    first = load(source, options)  # converts, then quantizes the weights in memory
    assert first.converted and "quantize" in first.seconds
    shutil.rmtree(cache.int8_dir(first.folder))
    again = load(source, options)  # quantizes the stored conversion afresh
    assert not again.converted and "quantize" in again.seconds
    texts = []
    for loaded in (first, again):
        gen = TransformersGenerator(loaded)
        gen.sampling = Sampling(repetition_penalty=1.0, stop_on_repeated_line=False)
        texts.append("".join(gen.stream(MESSAGES, max_new_tokens=24)))
    assert texts[0] == texts[1]
    import torch

    ids = TransformersGenerator(first).encode(MESSAGES)
    with torch.inference_mode():
        assert torch.equal(first.model(ids).logits, again.model(ids).logits)


def test_a_damaged_gguf_is_a_clear_error_and_is_never_cached(tiny_gguf: Path, tmp_path: Path):
    from analyzer.llm import cache

    bad = tmp_path / "cut.gguf"
    bad.write_bytes(tiny_gguf.read_bytes()[:20])  # the header, cut short
    with pytest.raises(ModelError, match=r"无法读取 GGUF 文件.*cut\.gguf.*不完整或已损坏"):
        load(src.resolve(str(bad)), LoadOptions(device="cpu"))
    assert cache.cached(src.file_sha256(bad)) is None


def test_the_second_quantized_load_reads_int8_weights_and_writes_the_same(tiny_model_dir: Path):
    from analyzer.llm import cache

    options = LoadOptions(device="cpu")
    first = load(src.resolve(str(tiny_model_dir)), options)
    assert (
        "quantize" in first.seconds and (cache.int8_dir(tiny_model_dir) / cache.INT8_FILE).exists()
    )
    second = load(src.resolve(str(tiny_model_dir)), options)
    assert "quantize" not in second.seconds  # rebuilt from the cache, not quantized again
    layer = second.model.model.layers[0].mlp.up_proj
    assert "quantized" in type(layer).__module__
    a, b = TransformersGenerator(first), TransformersGenerator(second)
    for g in (a, b):
        g.sampling = Sampling(repetition_penalty=1.0, stop_on_repeated_line=False)
    assert "".join(a.stream(MESSAGES, max_new_tokens=16)) == "".join(
        b.stream(MESSAGES, max_new_tokens=16)
    )


def test_new_weights_in_the_folder_miss_the_int8_cache(tiny_model_dir: Path, tmp_path: Path):
    from analyzer.llm import cache

    folder = tmp_path / "copy"
    folder.mkdir()
    for f in tiny_model_dir.iterdir():
        (folder / f.name).write_bytes(f.read_bytes())
    before = cache.int8_dir(folder)
    (folder / "model.safetensors").write_bytes((folder / "model.safetensors").read_bytes())
    os.utime(folder / "model.safetensors", ns=(1, 1))
    assert cache.int8_dir(folder) != before


# ---------------------------------------------------------------------------- errors, devices


def test_an_encoder_model_folder_is_refused(tmp_path: Path, tiny_model_dir: Path) -> None:
    from transformers import BertConfig, BertForMaskedLM

    folder = tmp_path / "bert"
    BertForMaskedLM(
        BertConfig(
            vocab_size=64, hidden_size=8, num_hidden_layers=1, num_attention_heads=2,
            intermediate_size=16,
        )
    ).save_pretrained(folder)  # fmt: skip
    (folder / "tokenizer.json").write_text((tiny_model_dir / "tokenizer.json").read_text())
    with pytest.raises(ModelError, match=r"不支持的模型架构 'bert'.*编码器"):
        load(src.resolve(str(folder)), LoadOptions(device="cpu"))


def test_running_out_of_memory_says_so_and_how_much_is_needed() -> None:
    from analyzer.llm import loader

    mmap = RuntimeError(
        "unable to mmap 1038858752 bytes from file </x/int8.safetensors>: "
        "Cannot allocate memory (12)"
    )
    assert loader.is_out_of_memory(mmap)
    assert loader.is_out_of_memory(OSError(errno.ENOMEM, "Cannot allocate memory"))
    assert not loader.is_out_of_memory(RuntimeError("shape mismatch"))
    with pytest.raises(ModelError, match=f"内存不足.*{loader.COLD_PEAK_GB} GB") as info:
        loader.with_model_errors(src.resolve(None), lambda: (_ for _ in ()).throw(mmap))
    assert isinstance(info.value.__cause__, RuntimeError)


@pytest.mark.parametrize(("bf16", "dtype"), [(True, "bfloat16"), (False, "float16")])
def test_cuda_runs_in_bf16_or_fp16_without_quantizing(monkeypatch, bf16: bool, dtype: str):
    import torch

    from analyzer.llm.device import choose

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: bf16)
    placement = choose(LoadOptions())
    assert (placement.device, placement.dtype_name, placement.quantized) == ("cuda", dtype, False)
    assert choose(LoadOptions(device="cpu")).device == "cpu"


def test_asking_for_cuda_without_a_gpu_is_a_clear_error(monkeypatch) -> None:
    import torch

    from analyzer.llm.device import choose

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ModelError, match=r"--device cuda.*没有找到 CUDA GPU"):
        choose(LoadOptions(device="cuda"))


def test_the_generating_thread_gets_the_thread_count_and_flushes_denormals() -> None:
    import threading

    import torch

    from analyzer.llm.device import Placement, configure_thread, physical_cores

    seen: dict[str, object] = {}
    placement = Placement("cpu", "float32", True, 1)

    def work(flush: bool) -> None:
        configure_thread(placement, LoadOptions(flush_denormal=flush))
        seen["threads"] = torch.get_num_threads()
        tiny = torch.tensor([1e-39], dtype=torch.float32)
        seen[f"flush={flush}"] = float(tiny * 1.0)

    for flush in (True, False):
        t = threading.Thread(target=work, args=(flush,))
        t.start()
        t.join()
    assert seen["threads"] == 1
    assert seen["flush=True"] == 0.0 and seen["flush=False"] > 0.0
    assert 1 <= physical_cores() <= (os.cpu_count() or 1)


def test_streaming_uses_the_current_cache_argument(tiny: TransformersGenerator, recwarn) -> None:
    list(tiny.stream(MESSAGES, max_new_tokens=6))
    assert not [w for w in recwarn.list if "past_key_values" in str(w.message)]


# ---------------------------------------------------------------------------- bundled default


def test_a_damaged_bundled_file_is_assembled_again_not_trusted(tmp_path, monkeypatch) -> None:
    data = bytes(range(256)) * 10
    _fake_parts(tmp_path, monkeypatch, data)
    joined = b"".join((tmp_path / f"part{i:02d}.bin").read_bytes() for i in range(3))
    monkeypatch.setattr(src, "BUNDLED_SHA256", hashlib.sha256(joined).hexdigest())
    path = src.install_default()
    path.write_bytes(b"\0" * len(joined))  # same size, wrong bytes
    assert src.bundled_installed() and not src.bundled_verified()
    assert src.install_default().read_bytes() == joined


def test_install_default_prints_the_hash_it_checked(tmp_path, monkeypatch, capsys) -> None:
    from analyzer.cli import main

    data = bytes(range(256)) * 10
    _fake_parts(tmp_path, monkeypatch, data)
    joined = b"".join((tmp_path / f"part{i:02d}.bin").read_bytes() for i in range(3))
    good = hashlib.sha256(joined).hexdigest()
    monkeypatch.setattr(src, "BUNDLED_SHA256", good)
    assert main(["models", "install-default"]) == 0
    assert f"SHA-256 {good} ✓" in capsys.readouterr().out
    monkeypatch.setattr(src, "install_default", lambda **kw: src.bundled_path())
    src.bundled_path().write_bytes(b"\0" * len(joined))
    assert main(["models", "install-default"]) == 1
    captured = capsys.readouterr()
    assert "✓" not in captured.out and "SHA-256" in captured.err
