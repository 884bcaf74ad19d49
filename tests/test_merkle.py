"""The ledger's Merkle tree against the published Certificate Transparency test vectors
(RFC 6962 reference implementation data), plus exhaustive round trips."""

from __future__ import annotations

import random

import pytest

from generator.archive import merkle

DATA = [bytes.fromhex(h) for h in (
    "", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f")]
LEAVES = [merkle.leaf_hash(d) for d in DATA]
ROOTS = [bytes.fromhex(h) for h in (
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
)]
# (leaf index, tree size, audit path)
INCLUSION = [
    (0, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (5, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (1, 5, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
]
# (first size, second size, consistency proof)
CONSISTENCY = [
    (1, 1, []),
    (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 5, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
]


def test_roots_match_the_reference_vectors() -> None:
    for size in range(len(LEAVES) + 1):
        assert merkle.root(LEAVES[:size]) == ROOTS[size], size


@pytest.mark.parametrize(("index", "size", "path"), INCLUSION)
def test_inclusion_vectors(index: int, size: int, path: list[str]) -> None:
    proof = merkle.inclusion_proof(index, LEAVES[:size])
    assert [p.hex() for p in proof] == path
    assert merkle.verify_inclusion(index, size, LEAVES[index], proof, ROOTS[size])
    assert not merkle.verify_inclusion(index, size, LEAVES[index], proof, ROOTS[size - 1])
    assert not merkle.verify_inclusion(index, size, merkle.leaf_hash(b"forged"), proof, ROOTS[size])


@pytest.mark.parametrize(("first", "second", "path"), CONSISTENCY)
def test_consistency_vectors(first: int, second: int, path: list[str]) -> None:
    proof = merkle.consistency_proof(first, LEAVES[:second])
    assert [p.hex() for p in proof] == path
    assert merkle.verify_consistency(first, second, proof, ROOTS[first], ROOTS[second])
    if first != second:
        assert not merkle.verify_consistency(first, second, proof, ROOTS[first - 1] if first > 1 else ROOTS[2],
                                             ROOTS[second])


def test_every_leaf_and_every_prefix_of_random_trees() -> None:
    rng = random.Random(6962)
    for size in range(1, 40):
        leaves = [merkle.leaf_hash(rng.randbytes(rng.randint(0, 12))) for _ in range(size)]
        top = merkle.root(leaves)
        for index in range(size):
            proof = merkle.inclusion_proof(index, leaves)
            assert merkle.verify_inclusion(index, size, leaves[index], proof, top)
            assert not merkle.verify_inclusion((index + 1) % size, size, leaves[index], proof, top) or \
                leaves[index] == leaves[(index + 1) % size]
        for first in range(1, size + 1):
            proof = merkle.consistency_proof(first, leaves)
            assert merkle.verify_consistency(first, size, proof, merkle.root(leaves[:first]), top)


def test_rewritten_history_fails_consistency() -> None:
    leaves = LEAVES[:]
    old_root = merkle.root(leaves[:5])
    leaves[2] = merkle.leaf_hash(b"rewritten")
    proof = merkle.consistency_proof(5, leaves)
    assert not merkle.verify_consistency(5, 8, proof, old_root, merkle.root(leaves))
