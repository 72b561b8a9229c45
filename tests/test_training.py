"""Training PenguinNet: the lab's defaults work, results repeat, batches match a DataLoader."""

from __future__ import annotations

import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from labkit import training
from labkit.model import PenguinNet
from labkit.training import fit_penguin_net, make_loader


@pytest.fixture(scope="module")
def lab_run(honest):
    """One full training with the lab's defaults (100 epochs, batch 20, Adam 0.001, seed 0)."""
    return fit_penguin_net(honest.data, progress=False)


@pytest.mark.slow
def test_lab_defaults_reach_97_percent_on_the_honest_test_set(lab_run, honest):
    model, history = lab_run
    assert len(history.train_loss) == len(history.val_loss) == 100
    assert history.val_accuracy[-1] >= 0.97
    assert history.train_loss[-1] < history.train_loss[0] / 3
    again = training.test(model, make_loader(honest.data.x_test, honest.data.y_test))
    assert again.accuracy == history.val_accuracy[-1]
    assert again.total == honest.data.n_test


@pytest.mark.slow
def test_same_seed_same_history(lab_run, honest):
    _, first = lab_run
    _, second = fit_penguin_net(honest.data, progress=False)
    assert second.train_loss == first.train_loss
    assert second.val_loss == first.val_loss
    _, other_seed = fit_penguin_net(honest.data, epochs=2, seed=1, progress=False)
    assert other_seed.train_loss != first.train_loss[:2]


def test_batches_are_the_ones_a_dataloader_gives(honest):
    data = honest.data
    ours = make_loader(data.x_train, data.y_train, batch_size=20)
    reference = DataLoader(TensorDataset(ours.x, ours.y), batch_size=20)
    ours_batches, reference_batches = list(ours), list(reference)
    assert len(ours) == len(reference) == len(ours_batches) == 48
    for (x1, y1), (x2, y2) in zip(ours_batches, reference_batches):
        assert torch.equal(x1, x2) and torch.equal(y1, y2)


def test_shuffled_batches_cover_every_row_once_and_follow_the_seed(honest):
    data = honest.data
    loader = make_loader(data.x_test, data.y_test, batch_size=20, shuffle=True)
    torch.manual_seed(5)
    first = torch.cat([x for x, _ in loader])
    torch.manual_seed(5)
    again = torch.cat([x for x, _ in loader])
    assert torch.equal(first, again) and not torch.equal(first, loader.x)
    assert sorted(map(tuple, first.tolist())) == sorted(map(tuple, loader.x.tolist()))


def test_train_returns_the_average_batch_loss_and_updates_weights(honest):
    torch.manual_seed(0)
    model = PenguinNet()
    before = [p.detach().clone() for p in model.parameters()]
    loader = make_loader(honest.data.x_train[:40], honest.data.y_train[:40], batch_size=20)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.0)  # lr 0: losses are comparable
    average = training.train(model, loader, optimizer)
    losses = [torch.nn.functional.cross_entropy(model(x), y).item() for x, y in loader]
    assert average == pytest.approx(sum(losses) / 2)
    trained = torch.optim.Adam(model.parameters(), lr=0.01)
    training.train(model, loader, trained)
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters()))


def test_test_counts_correct_predictions(honest):
    torch.manual_seed(0)
    model = PenguinNet()
    loader = make_loader(honest.data.x_test, honest.data.y_test)
    result = training.test(model, loader)
    with torch.no_grad():
        x, y = loader.x, loader.y
        correct = (model(x).argmax(1) == y).sum().item()
    assert (result.correct, result.total) == (correct, 103)
    assert result.accuracy == correct / 103


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_batches_follow_the_model_to_the_gpu(honest):
    model, history = fit_penguin_net(honest.data, epochs=2, progress=False, device="cuda")
    assert next(model.parameters()).is_cuda and len(history.train_loss) == 2


def test_shuffling_every_epoch_follows_the_seed_and_changes_the_run(honest):
    _, fixed = fit_penguin_net(honest.data, epochs=2, progress=False)
    _, shuffled = fit_penguin_net(honest.data, epochs=2, progress=False, shuffle=True)
    _, again = fit_penguin_net(honest.data, epochs=2, progress=False, shuffle=True)
    assert shuffled.train_loss == again.train_loss
    assert shuffled.train_loss != fixed.train_loss


# --- Adam's state, read back -------------------------------------------------------------------

@pytest.mark.parametrize("fused", [True, False])
def test_adam_moments_give_the_size_of_the_last_step(fused):
    torch.manual_seed(0)
    model = PenguinNet()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, fused=fused)
    x = torch.randn(64, 5) * torch.tensor([1.0, 40.0, 17.0, 20.0, 40.0])
    y = torch.randint(0, 3, (64,))
    with pytest.raises(training.InputError, match="no step yet"):
        training.adam_moments(optimizer)
    for step in range(1, 31):
        before = torch.cat([p.detach().ravel().clone() for p in model.parameters()])
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(model(x + step), y).backward()
        optimizer.step()
        after = torch.cat([p.detach().ravel() for p in model.parameters()])
        sizes = training.adam_moments(optimizer).step_over_lr
        # The state read back is what the step used: |step| / lr, parameter by parameter.
        assert torch.allclose(sizes, (after - before).abs() / 1e-3, rtol=1e-3, atol=1e-4)
        if step == 1:   # m_hat = g, v_hat = g^2: a step of eta for every nonzero gradient
            grads = torch.cat([p.grad.ravel() for p in model.parameters()])
            assert torch.allclose(sizes[grads.abs() > 1e-4], torch.tensor(1.0), atol=1e-3)
    assert sizes.median() < 0.9   # by step 30 the steps are no longer all of size eta
