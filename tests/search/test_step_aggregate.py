"""Step-score aggregation of tree search: `prod` multiplies probabilities/similarities, where a negative value must not
turn a product of two bad steps into a good one."""
import math

import pytest

from llasa_search.search.tree import aggregate


def test_prod_never_ranks_two_negative_steps_above_two_positive_ones():
    bad, good = aggregate([-0.5, -0.5], "prod"), aggregate([0.4, 0.4], "prod")
    assert bad < good
    assert aggregate([-0.2, 0.9], "prod") == 0.0          # a negative cosine is no similarity at all
    assert aggregate([0.5, math.nan], "prod") == -math.inf


def test_prod_keeps_the_order_of_products_in_the_unit_interval():
    assert aggregate([0.9, 0.8], "prod") == pytest.approx(0.72)
    assert aggregate([0.9, 0.8], "prod") > aggregate([0.9, 0.7], "prod")


def test_prod_is_refused_for_a_content_prm():
    """Content scores are -WER <= 0: a product of two of them rewards the worse transcript."""
    from llasa_search.errors import ConfigError
    from llasa_search.search.tree import check_aggregate

    class _Asr:
        kind = "content"

    with pytest.raises(ConfigError, match="prod"):
        check_aggregate("prod", "whisper", _Asr())
    check_aggregate("mean", "whisper", _Asr())
