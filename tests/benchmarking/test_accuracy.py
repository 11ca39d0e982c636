import pytest

from ov_movement.benchmarking.accuracy import evaluate_models, predict
from ov_movement.errors import StageError
from tests.tiny import IR_SEQ, ir_inputs, tiny_irs


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    return tiny_irs(tmp_path_factory)


def test_batching_does_not_change_predictions(models):
    inputs = ir_inputs(7)
    ir = predict(models["dense"], inputs, batch_size=3)  # 3 + 3 + 1: a short last batch
    onnx = predict(models["onnx"], inputs, batch_size=7)
    assert ir.shape == (7,) and (ir == onnx).all()


def test_evaluate_reports_accuracy_and_agreement(models):
    inputs = ir_inputs(9)
    labels = predict(models["dense"], inputs)
    results = evaluate_models(
        {"dense": models["dense"], "pruned": models["pruned"]}, inputs, labels, batch_size=4
    )
    assert results["dense"]["accuracy"] == 1.0 and results["dense"]["samples"] == 9
    assert results["pruned"]["agreement_with"] == "dense"
    assert results["pruned"]["agreement"] == results["pruned"]["accuracy"]  # labels are dense's predictions
    assert "f1" in results["dense"] or len(set(labels)) > 2


def test_static_batch_model_is_padded(models, tmp_path):
    import openvino as ov

    model = ov.Core().read_model(str(models["dense"]))
    model.reshape({name: [4, IR_SEQ] for name in ("input_ids", "attention_mask", "token_type_ids")})
    ov.save_model(model, str(tmp_path / "static.xml"))
    inputs = ir_inputs(10)
    assert (predict(tmp_path / "static.xml", inputs) == predict(models["dense"], inputs)).all()


def test_static_sequence_mismatch_is_explained(models, tmp_path):
    import openvino as ov

    model = ov.Core().read_model(str(models["dense"]))
    model.reshape({name: [1, IR_SEQ * 2] for name in ("input_ids", "attention_mask", "token_type_ids")})
    ov.save_model(model, str(tmp_path / "static.xml"))
    with pytest.raises(StageError, match="max_seq_length"):
        predict(tmp_path / "static.xml", ir_inputs(2))


def test_missing_input_is_named(models):
    inputs = ir_inputs(2)
    del inputs["token_type_ids"]
    with pytest.raises(StageError, match="token_type_ids"):
        predict(models["dense"], inputs)
