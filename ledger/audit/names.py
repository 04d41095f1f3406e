"""Checks on names: parties (or a party and an alias) that look like one person or body spelled two ways.

Names are transliterated to ASCII with ``anyascii`` (Cyrillic, accents), folded by a few rules for the
usual Slavic transliteration variants (Belarusian ``ts``/``ia``/``h``/``ou`` against Russian ``t``/``e``/
``g``/``ov``), then compared token by token with ``rapidfuzz``. Candidates are *blocked* first by a
consonant key of the surname and of the longest word, so the work grows with the block sizes, not with
the square of all names. Given names must agree (or be initials, or differ only in vowels); only the
surname may differ by a letter or two: "Maria" and "Marina Kolesnikova" are two people.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from itertools import combinations, permutations

from anyascii import anyascii
from rapidfuzz.distance import Levenshtein
from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from ledger.audit.registry import AuditOptions, Finding, Severity, check
from ledger.domain import PartyKind, RecordType
from ledger.models import Alias, AliasJudgement, Party
from ledger.ops.judgements import name_pair as pair_key

_FOLDS = (
    ("'", ""), ("kh", "h"), ("zh", "z"), ("sch", "sh"), ("ts", "t"), ("tz", "t"), ("ck", "k"), ("ph", "f"),
    ("x", "ks"), ("w", "v"), ("y", "i"), ("ii", "i"), ("ia", "e"), ("ie", "e"), ("ja", "e"), ("je", "e"),
    ("ou", "ov"), ("h", "g"),
)  # fmt: skip
_VOWELS = re.compile(r"[aeiou]")
_DOUBLE = re.compile(r"(.)\1+")
_WORD = re.compile(r"[a-z0-9]+")
#: Parties of these kinds may be the same body; a person is never a state.
_GROUP = {PartyKind.PERSON: "person", PartyKind.STATE: "state"}
MAX_TOKENS = 6


@lru_cache(maxsize=1 << 16)
def base(name: str) -> str:
    """The name in lower-case ASCII letters and digits only: accents, case and punctuation dropped."""
    return "".join(_WORD.findall(anyascii(name).lower().replace("'", "")))


@lru_cache(maxsize=1 << 16)
def tokens(name: str) -> tuple[str, ...]:
    """The words of a name, transliterated and lower-cased (``"Ales' Byalyatski"`` -> ales, byalyatski)."""
    return tuple(_WORD.findall(anyascii(name).lower().replace("'", ""))[:MAX_TOKENS])


@lru_cache(maxsize=1 << 16)
def fold(token: str) -> str:
    """A word with the usual transliteration variants folded together (Tsikhanouski -> tiganovski)."""
    for old, new in _FOLDS:
        token = token.replace(old, new)
    token = token.removesuffix("i") + "i" if token.endswith("ii") else token
    return _DOUBLE.sub(r"\1", token)


@lru_cache(maxsize=1 << 16)
def skeleton(token: str) -> str:
    """First letter and consonants of a folded word: names differing only in vowels share it."""
    folded = fold(token)
    return folded[:1] + _VOWELS.sub("", folded[1:])


def blocking_keys(words: tuple[str, ...]) -> set[str]:
    """Keys that a likely variant shares: the consonant prefix of the surname and of the longest word,
    and the surname's first letter with its last two consonants."""
    full = [w for w in words if len(w) > 1]
    if not full:
        return set()
    surname, longest = skeleton(full[-1]), skeleton(max(reversed(full), key=len))  # ties: the later word
    # a prefix key and a first-letter-plus-ending key: a one-letter slip leaves at least one intact
    return {surname[:3], longest[:3], "~" + surname[:1] + surname[-2:]}


def _given_match(a: str, b: str) -> bool:
    if len(a) == 1 or len(b) == 1:
        return a[0] == b[0]
    # vowels alone may differ only in longer names (Alexander/Aliaksandr), not in Oleg/Olga or Maria/Mario
    return fold(a) == fold(b) or (min(len(a), len(b)) >= 6 and skeleton(a) == skeleton(b))


def _surname_match(a: str, b: str) -> bool:
    if _given_match(a, b) and len(a) > 1 and len(b) > 1:
        return True
    fa, fb = fold(a), fold(b)
    shortest = min(len(fa), len(fb))
    if shortest < 4 or fa[0] != fb[0]:
        return False
    return Levenshtein.distance(fa, fb) <= (2 if shortest >= 8 else 1)


def _aligned(short: tuple[str, ...], long: tuple[str, ...], order: tuple[int, ...]) -> bool:
    surnames = {len(short) - 1}
    exact = False
    for i, j in enumerate(order):
        a, b = short[i], long[j]
        is_surname = i in surnames or j == len(long) - 1
        if not (_surname_match(a, b) if is_surname else _given_match(a, b)):
            return False
        exact = exact or (len(a) > 1 and len(b) > 1)
    return exact


def likely_same(a: str, b: str) -> bool:
    """Whether two names are likely one person or body spelled two ways (see the module docstring)."""
    ta, tb = tokens(a), tokens(b)
    if not ta or not tb:
        return False
    if base(a) == base(b):
        return True
    short, long = sorted((ta, tb), key=len)
    if len(short) == 1 and len(long) == 1:
        fa, fb = fold(short[0]), fold(long[0])
        return fa == fb or (len(fa) == len(fb) >= 5 and skeleton(fa) == skeleton(fb))
    if len(short) == 1:
        return len(short[0]) > 1 and _surname_match(short[0], long[-1])
    return any(_aligned(short, long, order) for order in permutations(range(len(long)), len(short)))


@dataclass(frozen=True)
class Name:
    """A party's own name or one of its aliases."""

    name: str
    party: str
    party_name: str
    group: str
    alias: str | None = None


#: A block with more names than this (a word most names of a group carry, such as "Party" or "Ministry")
#: is not compared pair by pair, which is quadratic: its pairs come from an index of its words instead
#: (``_large_block_pairs``), which yields every pair ``may_match`` would pass, in the same order.
MAX_BLOCK = 64


def may_match(a: str, b: str) -> bool:
    """A cheap test that ``likely_same(a, b)`` needs to pass (never False when it is True): the same letters,
    or the shorter name's surname starting, once folded, like some word of the longer one (every way
    ``likely_same`` accepts a pair matches the surname against a word with the same folded first letter)."""
    ta, tb = tokens(a), tokens(b)
    if not ta or not tb:
        return False
    if base(a) == base(b):
        return True
    short, long = sorted((ta, tb), key=len)
    if len(short) > 1 and len(short[-1]) == 1:
        return False  # a one-letter surname matches nothing (_surname_match needs two letters, or four)
    first = fold(short[-1])[:1]
    return any(fold(word)[:1] == first for word in long)


@lru_cache(maxsize=1 << 16)
def _word_keys(word: str) -> frozenset[tuple[str, str]]:
    """Keys two words share whenever ``_surname_match`` can accept them: the same folded form, the same
    skeleton, or (folded, same first letter, at least 4 letters) a common form after deleting up to the
    edit distance allowed (1, or 2 from 8 letters): two strings within k edits share a k-deletion form."""
    folded = fold(word)
    keys = {("f", folded), ("s", skeleton(word))}
    if len(folded) >= 4:
        forms = {folded[1:]} | {folded[:i] + folded[i + 1 :] for i in range(1, len(folded))}
        if len(folded) >= 8:
            forms |= {form[:i] + form[i + 1 :] for form in forms for i in range(len(form))}
        keys |= {("d" + folded[0], form) for form in (forms | {folded})}
    return frozenset(keys)


def _large_block_pairs(names: list[Name], members: list[int]) -> list[tuple[int, int]]:
    """The pairs of a large block that ``likely_same`` can accept, found through an index of the block's words
    rather than by trying every pair: the same letters (``base``), or the last word of one name sharing a
    ``_word_keys`` key with some word of the other (``likely_same`` always matches the shorter name's last
    word, its surname, that way). Sorted, as ``combinations`` would give them."""
    postings: dict[tuple[str, str], list[int]] = defaultdict(list)
    same_letters: dict[str, list[int]] = defaultdict(list)
    for member in members:
        same_letters[base(names[member].name)].append(member)
        for key in {key for word in tokens(names[member].name) for key in _word_keys(word)}:
            postings[key].append(member)
    pairs: set[tuple[int, int]] = set()
    for member in members:
        words = tokens(names[member].name)
        if not words:
            continue
        others = [*same_letters[base(names[member].name)]]
        if len(words) == 1 or len(words[-1]) > 1:  # as in may_match: a one-letter surname matches nothing
            for key in _word_keys(words[-1]):
                others += postings.get(key, ())
        pairs.update((min(member, other), max(member, other)) for other in others if other != member)
    return sorted(pairs)


def candidate_pairs(names: list[Name]) -> Iterator[tuple[Name, Name]]:
    """Pairs of names of the same group sharing a blocking key that ``may_match``; each pair once, in a
    stable order (a large block's pairs through an index of its words, in the same order)."""
    blocks: dict[tuple[str, str], list[int]] = defaultdict(list)
    for index, item in enumerate(names):
        for key in blocking_keys(tokens(item.name)):
            blocks[(item.group, key)].append(index)
    seen: set[tuple[int, int]] = set()
    for members in blocks.values():
        pairs = _large_block_pairs(names, members) if len(members) > MAX_BLOCK else combinations(members, 2)
        for i, j in pairs:
            if (i, j) not in seen:
                seen.add((i, j))
                if may_match(names[i].name, names[j].name):
                    yield names[i], names[j]


def _names(session: Session) -> list[Name]:
    party_rows = session.execute(
        select(Party.slug, Party.name, Party.kind)
        .where(Party.type == RecordType.PARTY, Party.retracted.is_(False))  # ix_records_type: not every record
        .order_by(Party.slug)
    ).all()
    party = aliased(Party, flat=True)
    alias_rows = session.execute(
        select(Alias.slug, Alias.name, party.slug, party.name, party.kind)
        .join(party, party.id == Alias.party_id)
        .where(Alias.type == RecordType.ALIAS, Alias.retracted.is_(False), party.retracted.is_(False))
        .order_by(Alias.slug)
    ).all()
    names = [Name(n, slug, n, _GROUP.get(kind, "body")) for slug, n, kind in party_rows]
    names += [Name(n, party, pname, _GROUP.get(kind, "body"), slug) for slug, n, party, pname, kind in alias_rows]
    return names


def _judged(session: Session) -> set[tuple[str, str]]:
    rows = session.execute(select(AliasJudgement.name_a, AliasJudgement.name_b)).all()
    return {pair_key(a, b) for a, b in rows}


def _finding(a: Name, b: Name) -> Finding:
    a, b = sorted((a, b), key=lambda n: (n.party, n.alias or "", n.name))
    command = f'ledger alias confirm "{a.name}" "{b.name}" --reason "..."'
    details = {"name_a": a.name, "name_b": b.name, "party_a": a.party, "party_b": b.party,
               "alias_a": a.alias, "alias_b": b.alias, "confirm": command}  # fmt: skip
    if a.party == b.party:
        return Finding(
            "aliases", Severity.INFO, "party", a.party,
            f'"{b.name}" and "{a.name}" are recorded as names of {a.party_name} and look like one name spelled '
            f"two ways; confirm the spelling variant (or reject it) so the audit stops asking",
            details,
        )  # fmt: skip
    return Finding(
        "aliases", Severity.WARNING, "party", a.party,
        f'"{a.name}" ({a.party}) and "{b.name}" ({b.party}) look like the same '
        f"{'person' if a.group == 'person' else 'party'} spelled two ways; merge them, or reject the pair",
        details,
    )  # fmt: skip


@check("aliases", severity=Severity.WARNING, family="names")
def aliases(session: Session, _options: AuditOptions) -> Iterable[Finding]:
    """Two parties, or a party and an alias, whose names look like one person or body spelled two ways:
    transliteration variants (Beliatski/Bialiatski, Tikhanovsky/Tsikhanouski), a dropped letter
    (Cole/Coale), initials, word order. Warning across two parties (a likely duplicate), info for an
    alias of the same party that differs by more than accents or punctuation. `ledger alias confirm` or
    `ledger alias reject` silences a pair for good."""
    judged = _judged(session)
    found: dict[tuple[str, str], Finding] = {}
    for a, b in candidate_pairs(_names(session)):
        key = pair_key(a.name, b.name)
        if key in judged or key in found or key[0] == key[1]:
            continue
        if a.party == b.party and base(a.name) == base(b.name):
            continue  # "U.S."/"US", "Nicolás"/"Nicolas": the same spelling
        if likely_same(a.name, b.name):
            found[key] = _finding(a, b)
    return found.values()
