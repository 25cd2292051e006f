"""The transparency log's Merkle tree (RFC 6962 / RFC 9162): known answers, and proofs of random
logs that verify, and fail for any changed leaf, index, size, proof or root."""

import hashlib

from hypothesis import assume, given
from hypothesis import strategies as st

from custody import merkle

# The reference vectors of RFC 6962's implementation (certificate-transparency, merkle tree
# tests): eight leaves and the root of each prefix.
LEAVES = [
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
]
ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
# Leaf 0 in the tree of 8, from the same tests.
INCLUSION_0_OF_8 = [
    "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
]
VECTOR_HASHES = [merkle.leaf_hash(bytes.fromhex(leaf)) for leaf in LEAVES]


def test_roots_of_the_rfc_6962_reference_vectors():
    source = merkle.leaf_source(VECTOR_HASHES)
    assert [merkle.root(size, source).hex() for size in range(1, 9)] == ROOTS
    assert merkle.root(0, source) == hashlib.sha256(b"").digest()


def test_an_inclusion_proof_of_the_reference_vectors():
    proof = merkle.inclusion_proof(0, 8, merkle.leaf_source(VECTOR_HASHES))
    assert [node.hex() for node in proof] == INCLUSION_0_OF_8
    assert merkle.verify_inclusion(VECTOR_HASHES[0], 0, 8, proof, bytes.fromhex(ROOTS[7]))


def _recursive_root(hashes: list[bytes]) -> bytes:
    """MTH as RFC 9162 writes it, recursively: the yardstick for the frontier and the source."""
    if len(hashes) == 1:
        return hashes[0]
    split = 1 << ((len(hashes) - 1).bit_length() - 1)
    return merkle.node_hash(_recursive_root(hashes[:split]), _recursive_root(hashes[split:]))


# Distinct leaves: with equal siblings, left and right are the same and an index could not
# be told from its neighbour's.
logs = st.lists(st.binary(min_size=32, max_size=32), min_size=1, max_size=300, unique=True).map(
    lambda leaves: [merkle.leaf_hash(leaf) for leaf in leaves]
)


@given(logs)
def test_the_frontier_grows_the_same_root_and_nodes_as_the_definition(hashes):
    frontier, nodes = merkle.Frontier(), {}
    for digest in hashes:
        frontier.append(digest, lambda level, index, node: nodes.__setitem__((level, index), node))
    assert frontier.root() == _recursive_root(hashes)
    for (level, index), node in nodes.items():
        assert node == merkle.perfect_root(hashes[index << level : (index + 1) << level])
    # The integrator's inlined loop keeps the same nodes at the stored levels.
    extended = merkle.Frontier()
    kept = extended.extend(hashes, 4)
    assert extended.root() == frontier.root()
    assert kept == [
        (level, index, node) for (level, index), node in nodes.items() if level % 4 == 0
    ]
    # A frontier resumed from a prefix's complete subtrees continues the same tree.
    half = len(hashes) // 2
    source = merkle.leaf_source(hashes)
    resumed = merkle.Frontier(half, source(merkle.complete_subtrees(0, half)))
    for digest in hashes[half:]:
        resumed.append(digest, lambda *node: None)
    assert resumed.root() == frontier.root()


@given(logs, st.data())
def test_inclusion_proofs_verify_and_any_change_fails(hashes, data):
    size = data.draw(st.integers(1, len(hashes)), label="size")
    index = data.draw(st.integers(0, size - 1), label="index")
    source = merkle.leaf_source(hashes)
    root = merkle.root(size, source)
    proof = merkle.inclusion_proof(index, size, source)
    assert merkle.verify_inclusion(hashes[index], index, size, proof, root)

    other = data.draw(st.binary(min_size=32, max_size=32), label="other")
    assume(other != hashes[index])
    assert not merkle.verify_inclusion(other, index, size, proof, root)
    assert not merkle.verify_inclusion(hashes[index], index, size, proof, other)
    if size > 1:
        wrong_index = data.draw(st.integers(0, size - 1).filter(lambda i: i != index))
        assert not merkle.verify_inclusion(hashes[index], wrong_index, size, proof, root)
        # A proof for one tree size is no proof against another size's root (the checkpoint
        # signs the two together).
        other_size = data.draw(st.integers(index + 1, len(hashes)), label="other size")
        other_root = merkle.root(other_size, source)
        assume(other_root != root)
        assert not merkle.verify_inclusion(hashes[index], index, other_size, proof, other_root)
        changed = data.draw(st.integers(0, len(proof) - 1), label="changed node")
        tampered = [*proof[:changed], other, *proof[changed + 1 :]]
        assert not merkle.verify_inclusion(hashes[index], index, size, tampered, root)
    assert not merkle.verify_inclusion(hashes[index], index, size, [*proof, other], root)


@given(logs, st.data())
def test_consistency_proofs_verify_and_any_change_fails(hashes, data):
    second = data.draw(st.integers(1, len(hashes)), label="second")
    first = data.draw(st.integers(1, second), label="first")
    source = merkle.leaf_source(hashes)
    first_root, second_root = merkle.root(first, source), merkle.root(second, source)
    proof = merkle.consistency_proof(first, second, source)
    assert merkle.verify_consistency(first, second, proof, first_root, second_root)

    other = data.draw(st.binary(min_size=32, max_size=32), label="other")
    assume(other not in (first_root, second_root))
    assert not merkle.verify_consistency(first, second, proof, other, second_root)
    assert not merkle.verify_consistency(first, second, proof, first_root, other)
    if proof:
        changed = data.draw(st.integers(0, len(proof) - 1), label="changed node")
        tampered = [*proof[:changed], other, *proof[changed + 1 :]]
        assert not merkle.verify_consistency(first, second, tampered, first_root, second_root)
    if first < second:
        # A log that rewrote one of the first tree's leaves is not consistent with it.
        leaf = data.draw(st.integers(0, first - 1), label="rewritten leaf")
        rewritten = [*hashes[:leaf], other, *hashes[leaf + 1 :]]
        rewritten_source = merkle.leaf_source(rewritten)
        forked = merkle.consistency_proof(first, second, rewritten_source)
        forked_root = merkle.root(second, rewritten_source)
        assert not merkle.verify_consistency(first, second, forked, first_root, forked_root)


def test_ranges_outside_the_tree_are_refused():
    for index, size in ((0, 0), (3, 3), (-1, 2)):
        try:
            merkle.inclusion_ranges(index, size)
        except ValueError:
            continue
        raise AssertionError(f"leaf {index} of {size} was accepted")
    assert not merkle.verify_inclusion(VECTOR_HASHES[0], 8, 8, [], bytes(32))
    assert not merkle.verify_consistency(5, 3, [], bytes(32), bytes(32))
