"""Benchmark: the original lab's training loop against ``labkit.fit``, in one process.

Both train PenguinNet from the same seed on the same honest split for the same epochs and
batch size. The lab's loop is reproduced as the lab writes it: DataLoaders over
``TensorDataset`` with ``num_workers=1``, ``print`` each epoch, the test set evaluated after
every epoch. Prints both times, the ratio and both accuracies.

A third line times the least any autograd training loop must do on these batches: the
forward pass, the loss and ``loss.backward()``, with no optimizer step, no zeroing and no
test. It is not a way to train; it shows how far ``labkit.fit`` is from the floor set by
PyTorch's per-operation cost on this machine.

    python bench/bench_training.py [--epochs 100]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import time

import torch
import torch.utils.data as td
from torch import nn

from labkit.model import PenguinNet
from labkit.pipeline import prepare
from labkit.training import fit_penguin_net, make_loader, torch_threads


def lab_loop(x_train, y_train, x_test, y_test, epochs: int, batch_size: int) -> tuple[float, float]:
    """The lab's cells, verbatim in behaviour; returns (seconds of the epoch loop, accuracy)."""
    torch.manual_seed(0)
    train_ds = td.TensorDataset(torch.Tensor(x_train).float(), torch.Tensor(y_train).long())
    train_loader = td.DataLoader(train_ds, batch_size=batch_size, shuffle=False, num_workers=1)
    test_ds = td.TensorDataset(torch.Tensor(x_test).float(), torch.Tensor(y_test).long())
    test_loader = td.DataLoader(test_ds, batch_size=batch_size, shuffle=False, num_workers=1)
    model = PenguinNet()
    loss_criteria = nn.CrossEntropyLoss()

    def train(model, data_loader, optimizer):
        device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        model.to(device)
        model.train()
        train_loss = 0
        for batch, tensor in enumerate(data_loader):  # noqa: B007 (the lab's own loop)
            data, target = tensor
            optimizer.zero_grad()
            out = model(data)
            loss = loss_criteria(out, target)
            train_loss += loss.item()
            loss.backward()
            optimizer.step()
        avg_loss = train_loss / (batch + 1)
        print(f"Training set: Average loss: {avg_loss:.6f}")
        return avg_loss

    def test(model, data_loader):
        device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        model.to(device)
        model.eval()
        test_loss = 0
        correct = 0
        with torch.no_grad():
            batch_count = 0
            for _batch, tensor in enumerate(data_loader):
                batch_count += 1
                data, target = tensor
                out = model(data)
                test_loss += loss_criteria(out, target).item()
                _, predicted = torch.max(out.data, 1)
                correct += torch.sum(target == predicted).item()
        avg_loss = test_loss / batch_count
        print(f"Validation set: Average loss: {avg_loss:.6f}, "
              f"Accuracy: {correct}/{len(data_loader.dataset)}")
        return avg_loss, correct / len(data_loader.dataset)

    optimizer = torch.optim.Adam(model.parameters(), lr=0.001)
    optimizer.zero_grad()
    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        for epoch in range(1, epochs + 1):
            print(f"Epoch: {epoch}")
            train(model, train_loader, optimizer)
            _, accuracy = test(model, test_loader)
    return time.perf_counter() - start, accuracy


def autograd_floor(x_train, y_train, epochs: int, batch_size: int) -> float:
    """Seconds for forward, loss and backward over every training batch, nothing else."""
    torch.manual_seed(0)
    model, loss_fn = PenguinNet(), nn.CrossEntropyLoss()
    batches = make_loader(x_train, y_train, batch_size)
    start = time.perf_counter()
    with torch_threads(1):
        for _epoch in range(epochs):
            for data, target in batches:
                loss_fn(model(data), target).backward()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--batch-size", type=int, default=20)
    args = parser.parse_args()

    data = prepare().data
    lab_seconds, lab_accuracy = lab_loop(data.x_train, data.y_train, data.x_test, data.y_test,
                                         args.epochs, args.batch_size)
    _, history = fit_penguin_net(data, epochs=args.epochs, batch_size=args.batch_size,
                                 progress=False)
    floor_seconds = autograd_floor(data.x_train, data.y_train, args.epochs, args.batch_size)
    print(f"epochs {args.epochs}, batch {args.batch_size}, "
          f"{data.n_train} training rows, {data.n_test} test rows")
    print(f"lab loop     {lab_seconds:7.2f} s   accuracy {lab_accuracy:.1%}")
    print(f"labkit.fit   {history.seconds:7.2f} s   accuracy {history.val_accuracy[-1]:.1%}")
    print(f"speed-up     {lab_seconds / history.seconds:7.1f}x")
    print(f"floor        {floor_seconds:7.2f} s   forward, loss and backward only "
          f"(no step, no test): {lab_seconds / floor_seconds:.1f}x")


if __name__ == "__main__":
    main()
