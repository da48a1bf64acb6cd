"""`ldl doctor`: the machine's report, and its verdict on the default experiment."""

from __future__ import annotations

from ldl.cli.doctor_command import datasets, found_files, run_doctor


def test_doctor_finds_mnist_and_says_the_default_experiment_can_run(mnist_dir, capsys):
    assert run_doctor([f"data_dir={mnist_dir}"]) == 0
    report = capsys.readouterr().out
    assert "TensorFlow 2." in report and "Keras 3." in report
    assert "MNIST                  found: mnist/train-images-idx3-ubyte.gz" in report
    assert "missing: glove.6B.100d.txt" in report
    assert "basic (default)        usable" in report
    assert "multi_worker is refused" in report
    assert "The default experiment (c5e2) can run" in report


def test_doctor_fails_when_the_default_experiment_cannot_run(tmp_path, capsys):
    assert run_doctor([f"data_dir={tmp_path}"]) == 1
    assert "The default experiment (c5e2) cannot run: MNIST is not in" in capsys.readouterr().out


def test_each_accepted_layout_of_a_dataset_is_recognised(tmp_path):
    boston = next(d for d in datasets() if d.name == "Boston Housing")
    assert found_files(tmp_path, boston) is None
    (tmp_path / "housing.data").write_text("0\n")
    assert found_files(tmp_path, boston) == ("housing.data",)
    mnist = next(d for d in datasets() if d.name == "MNIST")
    (tmp_path / "mnist.npz").write_bytes(b"")
    assert found_files(tmp_path, mnist) == ("mnist.npz",)
