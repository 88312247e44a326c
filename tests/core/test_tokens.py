"""Tokens: the original's 64-character format, from a CSPRNG drawn in blocks per thread; a
forked child never hands out its parent's next tokens."""

from __future__ import annotations

import multiprocessing
import re
import threading
from collections import Counter

from sessions_core.keys import ClusterKeys
from sessions_core.tokens import ALPHABET, new_token, new_tokens

FORMAT = re.compile(r"[A-Ya-z0-9]{55}Z[0-9a-z]+")


def test_tokens_have_the_original_format_and_never_repeat() -> None:
    tokens = [new_token() for _ in range(20_000)]  # many refills of the letter block
    assert all(len(t) == 64 and FORMAT.fullmatch(t) for t in tokens)
    assert len(set(tokens)) == len(tokens)


def test_a_batch_of_tokens_larger_than_a_letter_block_has_the_format_and_never_repeats() -> None:
    tokens = new_tokens(5000) + new_tokens(1) + [new_token()]  # 5000 need 67 blocks of letters
    assert len(tokens) == 5002
    assert all(len(t) == 64 and FORMAT.fullmatch(t) for t in tokens)
    assert len(set(tokens)) == len(tokens)


def test_a_batch_of_tokens_starts_each_with_its_head() -> None:
    keys = ClusterKeys("rs", 64)
    buckets = [keys.buckets("shop")[i] for i in (0, 1, 37, 63, 1)]
    tokens = new_tokens(5, [keys.token_head(b) for b in buckets])
    assert all(len(t) == 64 for t in tokens)
    assert [keys.of_token("shop", t) for t in tokens] == buckets
    assert len(set(tokens)) == 5


def test_the_random_letters_are_uniform() -> None:
    letters = Counter("".join(new_token()[:55] for _ in range(20_000)))
    assert set(letters) == set(ALPHABET.decode())
    expected = 20_000 * 55 / len(ALPHABET)
    assert all(abs(n - expected) < expected * 0.1 for n in letters.values()), letters


def test_a_head_leads_the_token_and_names_its_bucket() -> None:
    keys = ClusterKeys("rs", 64)
    for index in (0, 1, 37, 63):
        bucket = keys.buckets("shop")[index]
        token = new_token(keys.token_head(bucket))
        assert len(token) == 64 and keys.of_token("shop", token) == bucket


def _child_tokens(queue: multiprocessing.Queue[list[str]]) -> None:
    queue.put([new_token() for _ in range(5)])


def test_a_forked_child_draws_letters_of_its_own() -> None:
    new_token()  # the parent holds a block of letters when it forks
    context = multiprocessing.get_context("fork")
    queue: multiprocessing.Queue[list[str]] = context.Queue()
    child = context.Process(target=_child_tokens, args=(queue,))
    child.start()
    theirs = queue.get(timeout=10)
    child.join(10)
    ours = [new_token() for _ in range(5)]
    assert not {t[:55] for t in theirs} & {t[:55] for t in ours}


def test_threads_never_share_letters() -> None:
    made: list[list[str]] = [[] for _ in range(4)]

    def make(i: int) -> None:
        made[i] = [new_token() for _ in range(2000)]

    threads = [threading.Thread(target=make, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every = [t[:55] for tokens in made for t in tokens]
    assert len(set(every)) == len(every)
