"""Hostile model files: damaged bytes, NaN weights, wrong shapes and dtypes, code, zip
bombs, FIFOs. Each is refused in one line that names the file (and the tensor, where one
is wrong), or loads with exactly the weights that were saved."""

from __future__ import annotations

import io
import os
import pickle
import tracemalloc
import zipfile
import zlib

import pytest
import torch
from hostile_support import (
    ANSWER_WITHIN,
    assert_one_line_error,
    run_in_process,
    run_process,
    startup_seconds,
)

from labkit.errors import ModelFileError
from labkit.model import PenguinNet
from labkit.persistence import (
    FORMAT,
    FORMAT_VERSION,
    MAX_MODEL_BYTES,
    load_model,
    save_model,
    tensor_sha256,
)

PENGUIN = ("Biscoe", "47.5", "15.0", "21.7", "50.8")


@pytest.fixture
def saved(tmp_path):
    torch.manual_seed(0)
    model = PenguinNet()
    return model, save_model(model, tmp_path / "good.pt")


def predict_with(capsys, path, *options: str):
    return run_in_process(capsys, "predict", "--model", str(path), *options, *PENGUIN)


def write_labkit_file(path, state, sums=None, **changes) -> None:
    """A file laid out as save_model lays it out, with chosen contents."""
    sums = sums if sums is not None else {n: tensor_sha256(n, t) for n, t in state.items()}
    torch.save({"format": FORMAT, "version": FORMAT_VERSION, "state_dict": state,
                "sha256": sums, **changes}, path)


def test_a_good_file_predicts(capsys, saved):
    _, path = saved
    outcome = predict_with(capsys, path)
    assert outcome.status == 0 and outcome.stderr == ""
    assert outcome.stdout.strip() in {"Adelie (0)", "Gentoo (1)", "Chinstrap (2)"}


def test_every_single_byte_flip_is_refused_or_harmless(tmp_path, saved):
    model, path = saved
    raw = path.read_bytes()
    refused = harmless = 0
    damaged = tmp_path / "damaged.pt"
    for offset in range(0, len(raw), 7):
        flipped = bytearray(raw)
        flipped[offset] ^= 0x55
        damaged.write_bytes(bytes(flipped))
        try:
            loaded = load_model(damaged)
        except ModelFileError as error:
            message = str(error)
            assert message.startswith(f"{damaged}: ") and message.isprintable(), message
            assert "weights_only" not in message
            refused += 1
        else:  # zip padding and the like: the weights must be the saved ones
            for name, tensor in model.state_dict().items():
                assert torch.equal(loaded.state_dict()[name], tensor), offset
            harmless += 1
    assert refused > harmless > 0


def rezip(path, change) -> bytes:
    """The archive at ``path`` rebuilt with ``change(name, data)`` applied to each record,
    with correct CRCs: damage that only the checksums can see."""
    out = io.BytesIO()
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(out, "w") as target:
        for record in source.infolist():
            target.writestr(record.filename, change(record.filename, source.read(record)))
    return out.getvalue()


@pytest.mark.parametrize("record, tensor", [("data/0", "fc1.weight"), ("data/3", "fc2.bias"),
                                            ("data/5", "fc3.bias")])
def test_a_flipped_weight_with_a_valid_crc_names_the_tensor(capsys, tmp_path, saved, record,
                                                            tensor):
    _, path = saved

    def flip(name: str, data: bytes) -> bytes:
        return bytes([data[0] ^ 1]) + data[1:] if name.endswith(record) else data

    damaged = tmp_path / "crc-ok.pt"
    damaged.write_bytes(rezip(path, flip))
    assert_one_line_error(predict_with(capsys, damaged),
                          f"{damaged}: tensor {tensor} does not match its checksum; "
                          "the file is damaged")


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf")])
def test_weights_that_are_not_finite_are_refused_naming_the_tensor(capsys, tmp_path, value):
    state = PenguinNet().state_dict()
    state["fc2.weight"][3, 4] = value
    path = tmp_path / "nan.pt"
    write_labkit_file(path, state)  # a correct checksum of a broken model
    assert_one_line_error(predict_with(capsys, path),
                          f"{path}: tensor fc2.weight holds 1 NaN or infinite value")
    plain = tmp_path / "plain-nan.pt"
    torch.save(state, plain)
    assert_one_line_error(predict_with(capsys, plain, "--unverified"),
                          "tensor fc2.weight holds 1 NaN or infinite value")


def test_a_model_with_nan_weights_is_never_saved(tmp_path):
    model = PenguinNet()
    with torch.no_grad():
        model.fc3.bias[0] = float("nan")
    with pytest.raises(ModelFileError, match=r"m.pt: not saved: tensor fc3.bias holds 1 "):
        save_model(model, tmp_path / "m.pt")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("change, fragment", [
    (lambda s: s.update({"fc1.weight": torch.zeros(12, 5)}),
     "tensor fc1.weight has shape 12x5, PenguinNet's is 10x5"),
    (lambda s: s.update({"fc1.weight": s["fc1.weight"].double()}),
     "tensor fc1.weight is torch.float64, PenguinNet's weights are torch.float32"),
    (lambda s: s.update({"fc1.weight": s["fc1.weight"].half()}),
     "tensor fc1.weight is torch.float16"),
    (lambda s: s.pop("fc3.bias"), "tensor fc3.bias is missing"),
    (lambda s: s.update({"fc4.weight": torch.zeros(3, 3)}), "unexpected tensor fc4.weight"),
])
def test_the_wrong_architecture_names_the_tensor(capsys, tmp_path, change, fragment):
    state = PenguinNet().state_dict()
    change(state)
    path = tmp_path / "other.pt"
    write_labkit_file(path, state)
    assert_one_line_error(predict_with(capsys, path),
                          f"{path}: does not fit PenguinNet: {fragment}")


def test_format_version_and_checksum_list(capsys, tmp_path):
    state = PenguinNet().state_dict()
    newer = tmp_path / "v2.pt"
    write_labkit_file(newer, state, version=FORMAT_VERSION + 1)
    assert_one_line_error(predict_with(capsys, newer), f"{newer}: labkit model format "
                          f"version {FORMAT_VERSION + 1}; this labkit reads version 1")
    sums = {n: tensor_sha256(n, t) for n, t in state.items()}
    del sums["fc2.bias"]
    partial = tmp_path / "partial.pt"
    write_labkit_file(partial, state, sums)
    assert_one_line_error(predict_with(capsys, partial),
                          "tensor fc2.bias does not match its checksum")


def test_the_labs_plain_state_dict_needs_unverified(capsys, tmp_path):
    model = PenguinNet()
    path = tmp_path / "lab.pt"
    torch.save(model.state_dict(), path)
    assert_one_line_error(predict_with(capsys, path),
                          f"{path}: a plain state_dict without labkit's checksums")
    outcome = predict_with(capsys, path, "--unverified")
    assert outcome.status == 0, outcome.stderr


def test_code_in_the_file_never_runs_and_the_error_gives_no_unsafe_advice(capsys, tmp_path):
    marker = tmp_path / "ran"

    class Boom:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    evil = tmp_path / "evil.pt"
    torch.save({"fc1.weight": Boom()}, evil)
    line = assert_one_line_error(predict_with(capsys, evil),
                                 f"{evil}: not a readable model file (it holds a "
                                 "posix.system object; labkit loads tensors only")
    assert "weights_only" not in line and "unsafe" not in line.lower()
    raw_pickle = tmp_path / "pickle.pt"
    raw_pickle.write_bytes(pickle.dumps(Boom()))
    assert_one_line_error(predict_with(capsys, raw_pickle), f"{raw_pickle}: not a readable "
                          "model file (not a zip archive")
    assert not marker.exists()


def test_a_zip_bomb_is_refused_unread(capsys, tmp_path, saved):
    """A model file with one more record: 256 MiB of zeros deflated to a few hundred KB,
    then its sizes rewritten to claim 2.5 GB. Refused before anything is decompressed."""
    _, path = saved
    bomb = tmp_path / "bomb.pt"
    squeezer, zeros = zlib.compressobj(9, zlib.DEFLATED, -15), bytes(1 << 20)
    deflated = b"".join(squeezer.compress(zeros) for _ in range(256)) + squeezer.flush()
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(bomb, "w") as target:
        for record in source.infolist():
            target.writestr(record, source.read(record))
        info = zipfile.ZipInfo("archive/data/6")
        info.compress_type = zipfile.ZIP_STORED  # the bytes are written as they are...
        target.writestr(info, deflated)
    raw = bytearray(bomb.read_bytes())
    claimed = (2560 << 20).to_bytes(4, "little")
    for header, method_at, size_at in ((b"PK\x03\x04", 8, 22), (b"PK\x01\x02", 10, 24)):
        at = raw.rindex(header)  # ...and the headers then say: deflated, 2.5 GB
        raw[at + method_at:at + method_at + 2] = zipfile.ZIP_DEFLATED.to_bytes(2, "little")
        raw[at + size_at:at + size_at + 4] = claimed
    bomb.write_bytes(bytes(raw))
    assert bomb.stat().st_size < MAX_MODEL_BYTES
    tracemalloc.start()
    line = assert_one_line_error(predict_with(capsys, bomb), f"{bomb}: not a readable model "
                                 "file (record 'archive/data/6' is compressed; torch stores "
                                 "records uncompressed, so it was refused unread)")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 16 << 20, (peak, line)


def test_a_record_that_claims_gigabytes_is_refused_unread(capsys, tmp_path, saved):
    _, path = saved
    raw = bytearray(path.read_bytes())
    central = raw.rindex(b"PK\x01\x02")  # the last record's central directory entry
    raw[central + 24:central + 28] = (0xFFFFFFF0).to_bytes(4, "little")  # its size
    lying = tmp_path / "lying.pt"
    lying.write_bytes(bytes(raw))
    assert_one_line_error(predict_with(capsys, lying), f"{lying}: not a readable model file")


def test_too_large_empty_truncated(capsys, tmp_path, saved):
    _, path = saved
    huge = tmp_path / "huge.pt"
    with open(huge, "wb") as stream:
        stream.truncate(MAX_MODEL_BYTES + 1)
    assert_one_line_error(predict_with(capsys, huge), f"{huge}: is {MAX_MODEL_BYTES + 1} "
                          "bytes, more than the")
    empty = tmp_path / "empty.pt"
    empty.write_bytes(b"")
    assert_one_line_error(predict_with(capsys, empty), f"{empty}: not a readable model file")
    for length in (1, 22, 100, 1000, len(path.read_bytes()) - 1):
        cut = tmp_path / f"cut{length}.pt"
        cut.write_bytes(path.read_bytes()[:length])
        assert_one_line_error(predict_with(capsys, cut), f"{cut}: not a readable model file")


def test_a_fifo_a_device_and_a_directory_as_the_model(tmp_path):
    fifo = tmp_path / "pipe.pt"
    os.mkfifo(fifo)
    baseline = startup_seconds()
    for path, kind in ((fifo, "a FIFO (named pipe)"), ("/dev/zero", "a character device"),
                       (tmp_path, "a directory")):
        outcome = run_process("predict", "--model", str(path), *PENGUIN,
                              timeout=baseline * 3 + 60)
        assert_one_line_error(outcome, f"{path}: is {kind}, expected a model file")
        assert outcome.seconds < baseline * 1.5 + ANSWER_WITHIN
