"""Chapter 17's architecture-search knobs as options: the search-space lists, evolution's variation
probabilities and its selection fractions (`hydra.sweeper.*`). Each is checked by what the search
does with it; the book's values leave every draw as it was."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest
from fixtures import write_cifar10_npz
from helpers import run_ldl

from ldl.errors import ConfigError
from ldl.sweeps.architecture_search.options import SearchOptions, parse_options
from ldl.sweeps.architecture_search.space import (
    BOOK_SPACE,
    CNN_ACTIVATIONS,
    SearchSpace,
    estimate_weights,
    random_definition,
)
from ldl.sweeps.architecture_search.strategies import (
    Scored,
    Variation,
    child,
    evolution,
    hill_climb,
    random_search,
    survivors,
)

CUSTOM = SearchSpace(
    sizes=(8, 32), activations=("selu",), kernels=(3,), strides=(1, 2), dropouts=(0.0, 0.5)
)


def score_by_shape(definitions, phase):
    return [min(0.9, estimate_weights(d) / 200_000) for d in definitions]


def uses_only(definition, space: SearchSpace) -> bool:
    return all(
        layer[name] in values
        for layer in definition
        for name, values in space.parameters[layer["type"]].items()
    )


def test_the_default_options_are_the_book_s_lists_and_draw_the_same_candidates():
    options = parse_options({})
    assert options.space == BOOK_SPACE and options.variation == Variation(0.5, 0.25, 0.25, 0.2, 0.3)
    configured, book = np.random.RandomState(7), np.random.RandomState(7)
    first = [random_definition(configured, options.space) for _ in range(20)]
    second = [random_definition(book) for _ in range(20)]
    assert first == second


def test_every_candidate_of_every_strategy_comes_from_a_custom_space():
    evaluated = []

    def evaluate(definitions, phase):
        evaluated.extend(copy.deepcopy(definitions))
        return score_by_shape(definitions, phase)

    rng = np.random.RandomState(7)
    best = random_search(rng, evaluate, 20, 500_000, CUSTOM)
    hill_climb(rng, evaluate, best, 20, 500_000, space=CUSTOM)
    hill_climb(rng, evaluate, best, 8, 500_000, neighbours_per_step=4, space=CUSTOM)
    evolution(np.random.RandomState(7), evaluate, 6, 4, 500_000, CUSTOM)
    assert len(evaluated) == 20 + 20 + 8 + 6 * 4
    assert all(uses_only(definition, CUSTOM) for definition in evaluated)
    # Both values of a two-value list do turn up (the lists are drawn from, not just checked).
    sizes = {layer["size"] for d in evaluated for layer in d if "size" in layer}
    assert sizes == {8, 32}
    assert not any(uses_only(d, BOOK_SPACE) for d in evaluated)  # selu is not the book's


def _parents():
    def layers(size):
        return [{"type": "CONV2D", "size": size, "activation": "relu", "kernel": 1, "stride": 4,
                 "dropout": 0.0}] * 2 + [{"type": "DENSE", "size": size, "activation": "relu",
                                          "dropout": 0.0}] * 2  # fmt: skip

    return [Scored(0.5, copy.deepcopy(layers(16))), Scored(0.5, copy.deepcopy(layers(1024)))]


def _mixture(definition) -> int:
    """How many layers come from the less represented parent (sizes 16 and 1024 mark them)."""
    small = sum(layer.get("size") == 16 for layer in definition)
    large = sum(layer.get("size") == 1024 for layer in definition)
    return min(small, large)


@pytest.mark.parametrize(
    ("variation", "crossovers"),
    [(Variation(1.0, 0.0, 0.0), False), (Variation(0.0, 1.0, 0.0), True)],
)
def test_the_variation_probabilities_choose_how_children_are_made(variation, crossovers):
    rng = np.random.RandomState(0)
    children = [child(rng, _parents(), 10**12, 2, BOOK_SPACE, variation) for _ in range(40)]
    if crossovers:  # every child joins one parent's convolutions with the other's dense layers
        assert all(_mixture(definition) >= 2 for definition in children)
    else:  # a tweaked copy of one parent: at most its one changed layer looks like the other's
        assert all(_mixture(definition) <= 1 for definition in children)


def test_selection_fractions_set_how_many_best_are_kept_and_worst_dropped():
    population = [Scored(float(s), [{"id": s}]) for s in np.random.RandomState(0).permutation(100)]
    chosen = survivors(np.random.RandomState(1), population, keep_best=0.1, discard_worst=0.5)
    scores = [member.score for member in chosen]
    assert scores[40:] == [float(s) for s in range(90, 100)]  # the best 10, ascending, last
    assert sorted(scores[:40]) == [float(s) for s in range(50, 90)]  # the whole middle


def test_keeping_the_best_half_makes_evolution_purely_elitist():
    seen: list[float] = []

    def evaluate(definitions, phase):
        scores = [
            float(s) for s in np.random.RandomState(len(seen)).random_sample(len(definitions))
        ]
        seen.extend(scores)
        return scores

    variation = Variation(keep_best=0.5, discard_worst=0.5)
    population = evolution(np.random.RandomState(7), evaluate, 6, 4, 500_000, BOOK_SPACE, variation)
    assert sorted(member.score for member in population) == sorted(seen)[-6:]


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ({"layer_sizes": []}, r"layer_sizes must be a non-empty list of distinct whole numbers"),
        ({"layer_sizes": [16, 0]}, r"layer_sizes must be .* >= 1"),
        ({"layer_sizes": [16, 16]}, r"layer_sizes must be a non-empty list of distinct"),
        ({"activations": ["swish"]}, r"activations must be .* names from relu, tanh"),
        ({"kernel_sizes": 3}, r"kernel_sizes must be a non-empty list"),
        ({"strides": [1.5]}, r"strides must be .* whole numbers"),
        ({"dropout_rates": [0.0, 1.0]}, r"dropout_rates must be .* in \[0, 1\)"),
        ({"tweak_probability": 0.6}, r"must add up to 1, got 1\.1"),
        ({"crossover_probability": -0.1}, r"crossover_probability must be a number in \[0, 1\]"),
        ({"keep_best_fraction": 0.6}, r"keep_best_fraction must be a number in \[0, 0\.5\]"),
        ({"discard_worst_fraction": True}, r"discard_worst_fraction must be a number"),
        ({"layer_sizes": [4096], "max_model_size": 50_000}, r"max_model_size=50000 .* smallest"),
    ],
)
def test_bad_search_space_and_evolution_options_are_refused(option, message):
    with pytest.raises(ConfigError, match=message):
        parse_options(option)


def test_the_activations_are_those_model_cnn_builds():
    from ldl.models.cnn import ACTIVATIONS

    assert CNN_ACTIVATIONS == ACTIVATIONS


def test_a_resumed_search_compares_the_lists_as_its_state_file_stores_them():
    settings = SearchOptions().settings()
    assert json.loads(json.dumps(settings)) == settings
    assert settings["layer_sizes"] == [16, 64, 256, 1024, 4096]


def test_a_bad_list_on_the_command_line_is_refused_before_the_sweep_starts(tmp_path):
    result = run_ldl(
        "train", "-m", "hparams_search=c17e4", "hydra.sweeper.dropout_rates=[0.5,1.5]",
        f"hydra.sweep.dir={tmp_path / 'search'}", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "hydra.sweeper.dropout_rates must be a non-empty list" in result.stderr
    assert not (tmp_path / "search").exists()


@pytest.mark.slow
def test_a_whole_search_trains_only_candidates_from_the_given_lists(tmp_path):
    write_cifar10_npz(tmp_path, n_train=60, n_test=20)
    result = run_ldl(
        "train", "-m", "hparams_search=c17e4", f"data_dir={tmp_path}",
        "hydra.sweeper.candidate_evaluations=3", "hydra.sweeper.hill_climb_steps=2",
        "hydra.sweeper.eval_epochs=1", "hydra.sweeper.final_epochs=0",
        "hydra.sweeper.max_model_size=30000", "hydra.sweeper.layer_sizes=[8,12]",
        "hydra.sweeper.activations=[selu]", "hydra.sweeper.dropout_rates=[0.0]",
        "trainer.verbose=0", f"output_root={tmp_path}", f"hydra.sweep.dir={tmp_path / 'search'}",
        cwd=tmp_path, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    state = json.loads((tmp_path / "search" / "search_state.json").read_text())
    tokens = [token for candidate in state["candidates"] for token in candidate["layers"]]
    assert len(state["candidates"]) == 5
    for token in tokens:
        if token.startswith(("C", "F")):
            assert token.split("-")[0][1:] in ("8", "12") and "-selu" in token, token
        assert not token.startswith("D"), token  # dropout 0 adds no Dropout layer
    assert state["layer_sizes"] == [8, 12]
