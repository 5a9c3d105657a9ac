"""Where a sweep writes each job's files: readable for people, unique per record.

    outputs/<dataset>/<utt>/<model>/<strategy>-<budget>/seed-<seed>/chosen.wav     the chosen audio
                                                                   /cand-03.wav    candidate 3 (records' index)
                                                                   /trace.json     the search trace

Budgets in other units than candidates add the unit: `beam-600-generated_tokens`. Every part is a file-name-safe
version of the name; a name that had to change to become safe (spaces, '/', non-ASCII, upper case, which
case-insensitive file systems fold) gets '~' and 8 hex digits of its SHA-1, so "spk1 utt1", "spk1_utt1",
"spk1/utt1" and "Spk1_utt1" never share a file ('~' never survives in a safe name, so a hashed part cannot equal
an unchanged one).
"""
from __future__ import annotations

import hashlib
import re
import unicodedata

MAX_PART = 48


def path_part(name: str) -> str:
    """`name` as one file-name-safe path component, unique per distinct name (see the module docstring)."""
    name = str(name)
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    safe = re.sub(r"[^a-z0-9._=-]+", "_", ascii_name.lower()).strip("._")[:MAX_PART]
    if safe == name and safe:
        return safe
    return f"{safe or 'id'}~{hashlib.sha1(name.encode('utf-8')).hexdigest()[:8]}"


def job_dir(job) -> str:
    """Folder of one job's files, relative to the results folder."""
    budget = f"{job.strategy.name}-{job.budget}"
    if job.strategy.budget_unit != "candidates":
        budget += f"-{job.strategy.budget_unit}"
    parts = [job.dataset.name, job.item.utt_id, job.model.name, budget, f"seed-{int(job.seed)}"]
    return "outputs/" + "/".join(path_part(p) for p in parts)


def candidate_name(index: int) -> str:
    return f"cand-{int(index):02d}.wav"
