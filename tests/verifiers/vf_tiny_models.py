"""Tiny random models saved to folders, so the real loading code (from_pretrained / from_hparams /
torch.load) runs offline. Weights are random: tests check plumbing and invariants, not accuracy."""
from __future__ import annotations

import os
import re

import torch

SB_LABELS = ["neu", "ang", "hap", "sad"]


def _byte_chars():
    """GPT-2 byte-to-unicode table (Whisper's byte-level BPE alphabet)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs, n = bs[:], 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return [chr(c) for c in cs]


def make_whisper(folder: str, d_model: int = 32, layers: int = 1, heads: int = 2, ffn: int = 32,
                 vocab_size: int | None = None) -> str:
    """Tiny by default; the keyword sizes build a real-shape random Whisper for benchmarks (e.g. whisper-base:
    d_model 512, 6 layers, 8 heads, ffn 2048, vocab 51865; ids beyond the byte tokenizer decode to nothing)."""
    from transformers import (GenerationConfig, WhisperConfig, WhisperFeatureExtractor,
                              WhisperForConditionalGeneration, WhisperProcessor, WhisperTokenizer)
    tok = WhisperTokenizer(vocab={c: i for i, c in enumerate(_byte_chars())}, merges=[])
    specials = ["<|startoftranscript|>", "<|en|>", "<|zh|>", "<|translate|>", "<|transcribe|>",
                "<|startoflm|>", "<|startofprev|>", "<|nospeech|>", "<|notimestamps|>"]
    tok.add_special_tokens({"additional_special_tokens": specials})
    ids = {s: tok.convert_tokens_to_ids(s) for s in specials + ["<|endoftext|>"]}
    eot = ids["<|endoftext|>"]
    cfg = WhisperConfig(vocab_size=max(len(tok), vocab_size or 0), num_mel_bins=80, d_model=d_model,
                        encoder_layers=layers, decoder_layers=layers, encoder_attention_heads=heads,
                        decoder_attention_heads=heads, encoder_ffn_dim=ffn, decoder_ffn_dim=ffn,
                        max_source_positions=1500, max_target_positions=64 if vocab_size is None else 448,
                        init_std=0.3 if vocab_size is None else 0.02,
                        decoder_start_token_id=ids["<|startoftranscript|>"], eos_token_id=eot, pad_token_id=eot,
                        bos_token_id=eot)
    torch.manual_seed(0)
    model = WhisperForConditionalGeneration(cfg)
    model.generation_config = GenerationConfig(
        decoder_start_token_id=ids["<|startoftranscript|>"], eos_token_id=eot, pad_token_id=eot,
        lang_to_id={"<|en|>": ids["<|en|>"], "<|zh|>": ids["<|zh|>"]},
        task_to_id={"transcribe": ids["<|transcribe|>"], "translate": ids["<|translate|>"]},
        no_timestamps_token_id=ids["<|notimestamps|>"], is_multilingual=True, max_length=40,
        begin_suppress_tokens=[tok.convert_tokens_to_ids("Ġ"), eot])   # as real Whisper: no blank first token
    model.save_pretrained(folder)
    fe = WhisperFeatureExtractor(feature_size=80)
    WhisperProcessor(feature_extractor=fe, tokenizer=tok).save_pretrained(folder)
    fe.save_pretrained(folder)    # preprocessor_config.json too, as hub Whisper folders have it
    return folder


def convert_whisper_ct2(hf_folder: str, out: str) -> str:
    """The tiny transformers Whisper converted in-process to a CTranslate2 folder faster-whisper loads."""
    from ctranslate2.converters import TransformersConverter
    TransformersConverter(hf_folder, copy_files=["tokenizer.json", "preprocessor_config.json"]).convert(
        out, quantization=None, force=True)
    return out


CTC_LETTERS = list("ABCDEFGHIJKLMNOPQRSTUVWXYZ'")


def make_ctc(folder: str, arch: str = "hubert", **shape) -> str:
    """A CTC ASR folder like facebook/hubert-large-ls960-ft (arch "hubert": layer-norm front end, attention mask)
    or wav2vec2-base-960h (arch "wav2vec2": group-norm front end, no attention mask), at tiny widths unless
    `shape` overrides them (e.g. hubert-base: hidden_size=768, num_hidden_layers=12, num_attention_heads=12,
    intermediate_size=3072, conv_dim=(512,) * 7)."""
    import json
    from transformers import (HubertConfig, HubertForCTC, Wav2Vec2Config, Wav2Vec2CTCTokenizer,
                              Wav2Vec2FeatureExtractor, Wav2Vec2ForCTC, Wav2Vec2Processor)
    vocab = {t: i for i, t in enumerate(["<pad>", "<s>", "</s>", "<unk>", "|"] + CTC_LETTERS)}
    with open(os.path.join(folder, "vocab.json"), "w") as f:
        json.dump(vocab, f)
    tok = Wav2Vec2CTCTokenizer(os.path.join(folder, "vocab.json"), word_delimiter_token="|")
    layer_norm = arch == "hubert"
    common = dict(_tiny_wavlm_kwargs(), vocab_size=len(vocab), pad_token_id=0, ctc_loss_reduction="mean",
                  feat_extract_norm="layer" if layer_norm else "group", do_stable_layer_norm=layer_norm)
    for k in ("num_buckets", "max_bucket_distance"):
        common.pop(k)
    common.update(shape)
    torch.manual_seed(0)
    model = HubertForCTC(HubertConfig(**common)) if arch == "hubert" else Wav2Vec2ForCTC(Wav2Vec2Config(**common))
    with torch.no_grad():   # a strong bias towards blank would make every transcript empty; spread the letters
        model.lm_head.bias.normal_(0, 0.5)
    model.save_pretrained(folder)
    fe = Wav2Vec2FeatureExtractor(feature_size=1, sampling_rate=16000, padding_value=0.0, do_normalize=True,
                                  return_attention_mask=layer_norm)
    Wav2Vec2Processor(feature_extractor=fe, tokenizer=tok).save_pretrained(folder)
    return folder


def _tiny_wavlm_kwargs():
    # The real front end's layout (7 convs, 320x downsampling, 50 frames/s) at tiny widths.
    return dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=37,
                conv_dim=(8,) * 7, conv_kernel=(10, 3, 3, 3, 3, 2, 2), conv_stride=(5, 2, 2, 2, 2, 2, 2),
                num_conv_pos_embeddings=16,
                num_conv_pos_embedding_groups=2, num_buckets=32, max_bucket_distance=64)


def make_wavlm_xvector(folder: str) -> str:
    from transformers import Wav2Vec2FeatureExtractor, WavLMConfig, WavLMForXVector
    cfg = WavLMConfig(**_tiny_wavlm_kwargs(), feat_extract_norm="layer", do_stable_layer_norm=True,
                      tdnn_dim=(16, 16, 16), tdnn_kernel=(5, 3, 1), tdnn_dilation=(1, 2, 1), xvector_output_dim=8)
    torch.manual_seed(0)
    WavLMForXVector(cfg).save_pretrained(folder)
    Wav2Vec2FeatureExtractor(feature_size=1, sampling_rate=16000, padding_value=0.0, do_normalize=True,
                             return_attention_mask=True).save_pretrained(folder)
    return folder


def make_wav2vec2_classifier(folder: str) -> str:
    from transformers import Wav2Vec2Config, Wav2Vec2FeatureExtractor, Wav2Vec2ForSequenceClassification
    cfg = Wav2Vec2Config(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=37,
                         conv_dim=(8,) * 7, conv_kernel=(10, 3, 3, 3, 3, 2, 2), conv_stride=(5, 2, 2, 2, 2, 2, 2),
                         num_conv_pos_embeddings=16,
                         num_conv_pos_embedding_groups=2, feat_extract_norm="layer", do_stable_layer_norm=True,
                         classifier_proj_size=8, num_labels=4,
                         id2label=dict(enumerate(SB_LABELS)), label2id={l: i for i, l in enumerate(SB_LABELS)})
    torch.manual_seed(0)
    Wav2Vec2ForSequenceClassification(cfg).save_pretrained(folder)
    Wav2Vec2FeatureExtractor(feature_size=1, sampling_rate=16000, padding_value=0.0, do_normalize=True,
                             return_attention_mask=True).save_pretrained(folder)
    return folder


_SB_YAML = """\
pretrained_path: {folder}
compute_features: !new:speechbrain.lobes.features.Fbank
    n_mels: 24
mean_var_norm: !new:speechbrain.processing.features.InputNormalization
    norm_type: sentence
    std_norm: False
embedding_model: !new:speechbrain.lobes.models.ECAPA_TDNN.ECAPA_TDNN
    input_size: 24
    channels: [16, 16, 16, 16, 48]
    kernel_sizes: [5, 3, 3, 3, 1]
    dilations: [1, 2, 3, 4, 1]
    attention_channels: 8
    lin_neurons: 12
classifier: !new:speechbrain.lobes.models.ECAPA_TDNN.Classifier
    input_size: 12
    out_neurons: 4
modules:
    compute_features: !ref <compute_features>
    mean_var_norm: !ref <mean_var_norm>
    embedding_model: !ref <embedding_model>
    classifier: !ref <classifier>
label_encoder: !new:speechbrain.dataio.encoder.CategoricalEncoder
pretrainer: !new:speechbrain.utils.parameter_transfer.Pretrainer
    loadables:
        embedding_model: !ref <embedding_model>
        classifier: !ref <classifier>
        label_encoder: !ref <label_encoder>
    paths:
        embedding_model: !ref <pretrained_path>/embedding_model.ckpt
        classifier: !ref <pretrained_path>/classifier.ckpt
        label_encoder: !ref <pretrained_path>/label_encoder.txt
"""


def make_speechbrain_classifier(folder: str) -> str:
    """An ECAPA EncoderClassifier folder laid out like speechbrain/spkrec-ecapa-voxceleb (tiny sizes)."""
    from speechbrain.lobes.models.ECAPA_TDNN import ECAPA_TDNN, Classifier
    torch.manual_seed(0)
    emb = ECAPA_TDNN(24, channels=[16, 16, 16, 16, 48], kernel_sizes=[5, 3, 3, 3, 1], dilations=[1, 2, 3, 4, 1],
                     attention_channels=8, lin_neurons=12)
    torch.save(emb.state_dict(), os.path.join(folder, "embedding_model.ckpt"))
    torch.save(Classifier(12, out_neurons=4).state_dict(), os.path.join(folder, "classifier.ckpt"))
    with open(os.path.join(folder, "label_encoder.txt"), "w") as f:
        f.write("".join(f"'{l}' => {i}\n" for i, l in enumerate(SB_LABELS)))
        f.write("================\n'starting_index' => 0\n")
    with open(os.path.join(folder, "hyperparams.yaml"), "w") as f:
        f.write(_SB_YAML.format(folder=folder))
    return folder


# transformers WavLM name -> original (UniSpeech / fairseq) name: the inverse of verifiers.wavlm_checkpoint,
# written out independently so a mistake on one side shows up as a failed round trip.
_TO_ORIGINAL = [
    (r"^feature_extractor\.conv_layers\.(\d+)\.conv\.", r"feature_extractor.conv_layers.\1.0."),
    (r"^feature_extractor\.conv_layers\.(\d+)\.layer_norm\.", r"feature_extractor.conv_layers.\1.2.1."),
    (r"^feature_projection\.layer_norm\.", "layer_norm."),
    (r"^feature_projection\.projection\.", "post_extract_proj."),
    (r"^masked_spec_embed$", "mask_emb"),
    (r"^encoder\.pos_conv_embed\.conv\.parametrizations\.weight\.original0$", "encoder.pos_conv.0.weight_g"),
    (r"^encoder\.pos_conv_embed\.conv\.parametrizations\.weight\.original1$", "encoder.pos_conv.0.weight_v"),
    (r"^encoder\.pos_conv_embed\.conv\.weight_g$", "encoder.pos_conv.0.weight_g"),
    (r"^encoder\.pos_conv_embed\.conv\.weight_v$", "encoder.pos_conv.0.weight_v"),
    (r"^encoder\.pos_conv_embed\.conv\.bias$", "encoder.pos_conv.0.bias"),
    (r"\.attention\.gru_rel_pos_linear\.", ".self_attn.grep_linear."),
    (r"\.attention\.gru_rel_pos_const$", ".self_attn.grep_a"),
    (r"\.attention\.rel_attn_embed\.", ".self_attn.relative_attention_bias."),
    (r"\.attention\.(k|q|v|out)_proj\.", r".self_attn.\1_proj."),
    (r"^(encoder\.layers\.\d+)\.layer_norm\.", r"\1.self_attn_layer_norm."),
    (r"\.feed_forward\.intermediate_dense\.", ".fc1."),
    (r"\.feed_forward\.output_dense\.", ".fc2."),
]


def make_seedtts_sv_checkpoint(path: str):
    """A tiny checkpoint in the Seed-TTS-eval wavlm_large_finetune.pth layout; returns (backbone, head)."""
    from transformers import WavLMConfig, WavLMModel

    from verifiers.ecapa_head import EcapaHead
    torch.manual_seed(0)
    backbone = WavLMModel(WavLMConfig(**_tiny_wavlm_kwargs(), feat_extract_norm="layer", do_stable_layer_norm=True,
                                      conv_bias=False)).eval()
    head = EcapaHead(feat_dim=32, n_layers=3, channels=16, emb_dim=8, attention_channels=4, se_bottleneck=4,
                     scale=4, cat_channels=24)
    with torch.no_grad():   # non-trivial batch-norm statistics and layer weights
        for name, t in head.named_buffers():
            if name.endswith("running_var"):
                t.uniform_(0.5, 2.0)
            elif name.endswith("running_mean"):
                t.normal_(0, 0.1)
        head.feature_weight.normal_()
    head.eval()
    sd = {}
    for k, v in backbone.state_dict().items():
        for pat, rep in _TO_ORIGINAL:
            k2 = re.sub(pat, rep, k)
            if k2 != k:
                k = k2
                break
        sd["feature_extract.model." + k] = v
    sd.update(head.state_dict())
    sd["feature_extract.model.label_embs_concat"] = torch.zeros(3, 4)   # pre-training leftovers are ignored
    torch.save({"model": sd}, path)
    return backbone, head
