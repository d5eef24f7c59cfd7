"""C2SP signed notes and tlog checkpoints, against the golang.org/x/mod/sumdb/note vectors."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.integrity.note import (
    EM_DASH,
    MAX_SIGNATURES,
    Checkpoint,
    CheckpointFormatError,
    NoteFormatError,
    NoteSignature,
    NoteSignatureError,
    NoteUnverifiedError,
    NoteVerifier,
    add_signature,
    format_verifier_key,
    note_key_id,
    open_note,
    parse_note,
    parse_verifier_key,
    sign_note,
)

# --------------------------------------------------------------------------- published vectors
# golang.org/x/mod sumdb/note/note_test.go (TestNewVerifier, TestNewSigner, TestSign,
# TestOpen) and the package documentation in sumdb/note/note.go.
PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
PETER_SIG = (
    "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotp"
    "RZb6KE6RyyBwJnAM=\n"
)
ENOCH_SIG = (
    "— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33"
    "WWd1RvMc+QQ=\n"
)
SIGNED = TEXT + "\n" + PETER_SIG

# c2sp.org/tlog-checkpoint example (signature by an unpublished key).
C2SP_CHECKPOINT_NOTE = (
    "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n"
    "— example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv"
    "2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
)
# c2sp.org/signed-note example: the text itself contains an empty line.
C2SP_NOTE = (
    "Ognuno sta solo sul cuor della terra\ntrafitto da un raggio di sole:\n\ned è subito sera.\n\n"
    "— quasimodo.example/salvatore NnugSzTjtVAewIS+Z/iJhUPeFDkO/5QQ2i5ddnGITLlC+EhfLW9oJKONrMouFSQ"
    "U0xMcXxj99ihAQwaqP3ZekRwNtIc=\n"
)


def go_signer_key(skey: str) -> tuple[str, Ed25519PrivateKey, bytes]:
    """Decode Go's ``PRIVATE+KEY+<name>+<hash>+base64(0x01 || seed)`` (test-only)."""
    private, key, name, key_id_hex, b64 = skey.split("+", 4)
    assert (private, key) == ("PRIVATE", "KEY")
    raw = base64.b64decode(b64, validate=True)
    assert raw[0] == 0x01
    assert len(raw) == 33
    sk = Ed25519PrivateKey.from_private_bytes(raw[1:])
    pub = sk.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    assert note_key_id(name, pub).hex() == key_id_hex
    return name, sk, pub


PETER_NAME, PETER_SK, PETER_PUB = go_signer_key(PETER_SKEY)
PETER = parse_verifier_key(PETER_VKEY)
ENOCH = parse_verifier_key(ENOCH_VKEY)


def new_key(name: str) -> tuple[Ed25519PrivateKey, bytes, NoteVerifier]:
    sk = Ed25519PrivateKey.generate()
    pub = sk.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return sk, pub, NoteVerifier.from_public_key(name, pub)


# --------------------------------------------------------------------------- keys


def test_key_ids_match_published_keys() -> None:
    assert PETER_NAME == "PeterNeumann"
    assert note_key_id("PeterNeumann", PETER_PUB) == bytes.fromhex("c74f20a3")
    assert PETER.public_key == PETER_PUB
    assert PETER.key_id == bytes.fromhex("c74f20a3")
    assert ENOCH.key_id == bytes.fromhex("af0cfe78")
    assert note_key_id("EnochRoot", ENOCH.public_key) == bytes.fromhex("af0cfe78")
    manual = hashlib.sha256(b"PeterNeumann\n\x01" + PETER_PUB).digest()[:4]
    assert manual == PETER.key_id


def test_verifier_key_round_trip() -> None:
    assert format_verifier_key("PeterNeumann", PETER_PUB) == PETER_VKEY
    assert PETER.to_text() == PETER_VKEY
    assert parse_verifier_key(ENOCH.to_text()) == ENOCH


def test_verifier_key_manglings_are_rejected() -> None:
    # Same sweep as TestNewVerifier: every proper substring, every char bumped.
    for i in range(len(PETER_VKEY) + 1):
        for j in range(i + 1, len(PETER_VKEY) + 1):
            if (i, j) != (0, len(PETER_VKEY)):
                with pytest.raises(NoteFormatError):
                    parse_verifier_key(PETER_VKEY[i:j])
    for i in range(len(PETER_VKEY)):
        bumped = PETER_VKEY[:i] + chr(ord(PETER_VKEY[i]) + 1) + PETER_VKEY[i + 1 :]
        with pytest.raises(NoteFormatError):
            parse_verifier_key(bumped)


@pytest.mark.parametrize(
    "text",
    [
        # Wrong key length with an adjusted key hash; unknown algorithm with adjusted hash.
        "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==",
        "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "",
        "+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW\n",
    ],
)
def test_bad_verifier_keys(text: str) -> None:
    with pytest.raises(NoteFormatError):
        parse_verifier_key(text)


@pytest.mark.parametrize("name", ["", "a+b", "a b", "a\tb", "a\u00a0b", "a\u2028b", "a\nb"])
def test_invalid_key_names(name: str) -> None:
    with pytest.raises(NoteFormatError):
        note_key_id(name, PETER_PUB)
    with pytest.raises(NoteFormatError):
        sign_note(TEXT, name, PETER_SK.sign, PETER_PUB)


def test_verifier_rejects_inconsistent_key_id() -> None:
    with pytest.raises(NoteFormatError):
        NoteVerifier("PeterNeumann", bytes(4), PETER_PUB)
    with pytest.raises(NoteFormatError):
        NoteVerifier.from_public_key("PeterNeumann", PETER_PUB[:31])


# --------------------------------------------------------------------------- signing / opening


def test_sign_reproduces_published_note_byte_for_byte() -> None:
    signed = sign_note(TEXT, "PeterNeumann", PETER_SK.sign, PETER_PUB)
    assert signed == SIGNED
    assert signed.encode("utf-8") == (TEXT + "\n" + PETER_SIG).encode("utf-8")
    assert PETER_SIG.startswith(EM_DASH + " ")
    assert EM_DASH == "\u2014"


def test_open_published_note() -> None:
    opened = open_note(SIGNED, [PETER])
    assert opened.text == TEXT
    assert [(s.name, s.key_id) for s in opened.verified] == [
        ("PeterNeumann", bytes.fromhex("c74f20a3"))
    ]
    assert opened.unverified == ()
    assert opened.verified[0].to_line() == PETER_SIG


def test_open_one_verified_one_unknown() -> None:
    opened = open_note(SIGNED + ENOCH_SIG, [PETER])
    assert [s.name for s in opened.verified] == ["PeterNeumann"]
    assert [s.name for s in opened.unverified] == ["EnochRoot"]
    assert opened.unverified[0].to_line() == ENOCH_SIG


def test_open_both_verified() -> None:
    opened = open_note(SIGNED + ENOCH_SIG, [PETER, ENOCH])
    assert [s.name for s in opened.verified] == ["PeterNeumann", "EnochRoot"]
    assert opened.unverified == ()


def test_open_without_known_signature_is_rejected() -> None:
    with pytest.raises(NoteUnverifiedError) as err:
        open_note(SIGNED + ENOCH_SIG, [])
    assert err.value.note.text == TEXT
    assert [s.name for s in err.value.note.signatures] == ["PeterNeumann", "EnochRoot"]


def test_open_duplicates_and_unknown_garbage() -> None:
    enoch_abcd = ENOCH_SIG[:60] + "ABCD" + ENOCH_SIG[60:]
    note = SIGNED + PETER_SIG + ENOCH_SIG + ENOCH_SIG + enoch_abcd
    opened = open_note(note, [PETER])
    assert len(opened.verified) == 1
    assert [s.to_line() for s in opened.unverified] == [ENOCH_SIG, enoch_abcd]


def test_open_invalid_signature_from_known_key() -> None:
    bad = TEXT + "\n" + PETER_SIG[:60] + "ABCD" + PETER_SIG[60:]
    with pytest.raises(NoteSignatureError) as err:
        open_note(bad, [PETER])
    assert err.value.name == "PeterNeumann"
    assert err.value.key_id == bytes.fromhex("c74f20a3")


def test_open_too_many_signatures() -> None:
    with pytest.raises(NoteFormatError):
        open_note(TEXT + "\n" + PETER_SIG * (MAX_SIGNATURES + 1), [PETER])
    with pytest.raises(NoteFormatError):
        open_note(TEXT + "\n" + PETER_SIG * (MAX_SIGNATURES + 1), [])
    assert len(open_note(TEXT + "\n" + PETER_SIG * 16, [PETER]).verified) == 1


def test_open_over_long_note() -> None:
    with pytest.raises(NoteFormatError):
        open_note("x" * 70_000 + "\n" + "\n" + PETER_SIG, [PETER])


@pytest.mark.parametrize(
    "note",
    [
        TEXT,
        TEXT + "\n",
        TEXT + "\n" + PETER_SIG[:-1],
        "\x01" + TEXT + "\n" + PETER_SIG,
        TEXT + "\n" + "— Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNX"
        "gKvqfqdngotpRZb6KE6RyyBwJnAM=",
        TEXT + "\n" + PETER_SIG + "Unexpected line.\n",
        # Extra checks beyond the Go suite.
        TEXT + "\n" + PETER_SIG.replace("\u2014", "-"),
        TEXT + "\n" + PETER_SIG.replace("\u2014 ", "\u2014"),
        TEXT + "\n" + PETER_SIG.replace("x08go", "x08g!"),
        TEXT + "\n" + PETER_SIG.replace("AM=", "AN="),  # non-canonical trailing bits
        TEXT + "\n" + PETER_SIG.replace(" x08go", " "),
        TEXT + "\n" + PETER_SIG + "\n",
        TEXT
        + "\n"
        + "— PeterNeumann "
        + base64.b64encode(bytes.fromhex("c74f20a3")).decode()
        + "\n",
        TEXT.replace("\n", "\r\n") + "\r\n" + PETER_SIG,
        "\ud800" + TEXT + "\n" + PETER_SIG,
    ],
)
def test_open_malformed_notes(note: str) -> None:
    with pytest.raises(NoteFormatError):
        open_note(note, [PETER])


def test_tampered_text_fails() -> None:
    tampered = SIGNED.replace("cryptography", "cryptographY")
    with pytest.raises(NoteSignatureError):
        open_note(tampered, [PETER])


def test_tampered_signature_fails() -> None:
    raw = bytearray(base64.b64decode(PETER_SIG.split(" ")[2]))
    raw[10] ^= 0x01
    line = f"— PeterNeumann {base64.b64encode(bytes(raw)).decode()}\n"
    with pytest.raises(NoteSignatureError):
        open_note(TEXT + "\n" + line, [PETER])


def test_same_name_other_key_is_unknown_not_invalid() -> None:
    # Spec: signatures sharing only the name (or only the ID) with a known key are ignored.
    sk, pub, _ = new_key("PeterNeumann")
    other = sign_note(TEXT, "PeterNeumann", sk.sign, pub)
    with pytest.raises(NoteUnverifiedError):
        open_note(other, [PETER])


def test_ambiguous_verifiers() -> None:
    fake = NoteVerifier.__new__(NoteVerifier)
    object.__setattr__(fake, "name", "PeterNeumann")
    object.__setattr__(fake, "key_id", PETER.key_id)
    object.__setattr__(fake, "public_key", ENOCH.public_key)
    with pytest.raises(NoteFormatError):
        open_note(SIGNED, [PETER, fake])
    assert open_note(SIGNED, [PETER, PETER]).verified  # identical duplicates are fine


def test_sign_rejects_bad_text_and_wrong_key() -> None:
    for text in ["", "no newline", "tab\there\n", "nul\x00\n", "\ud800\n"]:
        with pytest.raises(NoteFormatError):
            sign_note(text, "PeterNeumann", PETER_SK.sign, PETER_PUB)
    with pytest.raises(NoteSignatureError):
        sign_note(TEXT, "PeterNeumann", PETER_SK.sign, ENOCH.public_key)
    with pytest.raises(NoteSignatureError):
        sign_note(TEXT, "PeterNeumann", lambda _m: b"\x00" * 64, PETER_PUB)


def test_text_with_empty_lines_round_trips() -> None:
    for text in ["a\n\nb\n", "\n", "a\n\n", "\n\n\n", "— looks like a signature\n\n"]:
        signed = sign_note(text, "PeterNeumann", PETER_SK.sign, PETER_PUB)
        assert open_note(signed, [PETER]).text == text


def test_c2sp_examples_parse() -> None:
    parsed = parse_note(C2SP_NOTE)
    assert parsed.text.endswith("\n\ned è subito sera.\n")
    assert [s.name for s in parsed.signatures] == ["quasimodo.example/salvatore"]
    checkpoint_note = parse_note(C2SP_CHECKPOINT_NOTE)
    checkpoint = Checkpoint.parse(checkpoint_note.text)
    assert checkpoint.origin == "example.com/behind-the-sofa"
    assert checkpoint.size == 20852163
    assert checkpoint.to_text() == checkpoint_note.text


def test_add_signature_cosigns_and_replaces() -> None:
    sk, pub, witness = new_key("witness.example/w1")
    cosigned = add_signature(SIGNED, "witness.example/w1", sk.sign, pub)
    assert cosigned.startswith(SIGNED)
    opened = open_note(cosigned, [PETER, witness])
    assert [s.name for s in opened.verified] == ["PeterNeumann", "witness.example/w1"]
    # Re-signing with an existing key replaces its line and moves it last (as Go's Sign).
    assert add_signature(cosigned, "witness.example/w1", sk.sign, pub) == cosigned
    resigned = add_signature(SIGNED + ENOCH_SIG, "PeterNeumann", PETER_SK.sign, PETER_PUB)
    assert resigned == TEXT + "\n" + ENOCH_SIG + PETER_SIG
    with pytest.raises(NoteFormatError):
        add_signature(TEXT, "witness.example/w1", sk.sign, pub)


def test_signature_line_round_trip() -> None:
    sig = NoteSignature("PeterNeumann", PETER.key_id, b"\x01" * 64)
    assert parse_note(TEXT + "\n" + sig.to_line()).signatures == (sig,)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.text(
            alphabet=st.characters(blacklist_categories=("Cs",), min_codepoint=0x20),
            max_size=30,
        ),
        min_size=1,
        max_size=6,
    )
)
def test_sign_open_round_trip_property(lines: list[str]) -> None:
    text = "".join(line + "\n" for line in lines)
    signed = sign_note(text, "PeterNeumann", PETER_SK.sign, PETER_PUB)
    opened = open_note(signed, [PETER])
    assert opened.text == text
    assert len(opened.verified) == 1


# --------------------------------------------------------------------------- checkpoints

ROOT = hashlib.sha256(b"root").digest()


def test_checkpoint_round_trip() -> None:
    cp = Checkpoint("example.com/log", 12345, ROOT)
    text = cp.to_text()
    assert text == f"example.com/log\n12345\n{base64.b64encode(ROOT).decode()}\n"
    assert Checkpoint.parse(text) == cp
    empty = Checkpoint("example.com/log", 0, hashlib.sha256(b"").digest())
    assert Checkpoint.parse(empty.to_text()) == empty
    assert empty.to_text().split("\n")[1] == "0"


def test_checkpoint_with_extensions_signed_and_opened() -> None:
    cp = Checkpoint("example.com/log", 7, ROOT, ("— not a signature", "timestamp 1700000000"))
    text = cp.to_text()
    assert text.endswith("— not a signature\ntimestamp 1700000000\n")
    assert Checkpoint.parse(text) == cp
    signed = sign_note(text, "example.com/log", PETER_SK.sign, PETER_PUB)
    # The key name need not be the origin for signing in this module; checking it is policy.
    with pytest.raises(NoteUnverifiedError):
        open_note(signed, [PETER])  # PETER is registered under another name
    verifier = NoteVerifier.from_public_key("example.com/log", PETER_PUB)
    assert Checkpoint.parse(open_note(signed, [verifier]).text) == cp


B64ROOT = base64.b64encode(ROOT).decode()
URLSAFE_ROOT = base64.urlsafe_b64encode(b"\xff" * 32).decode()
_B64_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
# Same bytes, but a non-zero bit in the unused low bits of the last character.
NONCANONICAL_ROOT = B64ROOT[:-2] + _B64_ALPHABET[_B64_ALPHABET.index(B64ROOT[-2]) | 1] + "="


@pytest.mark.parametrize(
    "text",
    [
        f"example.com/log\n12\n{B64ROOT}",  # no final newline
        f"example.com/log\n12\n{B64ROOT}\n\n",  # empty extension line
        f"example.com/log\n12\n\n{B64ROOT}\n",
        f"\n12\n{B64ROOT}\n",  # empty origin
        "example.com/log\n12\n",  # too few lines
        "",
        f"example.com/log\n012\n{B64ROOT}\n",  # leading zero
        f"example.com/log\n00\n{B64ROOT}\n",
        f"example.com/log\n+12\n{B64ROOT}\n",
        f"example.com/log\n-1\n{B64ROOT}\n",
        f"example.com/log\n 12\n{B64ROOT}\n",
        f"example.com/log\n1_2\n{B64ROOT}\n",
        f"example.com/log\n\u0661\u0662\n{B64ROOT}\n",  # Arabic-Indic digits
        f"example.com/log\n0x10\n{B64ROOT}\n",
        f"example.com/log\n{1 << 64}\n{B64ROOT}\n",
        f"example.com/log\n12\n{base64.b64encode(ROOT[:31]).decode()}\n",
        f"example.com/log\n12\n{B64ROOT.rstrip('=')}\n",  # missing padding
        f"example.com/log\n12\n{NONCANONICAL_ROOT}\n",
        f"example.com/log\n12\n{B64ROOT} \n",
        f"example.com/log\n12\n{URLSAFE_ROOT}\n",
        f"example.com/log\r\n12\n{B64ROOT}\n",
    ],
)
def test_checkpoint_strict_parse_errors(text: str) -> None:
    with pytest.raises(CheckpointFormatError):
        Checkpoint.parse(text)


def test_checkpoint_constructor_validates() -> None:
    with pytest.raises(CheckpointFormatError):
        Checkpoint("", 1, ROOT)
    with pytest.raises(CheckpointFormatError):
        Checkpoint("a\nb", 1, ROOT)
    with pytest.raises(CheckpointFormatError):
        Checkpoint("o", -1, ROOT)
    with pytest.raises(CheckpointFormatError):
        Checkpoint("o", 1, ROOT[:16])
    with pytest.raises(CheckpointFormatError):
        Checkpoint("o", 1, ROOT, ("",))
    assert Checkpoint("o", (1 << 64) - 1, ROOT).size == (1 << 64) - 1


@settings(max_examples=60, deadline=None)
@given(
    origin=st.text(
        alphabet=st.characters(blacklist_categories=("Cs",), min_codepoint=0x20),
        min_size=1,
        max_size=20,
    ),
    size=st.integers(min_value=0, max_value=(1 << 64) - 1),
    root=st.binary(min_size=32, max_size=32),
    extensions=st.lists(
        st.text(
            alphabet=st.characters(blacklist_categories=("Cs",), min_codepoint=0x20),
            min_size=1,
            max_size=10,
        ),
        max_size=3,
    ),
)
def test_checkpoint_round_trip_property(
    origin: str, size: int, root: bytes, extensions: list[str]
) -> None:
    cp = Checkpoint(origin, size, root, tuple(extensions))
    assert Checkpoint.parse(cp.to_text()) == cp
