"""The real loading and streaming path from the 撰写 page, on a tiny Qwen2 model built here."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

CHAT_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def build_tiny_qwen(folder: Path) -> Path:
    """A Qwen2-shaped model with a few thousand random weights and a byte-level BPE tokenizer
    (the kind Qwen's own tokenizer class expects), saved the way a model download looks."""
    pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    import torch
    from tokenizers import ByteLevelBPETokenizer

    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    corpus = "我们以真实用户故事为核心，联动社区与媒体，垃圾分类 AI 大赛总曝光 3000 万次。" * 3
    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator([corpus], vocab_size=600, min_frequency=1, special_tokens=specials)
    fast = transformers.PreTrainedTokenizerFast(
        tokenizer_object=bpe._tokenizer,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        additional_special_tokens=["<|im_start|>"],
    )
    fast.chat_template = CHAT_TEMPLATE
    fast.save_pretrained(folder)
    vocab_size = bpe.get_vocab_size()
    config = transformers.Qwen2Config(
        vocab_size=vocab_size,
        hidden_size=16,
        intermediate_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=1,
        max_position_embeddings=4096,
        eos_token_id=bpe.token_to_id("<|im_end|>"),
        tie_word_embeddings=False,
    )
    torch.manual_seed(0)
    model = transformers.Qwen2ForCausalLM(config)
    # Random weights would write whatever the prompt tips them to (rules, blanks, nothing). The
    # output layer sees one hidden unit and only two Chinese characters, so every reply is
    # Chinese text, whichever sign that unit takes.
    wo, men = [
        ids[0] for ch in dict.fromkeys(corpus) if len(ids := bpe.encode(ch).ids) == 1 and ch >= "一"
    ][:2]
    with torch.no_grad():
        model.model.norm.weight.zero_()
        model.model.norm.weight[0] = 1.0
        model.lm_head.weight.zero_()
        model.lm_head.weight[wo, 0] = 10.0
        model.lm_head.weight[men, 0] = -10.0
    model.save_pretrained(folder, safe_serialization=True)
    return folder


def test_draft_a_section_with_a_tiny_local_model(
    window: Any, wait_job: Any, tmp_path: Path
) -> None:
    folder = build_tiny_qwen(tmp_path / "tiny-qwen")
    page = window.settings_page
    page.generator.setCurrentIndex(page.generator.findData("folder"))
    page.generator_path.setText(str(folder))
    page.device.setCurrentIndex(page.device.findData("cpu"))
    page.threads.setValue(1)
    assert page.apply()

    draft = window.draft_page
    window.show_page(2)
    draft.form.notes["background"].setPlainText("垃圾分类新规实施")
    progress: list[str] = []
    draft.generate_section("background")
    job = draft.generation._job
    job.signals.progress.connect(lambda p: progress.append(p.message))
    wait_job(job, timeout=180_000)
    assert window.message_bar.level != "error", window.message_bar.text
    assert draft.editors["background"].text().strip()
    # a tiny random model writes noise: kept when it passes the gates, else the brief's facts
    status = draft.editors["background"].status_label.text()
    assert status.startswith("完成") or status.endswith("已按简报组织成文"), status
    if status.endswith("已按简报组织成文"):
        assert draft.editors["background"].text() == "垃圾分类新规实施。"
    assert (
        window.session.models.get("generator") is not None
    )  # loaded once, kept for the next section
