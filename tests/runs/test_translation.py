"""Chapters 14-15: the Anki pairs dataset, the seq2seq and Transformer translators, decoding, BLEU.

Everything runs on a tiny generated fra.txt and tiny models; the real-data runs are in
docs/translation.md.
"""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest
from fixtures import data_config as anki_config_of
from helpers import compose_config
from translation_fixtures import write_fra_txt

from ldl.cli.main import main
from ldl.decoding import beam_decode, corpus_bleu, greedy_decode
from ldl.errors import ConfigError, DataError
from ldl.tasks.translation.data import prepare_anki_fra_eng, split_rows
from ldl.tasks.translation.seq2seq import build_seq2seq
from ldl.tasks.translation.transformer import build_transformer, sinusoidal_table
from ldl.tasks.translation.translate import TranslationVocabulary, stepper_for, translate
from ldl.training.train import train

VOCABULARY = 40  # ids 0 PAD, 1 UNK, 2..37 words, 38 START, 39 STOP
START, STOP = VOCABULARY - 2, VOCABULARY - 1


def data_config(**overrides):
    config = anki_config_of(
        "anki_fra_eng",
        max_words=VOCABULARY,
        sample_size=5,
        report={"decoding": "greedy", "beam_width": 4, "bleu_examples": None, "examples": 3},
    )
    return {**config, **overrides}


def tiny_seq2seq(seed: int = 0, **options) -> keras.Model:
    keras.utils.set_random_seed(seed)
    return build_seq2seq(VOCABULARY, VOCABULARY, embedding_dim=8, layer_size=16, **options)


def tiny_transformer(seed: int = 0, **options) -> keras.Model:
    keras.utils.set_random_seed(seed)
    settings = {"d_model": 16, "num_heads": 2, "ffn_dim": 32, "dropout": 0.0, **options}
    return build_transformer(VOCABULARY, VOCABULARY, **settings)


MODELS = {
    "seq2seq": tiny_seq2seq,
    "transformer": tiny_transformer,
    # chapters 14-15 options of the LSTM encoder-decoder
    "seq2seq_dot": lambda seed=0: tiny_seq2seq(seed, attention="dot"),
    "seq2seq_general": lambda seed=0: tiny_seq2seq(seed, attention="general"),
    "seq2seq_additive_bidirectional": lambda seed=0: tiny_seq2seq(
        seed, attention="additive", bidirectional_encoder=True
    ),
    "seq2seq_bidirectional": lambda seed=0: tiny_seq2seq(seed, bidirectional_encoder=True),
    "seq2seq_input_feeding": lambda seed=0: tiny_seq2seq(
        seed, attention="general", input_feeding=True
    ),
    "seq2seq_state_every_step": lambda seed=0: tiny_seq2seq(seed, state_every_step=True),
    "seq2seq_bahdanau": lambda seed=0: tiny_seq2seq(
        seed, attention="additive", attention_query="previous_state"
    ),
}
# The quick suite (-m "not slow") checks the two architectures and one attention variant; the full
# suite checks every family.
FAMILIES = [
    pytest.param(name, marks=[] if name == "seq2seq" else [pytest.mark.slow])
    for name in sorted(MODELS)
]


# --- Data ----------------------------------------------------------------------------------------


def test_pairs_are_tokenized_numbered_and_padded_as_the_book_does(tmp_path):
    pairs = write_fra_txt(tmp_path, count=50)
    data = prepare_anki_fra_eng(data_config(), tmp_path)
    source, decoder_input = data.x_train
    target_words = data.metadata["target_vocabulary"]
    assert target_words[:2] == ["PAD", "UNK"] and target_words[-2:] == ["START", "STOP"]
    assert len(target_words) == len(data.metadata["source_vocabulary"]) == VOCABULARY
    assert (decoder_input[:, 0] == START).all()
    # decoder target = decoder input shifted left by one; STOP stays at the end of the input
    assert (data.y_train[:, :-1] == decoder_input[:, 1:]).all()
    for row_in, row_out in zip(decoder_input, data.y_train, strict=True):
        words = row_in[row_in != 0]
        assert words[-1] == STOP and (row_out[row_out != 0][-1] == STOP)
    # pre-padded source: zeros only before the words
    for row in source:
        first = np.flatnonzero(row)[0]
        assert (row[:first] == 0).all() and (row[first:] != 0).all()
    # French is the source: the narrow no-break space before "!" stays glued to the word (docs/book-conventions.md, text utilities)
    assert any(word.endswith("\u202f") for word in data.metadata["source_vocabulary"])
    assert data.statistics["pairs"] == len(pairs) == 50
    assert data.statistics["test_pairs"] == 10 and len(data.y_train) == 40
    assert data.model_input_shape == ((source.shape[1],), (decoder_input.shape[1],))


def test_the_attribution_column_changes_nothing(tmp_path):
    write_fra_txt(tmp_path / "three", count=40, attribution=True)
    write_fra_txt(tmp_path / "two", count=40, attribution=False)
    three = prepare_anki_fra_eng(data_config(), tmp_path / "three")
    two = prepare_anki_fra_eng(data_config(), tmp_path / "two")
    for a, b in zip(three.x_test, two.x_test, strict=True):
        np.testing.assert_array_equal(a, b)
    assert three.metadata == two.metadata


def test_post_padding_read_lines_and_reversed_source(tmp_path):
    write_fra_txt(tmp_path, count=60)
    data = prepare_anki_fra_eng(
        data_config(src_padding="post", read_lines=30, reverse_source=True), tmp_path
    )
    assert data.statistics["pairs"] == 30
    for row in data.x_train[0]:
        last = np.flatnonzero(row)[-1]
        assert (row[last + 1 :] == 0).all() and (row[: last + 1] != 0).all()
    plain = prepare_anki_fra_eng(data_config(src_padding="post", read_lines=30), tmp_path)
    row, reversed_row = plain.x_train[0][0], data.x_train[0][0]
    np.testing.assert_array_equal(reversed_row[row != 0], row[row != 0][::-1])


def test_the_test_split_is_seeded_and_the_same_for_every_model():
    train_a, test_a = split_rows(60000, 0.2, seed=0)
    _, test_b = split_rows(60000, 0.2, seed=0)
    assert len(test_a) == 12000 and len(train_a) == 48000
    np.testing.assert_array_equal(test_a, test_b)
    assert (np.diff(train_a) > 0).all()  # training rows in file order
    assert not np.array_equal(split_rows(60000, 0.2, seed=1)[1], test_a)
    assert set(test_a).isdisjoint(train_a)


def test_a_missing_file_names_the_file_and_data_dir(tmp_path):
    with pytest.raises(DataError, match=r"fra\.txt.*data_dir=.*") as error:
        prepare_anki_fra_eng(data_config(), tmp_path)
    assert "download_sha256" in str(error.value)


def test_a_line_without_tab_is_a_clear_error(tmp_path):
    (tmp_path / "fra.txt").write_text("Go.\tVa !\nbroken line\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"Line 2 .* no TAB"):
        prepare_anki_fra_eng(data_config(), tmp_path)


def test_bad_options_are_rejected(tmp_path):
    write_fra_txt(tmp_path, count=20)
    with pytest.raises(ConfigError, match="src_padding"):
        prepare_anki_fra_eng(data_config(src_padding="middle"), tmp_path)
    with pytest.raises(ConfigError, match="test_fraction"):
        prepare_anki_fra_eng(data_config(test_fraction=1.5), tmp_path)


# --- Models --------------------------------------------------------------------------------------


def test_full_size_parameter_counts_match_the_spec():
    assert build_seq2seq(10000, 10000).count_params() == 6_969_104
    assert build_transformer(10000, 10000).count_params() == 4_512_528


def test_sinusoidal_table_follows_the_formula():
    table = sinusoidal_table(60, 128)
    position, i = 7, 10
    assert table[position, i] == pytest.approx(np.sin(position / 10000 ** (i / 128)), abs=1e-6)
    assert table[position, i + 1] == pytest.approx(np.cos(position / 10000 ** (i / 128)), abs=1e-6)


SOURCE = np.array([[5, 6, 7, 8]], dtype=np.int32)
DECODER = np.array([[START, 9, 10, 11, STOP]], dtype=np.int32)


@pytest.mark.parametrize("family", FAMILIES)
def test_padding_never_changes_the_output_at_unpadded_positions(family):
    model = MODELS[family]()
    reference = np.asarray(model([SOURCE, DECODER]))
    padded_source = np.pad(SOURCE, ((0, 0), (3, 0)))  # pre-padding, as in training
    padded_decoder = np.pad(DECODER, ((0, 0), (0, 4)))  # post-padding, as in training
    padded = np.asarray(model([padded_source, padded_decoder]))
    np.testing.assert_allclose(padded[:, : DECODER.shape[1]], reference, atol=1e-5)
    # next to a longer sentence in one batch (as in training), the row is still the same
    longer_source = np.array([[2, 3, 4, 5, 6, 7, 8]], dtype=np.int32)
    longer_decoder = np.array([[START, 12, 13, 14, 15, 16, 17, 18, STOP]], dtype=np.int32)
    batch = np.asarray(
        model(
            [
                np.concatenate([longer_source, padded_source]),
                np.concatenate([longer_decoder, padded_decoder]),
            ]
        )
    )
    np.testing.assert_allclose(batch[1, : DECODER.shape[1]], reference[0], atol=1e-5)


def test_without_padding_masks_the_transformer_sees_padding_like_the_books_code():
    model = tiny_transformer(padding_mask=False)
    reference = np.asarray(model([SOURCE, DECODER]))
    padded = np.asarray(model([np.pad(SOURCE, ((0, 0), (3, 0))), DECODER]))
    assert np.abs(padded - reference).max() > 1e-4
    assert getattr(model.outputs[0], "_keras_mask", None) is None


@pytest.mark.parametrize("family", FAMILIES)
def test_step_by_step_decoding_reproduces_the_training_model(family):
    """The stepper (encoder once, one token per step) gives the teacher-forced model's outputs."""
    model = MODELS[family](seed=2)
    source = np.pad(SOURCE, ((0, 0), (2, 0)))
    reference = np.asarray(model([source, DECODER]))
    stepper = stepper_for(model)
    state = stepper.start(source)
    for position in range(DECODER.shape[1]):
        probabilities, state = stepper.step(state, DECODER[:, : position + 1])
        np.testing.assert_allclose(probabilities, reference[:, position], atol=1e-5)


@pytest.mark.parametrize("family", FAMILIES)
def test_loss_and_accuracy_count_the_unpadded_target_positions_only(family):
    """The decoder mask reaches the loss whatever layers sit between the embedding and the softmax."""
    model = MODELS[family](seed=6)
    model.compile(loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    source = np.array([[0, 0, 5, 6, 7], [8, 9, 10, 11, 12]], dtype=np.int32)
    decoder = np.array([[START, 9, 10, STOP, 0, 0], [START, 12, 13, 14, 15, STOP]], dtype=np.int32)
    targets = np.array([[9, 10, STOP, 0, 0, 0], [12, 13, 14, 15, STOP, 0]], dtype=np.int32)
    logs = model.evaluate([source, decoder], targets, verbose=0, return_dict=True)
    probabilities = np.asarray(model([source, decoder]))
    counted = decoder != 0
    picked = np.take_along_axis(probabilities, targets[..., None], axis=-1)[..., 0]
    assert logs["loss"] == pytest.approx(float(-np.log(picked[counted]).mean()), rel=1e-4)
    correct = probabilities.argmax(-1) == targets
    assert logs["accuracy"] == pytest.approx(float(correct[counted].mean()), abs=1e-6)


@pytest.mark.slow
def test_attention_and_bidirectional_encoder_add_their_layers():
    plain = tiny_seq2seq().count_params()
    size = 16
    combine = 2 * size * size + size  # tanh(W_c [context; h] + b)
    assert tiny_seq2seq(attention="dot").count_params() == plain + combine
    assert tiny_seq2seq(attention="general").count_params() == plain + combine + size * size
    additive = tiny_seq2seq(attention="additive").count_params()
    assert additive == plain + combine + 2 * size * size + size  # W1, W2 and v
    # two directions of 8 units each instead of one of 16
    bidirectional = tiny_seq2seq(bidirectional_encoder=True)
    assert bidirectional.get_layer("encoder_lstm_0").forward_layer.units == size // 2
    # input feeding / Bahdanau's query: the first decoder layer also reads a layer_size vector
    fed = size * 4 * size  # the LSTM's 4 gates' extra input weights
    assert tiny_seq2seq(attention="dot", input_feeding=True).count_params() == plain + combine + fed
    bahdanau = tiny_seq2seq(attention="additive", attention_query="previous_state")
    assert bahdanau.count_params() == additive + fed
    with pytest.raises(ConfigError, match=r"model\.attention"):
        tiny_seq2seq(attention="luong")
    # the encoder state next to every input: the first decoder layer reads layer_size more inputs
    assert tiny_seq2seq(state_every_step=True).count_params() == plain + fed
    with pytest.raises(ConfigError, match="state_every_step"):
        tiny_seq2seq(attention="dot", input_feeding=True, state_every_step=True)
    with pytest.raises(ConfigError, match="need attention"):
        tiny_seq2seq(input_feeding=True)
    with pytest.raises(ConfigError, match="even"):
        build_seq2seq(VOCABULARY, VOCABULARY, layer_size=15, bidirectional_encoder=True)


@pytest.mark.parametrize("family", FAMILIES)
def test_the_decoder_cannot_see_future_tokens(family):
    model = MODELS[family]()
    reference = np.asarray(model([SOURCE, DECODER]))
    changed = DECODER.copy()
    changed[0, 3:] = [20, 21]
    outputs = np.asarray(model([SOURCE, changed]))
    np.testing.assert_allclose(outputs[:, :3], reference[:, :3], atol=1e-6)
    assert np.abs(outputs[:, 3:] - reference[:, 3:]).max() > 1e-6


@pytest.mark.parametrize("family", FAMILIES)
def test_beam_width_one_is_greedy_and_beams_are_ranked(family):
    model = MODELS[family](seed=3)
    stepper = stepper_for(model)
    sources = np.array([[0, 5, 6, 7], [8, 9, 10, 11], [0, 0, 12, 13]], dtype=np.int32)
    for row in sources:
        greedy = greedy_decode(stepper, row[None, :], START, STOP, max_steps=8)[0]
        beam = beam_decode(stepper, row, START, STOP, max_steps=8, beam_width=1)
        assert list(beam[0].ids) == greedy
        wide = beam_decode(stepper, row, START, STOP, max_steps=8, beam_width=3)
        scores = [h.log_probability for h in wide]
        assert scores == sorted(scores, reverse=True) and len(wide) <= 3
    # batched greedy equals one row at a time
    batched = greedy_decode(stepper, sources, START, STOP, max_steps=8)
    assert batched == [greedy_decode(stepper, r[None, :], START, STOP, 8)[0] for r in sources]


@pytest.mark.parametrize("family", FAMILIES)
def test_save_load_gives_identical_translations(family, tmp_path):
    model = MODELS[family](seed=5)
    words = [f"w{i}" for i in range(2, VOCABULARY - 2)]
    vocabulary = TranslationVocabulary(
        source_tokens=["PAD", "UNK", *words, "START", "STOP"],
        target_tokens=["PAD", "UNK", *words, "START", "STOP"],
        source_length=6,
        max_length=8,
    )
    sentences = ["w5 w6 w7", "w12 w3", "w30 nothing w2 w9"]
    before = {d: translate(model, vocabulary, sentences, d, 3) for d in ("greedy", "beam")}
    model.save(tmp_path / "model.keras")
    reloaded = keras.saving.load_model(tmp_path / "model.keras")
    after = {d: translate(reloaded, vocabulary, sentences, d, 3) for d in ("greedy", "beam")}
    assert before == after
    assert all(isinstance(text, str) for text in before["greedy"])


OVERFIT_SOURCE = np.array([[0, 5, 6, 7], [0, 0, 8, 9], [10, 11, 12, 13], [0, 0, 14, 6]], "int32")
OVERFIT_INPUT = np.array(
    [
        [START, 20, 21, STOP, 0],
        [START, 22, STOP, 0, 0],
        [START, 23, 21, 24, STOP],
        [START, 20, 25, STOP, 0],
    ],
    "int32",
)
OVERFIT_TARGET = np.concatenate([OVERFIT_INPUT[:, 1:], np.zeros((4, 1), "int32")], axis=1)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("family", "learning_rate", "epochs"),
    [
        ("seq2seq", 0.01, 15),
        ("transformer", 0.003, 15),
        ("seq2seq_dot", 0.01, 15),
        ("seq2seq_input_feeding", 0.01, 15),
    ],
)
def test_a_handful_of_pairs_is_learned_to_full_token_accuracy(family, learning_rate, epochs):
    """The book's debugging advice (chapter 14): first overfit four short sentences (150 steps:
    the four pairs are repeated 10 times per epoch, which saves fit()'s per-epoch overhead)."""
    model = MODELS[family](seed=1)
    model.compile(
        optimizer=keras.optimizers.RMSprop(learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    repeat = (10, 1)
    model.fit(
        [np.tile(OVERFIT_SOURCE, repeat), np.tile(OVERFIT_INPUT, repeat)],
        np.tile(OVERFIT_TARGET, repeat),
        epochs=epochs,
        verbose=0,
        batch_size=4,
    )
    logs = model.evaluate(
        [OVERFIT_SOURCE, OVERFIT_INPUT], OVERFIT_TARGET, verbose=0, return_dict=True
    )
    assert logs["accuracy"] == 1.0
    translated = greedy_decode(stepper_for(model), OVERFIT_SOURCE, START, STOP, max_steps=8)
    expected = [[t for t in row[1:] if t not in (0, STOP)] for row in OVERFIT_INPUT]
    assert translated == expected


def test_corpus_bleu_comes_from_sacrebleu():
    score, signature = corpus_bleu(["i am tired", "we have a dog"], ["i am tired", "we have a dog"])
    assert score == pytest.approx(100.0) and "nrefs:1" in signature
    low, _ = corpus_bleu(["a b c d"], ["w x y z"])
    assert low == pytest.approx(0.0)


# --- End to end: both experiments, the report and `ldl translate` -------------------------------

QUICK = (
    "trainer.seed=0",
    "trainer.verbose=0",
    "logger=none",
    "trainer.epochs=1",
    "data.max_words=40",
    "data.sample_size=4",
)
SIZES = {
    "c14e1": ("model.embedding_dim=8", "model.layer_size=16"),
    "c15_transformer": ("model.d_model=16", "model.num_heads=2", "model.ffn_dim=32"),
}


@pytest.fixture(scope="module")
def translation_runs(tmp_path_factory):
    data = tmp_path_factory.mktemp("fra_data")
    write_fra_txt(data, count=120)
    root = tmp_path_factory.mktemp("fra_runs")
    runs = {}
    for name, sizes in SIZES.items():
        cfg = compose_config(
            f"experiment={name}",
            f"data_dir={data}",
            f"run_dir={root / name}",
            f"output_root={root}",
            *QUICK,
            *sizes,
        )
        runs[name] = (root / name, train(cfg))
    return runs


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(SIZES))
def test_training_reports_bleu_token_accuracy_and_examples(name, translation_runs):
    run, metrics = translation_runs[name]
    assert metrics["status"] == "completed"
    assert metrics["test/bleu_sentences"] == 24
    assert 0.0 <= metrics["test/bleu"] <= 100.0 and 0.0 <= metrics["test/token_accuracy"] <= 1.0
    assert "nrefs:1" in metrics["bleu_signature"]
    examples = metrics["translation_examples"]
    assert len(examples) == 20 and set(examples[0]) == {"source", "target", "prediction"}
    saved = json.loads((run / "metrics.json").read_text())
    assert saved["test/bleu"] == metrics["test/bleu"]
    text = (run / "translations.txt").read_text()
    assert (
        "Sample translations after epoch 1" in text and "Test translations after training" in text
    )
    assert list((run / "tensorboard").glob("events.*"))
    assert len(json.loads((run / "data.json").read_text())["samples"]) == 4


@pytest.mark.slow
def test_ldl_translate_prints_greedy_and_beam_translations(translation_runs, capsys):
    run, _ = translation_runs["c15_transformer"]
    assert main(["translate", f"run={run}", "je suis fatigué .", "nous avons un chien"]) == 0
    greedy = capsys.readouterr().out
    assert "greedy" in greedy and "je suis fatigué . -> " in greedy
    assert (
        main(["translate", f"run={run}", "je suis fatigué .", "decoding=beam", "beam_width=1"]) == 0
    )
    beam = capsys.readouterr().out
    assert "width 1" in beam
    assert greedy.splitlines()[1] == beam.splitlines()[1]  # width 1 == greedy


@pytest.mark.slow
def test_ldl_translate_needs_a_sentence_and_a_translation_run(translation_runs, capsys):
    run, _ = translation_runs["c14e1"]
    assert main(["translate", f"run={run}"]) == 2
    assert "what should be translated" in capsys.readouterr().err


def test_a_holdout_validation_split_keeps_the_inputs_together(tmp_path):
    from ldl.data.datasets import prepare_data

    write_fra_txt(tmp_path, count=50)
    data = prepare_data(data_config(), tmp_path, validation="holdout", validation_fraction=0.25)
    (source, decoder_input), (val_source, val_decoder_input) = data.x_train, data.x_val
    assert len(source) == len(decoder_input) == len(data.y_train) == 30
    assert len(val_source) == len(val_decoder_input) == len(data.y_val) == 10
    assert (data.y_val[:, :-1] == val_decoder_input[:, 1:]).all()  # rows still belong together
    assert len(data.y_test) == 10


@pytest.mark.real_data
def test_the_real_pairs_give_the_books_lengths(real_data_dir):
    """The book prints a source length of 14 and a destination length of 10 (chapter 14)."""
    if not (real_data_dir / "fra.txt").exists():
        pytest.skip("fra.txt is not in the real data folder")
    data = prepare_anki_fra_eng(data_config(max_words=10000), real_data_dir)
    assert data.metadata["source_length"] == 14 and data.metadata["target_length"] == 10
    assert (data.statistics["train_pairs"], data.statistics["test_pairs"]) == (48000, 12000)
    assert data.metadata["target_vocabulary"][9998:] == ["START", "STOP"]


@pytest.mark.slow
def test_a_crashed_transformer_run_resumes_to_the_uninterrupted_result(make_config, tmp_path):
    """The checkpoint holds the custom Transformer layers; resuming reloads them."""
    data = tmp_path / "data"
    write_fra_txt(data, count=60)
    overrides = (
        "experiment=c15_transformer",
        f"data_dir={data}",
        *QUICK,
        *SIZES["c15_transformer"],
        "trainer.epochs=2",
        "trainer.checkpoint_seconds=0",  # a checkpoint after epoch 1 to resume from
        "callbacks.sample_translations=null",
        "data.report.examples=0",
    )
    whole = train(make_config(*overrides, run_dir=tmp_path / "whole"))
    crash = "+callbacks.crash={_target_: crash_callbacks.CrashAfterEpoch, epoch: 1}"
    with pytest.raises(RuntimeError, match="simulated crash"):
        train(make_config(*overrides, crash, run_dir=tmp_path / "crashed"))
    resumed = train(make_config(*overrides, crash, run_dir=tmp_path / "crashed"))
    assert resumed["epochs_completed"] == 2
    for key in ("test/loss", "test/token_accuracy", "test/bleu"):
        assert resumed[key] == pytest.approx(whole[key], abs=1e-6), key


# --- Chapter 14 options: de-duplicated pairs, the encoder state as a sentence embedding -----------


def test_dedupe_pairs_drops_repeated_pairs_only(tmp_path):
    from ldl.tasks.translation.data import drop_duplicate_pairs, read_pairs

    write_fra_txt(tmp_path, count=120)
    pairs = read_pairs(data_config(), tmp_path)
    unique, dropped = drop_duplicate_pairs(pairs)
    keys = list(zip(map(tuple, pairs.source), map(tuple, pairs.destination), strict=True))
    assert dropped == len(keys) - len(set(keys)) > 0
    assert list(
        zip(map(tuple, unique.source), map(tuple, unique.destination), strict=True)
    ) == list(dict.fromkeys(keys))  # first occurrences, in file order
    kept = prepare_anki_fra_eng(data_config(), tmp_path).statistics
    deduped = prepare_anki_fra_eng(data_config(dedupe_pairs=True), tmp_path).statistics
    assert kept["pairs"] == 120 and kept["duplicate_pairs_dropped"] == 0
    assert deduped["pairs"] == 120 - dropped and deduped["duplicate_pairs_dropped"] == dropped


@pytest.mark.parametrize("bidirectional", [False, True])
def test_sentence_embeddings_are_the_encoders_final_state(bidirectional):
    from ldl.tasks.translation.translate import most_similar, sentence_embeddings

    model = tiny_seq2seq(seed=4, bidirectional_encoder=bidirectional)
    words = [f"w{i}" for i in range(2, VOCABULARY - 2)]
    vocabulary = TranslationVocabulary(
        source_tokens=["PAD", "UNK", *words, "START", "STOP"],
        target_tokens=["PAD", "UNK", *words, "START", "STOP"],
        source_length=6,
    )
    sentences = ["w5 w6 w7", "w12 w3", "w5 w6 w8"]
    embeddings = sentence_embeddings(model, vocabulary, sentences)
    top = model.get_layer("encoder_lstm_1")
    final_h = [top.output[1], top.output[3]] if bidirectional else [top.output[1]]
    encoder = keras.Model(model.inputs[0], keras.layers.Concatenate()(final_h))
    expected = np.asarray(encoder(vocabulary.encode_sources(sentences)))
    np.testing.assert_allclose(embeddings, expected, atol=1e-6)
    assert embeddings.shape == (3, 16)
    assert [other for other, _ in most_similar(np.array([[1.0, 0], [0, 1], [0.9, 0.1]]))] == [
        2,
        2,
        0,
    ]
    with pytest.raises(ConfigError, match="Transformer"):
        sentence_embeddings(tiny_transformer(), vocabulary, sentences)


@pytest.mark.slow
def test_ldl_translate_exports_sentence_embeddings(translation_runs, tmp_path, capsys):
    run, _ = translation_runs["c14e1"]
    file = tmp_path / "sentences.npy"
    sentences = ["je suis fatigué .", "tu es fatigué .", "nous avons un chien"]
    assert main(["translate", f"run={run}", *sentences, f"embeddings={file}"]) == 0
    out = capsys.readouterr().out
    assert np.load(file).shape == (3, 16) and "cosine" in out
