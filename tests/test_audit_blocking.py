"""The aliases check's candidate pairs: pruning and the index for large blocks never lose a likely pair."""

from __future__ import annotations

import random

import pytest

from ledger.audit import names as names_module
from ledger.audit.names import Name, candidate_pairs, likely_same, may_match


def _names(seed: int, count: int) -> list[Name]:
    """Names that share words (a large block) and differ by slips, transliterations and word order."""
    rng = random.Random(seed)
    given = ["Anna", "Ivan", "Olga", "Pavel", "Maria", "Sergei", "Elena", "Dmitri", "Aliaksandr", "Alexander"]
    stems = ["Tsikhanouski", "Tikhanovsky", "Bialiatski", "Beliatski", "Kolesnikova", "Coale", "Cole", "Party"]

    def slip(word: str) -> str:
        i = rng.randrange(len(word))
        return word[:i] + rng.choice("aeioubdklmnrst") + word[i + 1 :] if rng.random() < 0.5 else word

    out = []
    for i in range(count):
        words = [rng.choice(given), slip(rng.choice(stems))]
        if rng.random() < 0.3:
            words.append(str(rng.randrange(1000, 1300)))
        if rng.random() < 0.2:
            words.append(rng.choice("0123ab"))  # like "Party 12 spelled 0": a one-letter last word
        if rng.random() < 0.2:
            words.reverse()
        out.append(Name(" ".join(words), f"p{i}", "x", "person"))
    return out


def _likely(pairs: list[tuple[Name, Name]]) -> list[tuple[str, str]]:
    return [(a.party, b.party) for a, b in pairs if likely_same(a.name, b.name)]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_large_block_index_finds_the_same_likely_pairs_in_the_same_order(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = _names(seed, 400)
    monkeypatch.setattr(names_module, "MAX_BLOCK", 10**9)  # every block compared pair by pair
    by_pairs = _likely(list(candidate_pairs(names)))
    monkeypatch.setattr(names_module, "MAX_BLOCK", 4)  # every block of 5 or more through the index
    by_index = _likely(list(candidate_pairs(names)))
    assert by_pairs, "the names must hold likely pairs, or the comparison proves nothing"
    assert by_index == by_pairs


def test_may_match_never_rejects_a_likely_pair() -> None:
    names = _names(7, 300)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            if likely_same(a.name, b.name):
                assert may_match(a.name, b.name), (a.name, b.name)
    assert not may_match("Party 12", "Party 345")
    assert not may_match("Party 1234 spelled 0", "Party 1235 spelled 0")
    assert may_match("Y", "I") and likely_same("Y", "I")  # one word each: the letters fold alike
