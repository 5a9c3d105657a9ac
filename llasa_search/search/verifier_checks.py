"""Checks on verifiers a search relies on: before generating (can it judge these requests?) and after each call
(one result per clip), so a misconfigured or broken verifier fails with its name instead of a late, raw error."""
from __future__ import annotations

from ..errors import ConfigError, VerifierError


def judge_problem(verifier, vctx) -> str | None:
    """None if `verifier` can judge a request with this VerifyContext, else why not: the verifier's own
    `can_judge`, and in any case a speaker verifier cannot judge without reference audio or embedding."""
    can_judge = getattr(verifier, "can_judge", None)
    problem = can_judge(vctx) if can_judge is not None else None
    if problem is None and getattr(verifier, "kind", None) == "speaker" and vctx.reference_audio is None \
            and getattr(vctx, "reference_embedding", None) is None:
        problem = "needs reference audio: pass a voice prompt or choose another PRM"
    return problem


def check_can_judge(ctx, names, requests, role: str) -> None:
    """Raise ConfigError naming the verifier and the first request it cannot judge. Strategies call it before
    generating for every verifier that chooses (a verifier that fails on every candidate would choose nothing)."""
    for name in [names] if isinstance(names, str) else names:
        verifier = ctx.verifier(name)
        for req in requests:
            problem = judge_problem(verifier, ctx.verify_context(req))
            if problem:
                raise ConfigError(f"verifier '{name}' cannot be the {role} for request '{req.request_id}': "
                                  f"{problem} (pass a voice prompt or what else it needs, or pick another verifier)")


def check_result_count(name: str, results, expected: int) -> list:
    results = list(results)
    if len(results) != expected:
        raise VerifierError(f"verifier '{name}' returned {len(results)} results for {expected} clips; a verifier "
                            "must return exactly one result per clip, in order")
    return results
