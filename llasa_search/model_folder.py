"""Check a local model folder before transformers reads it, so a wrong or incomplete folder is reported as
what is missing (an empty folder otherwise fails with "You need to have sentencepiece or tiktoken")."""
from __future__ import annotations

import json
from pathlib import Path

from .errors import ModelNotAvailableError

# What each role needs; the role's model_type in config.json tells a Llasa LM folder from a codec folder.
ROLES = {
    "llm": {
        "what": "Llasa model",
        "model_type": "llama",
        "option": "--model",
        "layout": "config.json (model_type 'llama'), tokenizer.json + tokenizer_config.json, and weights "
                  "(model.safetensors, or shards with model.safetensors.index.json), as in HKUSTAudio/Llasa-1B",
        "tokenizer": True,
    },
    "codec": {
        "what": "X-codec2 codec",
        "model_type": "xcodec2",
        "option": "--codec",
        "layout": "config.json (model_type 'xcodec2') and model.safetensors, as in HKUSTAudio/xcodec2-hf",
        "tokenizer": False,
    },
}
WEIGHT_PATTERNS = ("*.safetensors", "*.safetensors.index.json", "pytorch_model*.bin", "pytorch_model.bin.index.json")
TOKENIZER_FILES = ("tokenizer.json", "tokenizer.model")


def _config_model_type(folder: Path) -> str | None:
    try:
        return json.loads((folder / "config.json").read_text()).get("model_type")
    except (OSError, ValueError, AttributeError):
        return None


def folder_problems(folder: str | Path, role: str) -> list[str]:
    """What keeps `folder` from being loaded as `role` ('llm' or 'codec'); empty if it looks complete."""
    spec, folder = ROLES[role], Path(folder)
    problems = []
    if not (folder / "config.json").is_file():
        problems.append("config.json")
    else:
        model_type = _config_model_type(folder)
        if model_type != spec["model_type"]:
            problems.append(f"config.json with model_type '{spec['model_type']}' (it says {model_type!r})")
    if spec["tokenizer"] and not any((folder / name).is_file() for name in TOKENIZER_FILES):
        problems.append("tokenizer files (tokenizer.json and tokenizer_config.json)")
    if not any(any(folder.glob(p)) for p in WEIGHT_PATTERNS):
        problems.append("weights (model.safetensors or pytorch_model.bin)")
    return problems


def check_model_folder(folder: str | Path, role: str) -> None:
    """Raise one clear error naming the missing files, the swap if the other role's folder was passed, and
    what a valid folder holds."""
    spec, folder = ROLES[role], Path(folder)
    problems = folder_problems(folder, role)
    if not problems:
        return
    other = next(r for r in ROLES if r != role)
    hint = ""
    if _config_model_type(folder) == ROLES[other]["model_type"]:
        hint = (f" It holds the {ROLES[other]['what']} (model_type '{ROLES[other]['model_type']}'): "
                f"pass it as {ROLES[other]['option']}, not {spec['option']}.")
    elif not any(folder.iterdir()):
        hint = " The folder is empty."
    raise ModelNotAvailableError(
        f"{spec['what']} folder '{folder}' cannot be loaded: missing {'; '.join(problems)}.{hint} "
        f"A valid {spec['what']} folder holds {spec['layout']} (download one with "
        f"`huggingface-cli download ID --local-dir DIR`, or make tiny test models with `llasa-search make-tiny DIR`)."
    )


def check_if_local(model_id, role: str) -> None:
    """Check `model_id` when it names a local folder (hub ids are resolved and checked by the hub loader)."""
    folder = Path(str(model_id)).expanduser()
    if folder.is_dir():
        check_model_folder(folder, role)
