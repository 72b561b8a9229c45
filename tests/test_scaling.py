"""Standardised inputs and the untrained-network measurements of chapter 9, on the real data."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from labkit.model import PenguinNet
from labkit.prep import split
from labkit.scaling import (
    UNIFORM_LOSS,
    dead_units,
    first_layer_activity,
    second_moments,
    standardise,
    untrained,
)


@pytest.fixture(scope="module")
def standardised(honest):
    return standardise(honest.data)


def test_training_inputs_get_mean_0_and_standard_deviation_1(standardised):
    data, _ = standardised
    assert np.allclose(data.x_train.mean(axis=0), 0, atol=1e-5)
    assert np.allclose(data.x_train.std(axis=0), 1, atol=1e-5)
    assert data.x_train.dtype == data.x_test.dtype == np.float32


def test_test_rows_are_scaled_with_the_training_statistics(honest, standardised):
    data, scaler = standardised
    x_train, x_test = honest.data.x_train.astype(np.float64), honest.data.x_test
    mu, sigma = x_train.mean(axis=0), x_train.std(axis=0)
    assert np.allclose(scaler.mean_, mu) and np.allclose(scaler.scale_, sigma)
    assert np.allclose(data.x_test, (x_test - mu) / sigma, atol=1e-5)
    # fitted on the test rows instead, their means would all be 0
    assert np.abs(data.x_test.mean(axis=0)).max() > 0.01


def test_oversampling_changes_neither_mean_nor_standard_deviation(honest):
    once = split(honest.penguins, factor=1)
    four_times = split(honest.penguins)
    assert four_times.n_train == 4 * once.n_train
    _, scaler_once = standardise(once)
    _, scaler_four = standardise(four_times)
    assert np.allclose(scaler_once.mean_, scaler_four.mean_)
    assert np.allclose(scaler_once.scale_, scaler_four.scale_)


def test_standardising_keeps_labels_and_leaves_the_split_untouched(honest, standardised):
    data, _ = standardised
    before = honest.data.x_train.copy()
    standardise(honest.data)
    assert np.array_equal(honest.data.x_train, before)
    assert np.array_equal(data.y_train, honest.data.y_train)
    assert np.array_equal(data.y_test, honest.data.y_test)
    assert data.mode == honest.data.mode


def test_first_layer_activity_counts_dead_and_always_active_units():
    model = PenguinNet()
    x = np.array([[1, 2, 3, 4, 5], [0, 1, 0, 1, 0]], dtype=np.float32)
    with torch.no_grad():
        model.fc1.weight.zero_()
        model.fc1.bias.copy_(torch.tensor([-1, -1, 1, 1, 1, 0, 0, 0, 0, 0.0]))
        model.fc1.weight[5, 0] = 1.0   # positive for the first row only: neither
        model.fc1.weight[6, 1] = -1.0  # negative for both rows: dead
    activity = first_layer_activity(model, x)
    # units 0, 1, 6 and 7-9 (zero, which ReLU also zeroes) are dead; 2-4 always active
    assert activity == (6, 3)


def test_standardised_inputs_start_near_ln3_without_dead_units(honest, standardised):
    data, _ = standardised
    for seed in range(10):
        start = untrained(data.x_train, data.y_train, seed)
        assert abs(start.loss - UNIFORM_LOSS) < 0.2, seed
        assert start.dead == 0, seed
        assert start.confidence < 0.5, seed
    assert math.isclose(UNIFORM_LOSS, math.log(3))


def test_the_lab_scaling_starts_worse_than_ln3_on_most_seeds(honest):
    starts = [untrained(honest.data.x_train, honest.data.y_train, seed) for seed in range(10)]
    assert sum(s.loss > UNIFORM_LOSS + 0.2 for s in starts) >= 5
    assert sum(s.dead for s in starts) > 0
    assert all(s.answer_share > 0.9 for s in starts)


def test_dead_units_are_those_zero_for_every_row():
    model = PenguinNet()
    x = np.array([[1, 2, 3, 4, 5], [0, 1, 0, 1, 0]], dtype=np.float32)
    with torch.no_grad():
        model.fc1.weight.zero_()
        model.fc1.bias.copy_(torch.tensor([-1, 1, 1, 1, 1, 1, 1, 1, 1, 1.0]))
        model.fc1.weight[1, 0] = -1.0  # 0 for the first row, 1 for the second: alive
        model.fc2.weight.zero_()
        model.fc2.bias.copy_(torch.tensor([1, -1, 1, 1, 1, 1, 1, 1, 1, 1.0]))
        model.fc2.weight[0, 1] = -1.0  # 1 - h1[1]: 1 for the first row, 0 for the second
        model.fc2.weight[2, 1] = -2.0  # 1 - 2 h1[1]: 1, then -1: alive
    assert dead_units(model, x) == ([0], [1])


def test_second_moments_follow_the_layers():
    model = PenguinNet()
    x = np.ones((4, 5), dtype=np.float32)
    with torch.no_grad():
        for layer in (model.fc1, model.fc2, model.fc3):
            layer.weight.fill_(0.5)
            layer.bias.fill_(-1.0)
    # z1 = 5 * 0.5 - 1 = 1.5; z2 = 10 * 0.5 * 1.5 - 1 = 6.5; z3 = 10 * 0.5 * 6.5 - 1 = 31.5
    assert second_moments(model, x) == pytest.approx([1.0, 1.5**2, 6.5**2, 31.5**2])


def test_default_initialisation_shrinks_the_second_moment_about_sixfold(standardised):
    """nn.Linear's default draws weights and biases with variance 1/(3 n); ReLU halves the
    second moment, so a layer gives about E[z^2]/6 + 1/(3 n) on average over seeds."""
    data, _ = standardised
    sizes = []
    for seed in range(20):
        torch.manual_seed(seed)
        sizes.append(second_moments(PenguinNet(), data.x_train))
    mean = np.mean(sizes, axis=0)
    assert mean[0] == pytest.approx(1.0, abs=1e-4)
    assert mean[1] == pytest.approx(5 / 15 + 1 / 15, rel=0.15)
    assert mean[2] == pytest.approx(mean[1] / 6 + 1 / 30, rel=0.25)
