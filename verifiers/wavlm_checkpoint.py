"""Seed-TTS-eval / UniSpeech WavLM checkpoint -> transformers WavLMModel + EcapaHead.

The checkpoint (e.g. wavlm_large_finetune.pth) is {"model": state_dict}; backbone keys are the original
(fairseq-style) WavLM names under "feature_extract.model.", head keys are at top level. We infer the
backbone config from tensor shapes and rename to transformers' WavLM names. Loaded with
torch.load(weights_only=True): no pickled code runs.
"""
from __future__ import annotations

import re

import torch

PREFIX = "feature_extract.model."

# original WavLM name -> transformers WavLMModel name ({i} = layer index)
_RENAMES = [
    (r"feature_extractor\.conv_layers\.(\d+)\.0\.", r"feature_extractor.conv_layers.\1.conv."),
    (r"feature_extractor\.conv_layers\.(\d+)\.2\.1\.", r"feature_extractor.conv_layers.\1.layer_norm."),  # "layer" mode
    (r"feature_extractor\.conv_layers\.(\d+)\.2\.", r"feature_extractor.conv_layers.\1.layer_norm."),     # group norm (layer 0)
    (r"^layer_norm\.", "feature_projection.layer_norm."),
    (r"^post_extract_proj\.", "feature_projection.projection."),
    (r"^mask_emb$", "masked_spec_embed"),
    (r"encoder\.pos_conv\.0\.bias", "encoder.pos_conv_embed.conv.bias"),
    (r"encoder\.pos_conv\.0\.weight_g", "encoder.pos_conv_embed.conv.WEIGHT_G"),
    (r"encoder\.pos_conv\.0\.weight_v", "encoder.pos_conv_embed.conv.WEIGHT_V"),
    (r"\.self_attn\.grep_linear\.", ".attention.gru_rel_pos_linear."),
    (r"\.self_attn\.grep_a$", ".attention.gru_rel_pos_const"),
    (r"\.self_attn\.relative_attention_bias\.", ".attention.rel_attn_embed."),
    (r"\.self_attn\.(k|q|v|out)_proj\.", r".attention.\1_proj."),
    (r"\.self_attn_layer_norm\.", ".layer_norm."),
    (r"\.fc1\.", ".feed_forward.intermediate_dense."),
    (r"\.fc2\.", ".feed_forward.output_dense."),
]


def rename_backbone_key(k: str) -> str:
    for pat, rep in _RENAMES:
        k2 = re.sub(pat, rep, k)
        if k2 != k:
            return k2
    return k


def load_state(path: str) -> dict:
    obj = torch.load(path, map_location="cpu", weights_only=True)
    sd = obj.get("model", obj) if isinstance(obj, dict) else obj
    if not isinstance(sd, dict) or not sd:
        raise ValueError(f"{path}: no state dict found (expected {{'model': state_dict}})")
    return sd


def split_state(sd: dict) -> tuple[dict, dict]:
    backbone = {k[len(PREFIX):]: v for k, v in sd.items() if k.startswith(PREFIX)}
    head = {k: v for k, v in sd.items() if not k.startswith("feature_extract.")}
    if not backbone:
        raise ValueError(f"checkpoint has no '{PREFIX}*' backbone weights")
    return backbone, head


def infer_config(bb: dict):
    """transformers WavLMConfig from original-name backbone tensors."""
    from transformers import WavLMConfig
    n_conv = 1 + max(int(m.group(1)) for k in bb if (m := re.match(r"feature_extractor\.conv_layers\.(\d+)\.0\.weight", k)))
    conv_w = [bb[f"feature_extractor.conv_layers.{i}.0.weight"] for i in range(n_conv)]
    n_layers = 1 + max(int(m.group(1)) for k in bb if (m := re.match(r"encoder\.layers\.(\d+)\.", k)))
    hidden = bb["post_extract_proj.weight"].shape[0]
    heads = bb["encoder.layers.0.self_attn.grep_a"].shape[1]
    pos_v = bb["encoder.pos_conv.0.weight_v"]
    layer_mode = "feature_extractor.conv_layers.1.2.1.weight" in bb
    # Strides are not in the weights: the standard WavLM/wav2vec2 front end (320x downsampling).
    strides = (5,) + (2,) * (n_conv - 1)
    return WavLMConfig(
        hidden_size=hidden, num_hidden_layers=n_layers, num_attention_heads=heads,
        intermediate_size=bb["encoder.layers.0.fc1.weight"].shape[0],
        conv_dim=tuple(w.shape[0] for w in conv_w), conv_kernel=tuple(w.shape[-1] for w in conv_w),
        conv_stride=strides, conv_bias="feature_extractor.conv_layers.0.0.bias" in bb,
        feat_extract_norm="layer" if layer_mode else "group", do_stable_layer_norm=layer_mode,
        num_conv_pos_embeddings=pos_v.shape[-1], num_conv_pos_embedding_groups=hidden // pos_v.shape[1],
        num_buckets=bb["encoder.layers.0.self_attn.relative_attention_bias.weight"].shape[0],
        mask_time_prob=0.0, layerdrop=0.0,
    )


def to_transformers_state(bb: dict, target_keys) -> dict:
    """Rename; weight-norm g/v go to whichever names this torch/transformers uses."""
    out = {}
    for k, v in bb.items():
        nk = rename_backbone_key(k)
        if nk.endswith("WEIGHT_G"):
            nk = nk.replace("WEIGHT_G", "parametrizations.weight.original0"
                            if any("parametrizations.weight.original0" in t for t in target_keys) else "weight_g")
        elif nk.endswith("WEIGHT_V"):
            nk = nk.replace("WEIGHT_V", "parametrizations.weight.original1"
                            if any("parametrizations.weight.original1" in t for t in target_keys) else "weight_v")
        out[nk] = v
    return out


def head_config(head: dict) -> dict:
    return {
        "feat_dim": head["layer1.conv.weight"].shape[1],
        "n_layers": head["feature_weight"].shape[0],
        "channels": head["layer1.conv.weight"].shape[0],
        "emb_dim": head["linear.weight"].shape[0],
        "attention_channels": head["pooling.linear1.weight"].shape[0],
        "se_bottleneck": head["layer2.SE_Connect.linear1.weight"].shape[0],
        "scale": len([k for k in head if re.match(r"layer2\.Res2Conv1dReluBn\.convs\.\d+\.weight$", k)]) + 1,
        "cat_channels": head["conv.weight"].shape[0],
    }
