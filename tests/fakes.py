"""Generated fake credentials of the right shape (never real keys)."""
from __future__ import annotations

import random
import string

_ALNUM = string.ascii_letters + string.digits


def fake(length: int, alphabet: str = _ALNUM, seed: int = 0) -> str:
    """A deterministic random string: high entropy, same value every run."""
    rng = random.Random(f"{seed}:{length}:{alphabet}")
    return "".join(rng.choice(alphabet) for _ in range(length))


def stripe_live_key(seed: int = 0) -> str:
    return "sk_live_" + fake(24, seed=seed)
